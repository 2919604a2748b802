/**
 * Time sources for the loop, in milliseconds (fractional). The real clock is monotonic
 * (performance.now, i.e. CLOCK_MONOTONIC through libuv's hrtime); the virtual clock only moves
 * when told to, for deterministic tests (asyncio's TestLoop, Deno's FakeTime).
 */
export interface Clock {
  now(): number;
}

export const realClock: Clock = { now: () => performance.now() };

/**
 * A clock that stands still until `advance` or `set` moves it.
 *
 * @example
 * const clock = new VirtualClock();
 * clock.advance(250); // clock.now() === 250
 */
export class VirtualClock implements Clock {
  #now: number;
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock backwards or by NaN (${ms})`);
    this.#now += ms;
  }
  set(ms: number): void {
    if (!(ms >= this.#now)) throw new RangeError(`cannot move a clock backwards (${ms} < ${this.#now})`);
    this.#now = ms;
  }
}
