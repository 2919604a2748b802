/**
 * The Date header line, formatted once per second instead of once per response (nginx and
 * Node do the same). A loop timer refreshes it on each wall-clock second; it is unref'd so it
 * never keeps a loop alive on its own. Several servers share one cache per loop.
 */
import type { Loop } from '../loop/loop.js';
import type { TimerHandle } from '../loop/timer.js';

/** "Date: <IMF-fixdate>\r\n" (RFC 9110 §5.6.7), e.g. "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n". */
export function formatDateLine(ms: number): string {
  return `Date: ${new Date(ms).toUTCString()}\r\n`;
}

/**
 * @example
 * const dates = DateCache.acquire(loop);
 * head += dates.line; // refreshed every second
 * dates.release();
 */
export class DateCache {
  /** The current "Date: …\r\n" line. */
  line: string;
  #loop: Loop;
  #timer: TimerHandle | null = null;
  #users = 0;
  static #byLoop = new WeakMap<Loop, DateCache>();

  private constructor(loop: Loop) {
    this.#loop = loop;
    this.line = formatDateLine(Date.now());
  }

  /** The cache of `loop`, started (one more user). */
  static acquire(loop: Loop): DateCache {
    let c = DateCache.#byLoop.get(loop);
    if (c === undefined) {
      c = new DateCache(loop);
      DateCache.#byLoop.set(loop, c);
    }
    if (c.#users++ === 0) c.#tick();
    return c;
  }

  /** One user less; the timer stops with the last. */
  release(): void {
    if (this.#users === 0) return;
    if (--this.#users === 0) {
      this.#timer?.cancel();
      this.#timer = null;
    }
  }

  #tick = (): void => {
    const now = Date.now();
    this.line = formatDateLine(now);
    if (this.#users === 0 || this.#loop.closed) return;
    // the next wall-clock second boundary (+1 ms so the new second has begun)
    this.#timer = this.#loop.callLater(1001 - (now % 1000), this.#tick);
    this.#timer.unref();
  };
}
