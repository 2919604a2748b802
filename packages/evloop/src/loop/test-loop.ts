/**
 * A loop on virtual time and a fake poller, driven by the test (asyncio's TestLoop, Deno's
 * FakeTime): nothing sleeps, nothing depends on the machine's speed.
 *
 * @example
 * const loop = new TestLoop();
 * const fired: number[] = [];
 * loop.callLater(100, () => fired.push(loop.now()));
 * loop.advance(100); // fired = [100]
 */
import { VirtualClock } from './clock.js';
import { FakePoller } from './fake-poller.js';
import { Loop, type LoopOptions } from './loop.js';

export class TestLoop extends Loop {
  declare readonly clock: VirtualClock;
  declare readonly poller: FakePoller;

  constructor(options: Omit<LoopOptions, 'poller' | 'clock' | 'host'> = {}) {
    const clock = new VirtualClock();
    super({ ...options, clock, poller: new FakePoller(clock), host: 'none' });
  }

  /** Runs turns until virtual time has moved `ms` forward, firing everything due on the way. */
  advance(ms: number): void {
    const target = this.clock.now() + ms;
    for (;;) {
      const next = this.nextDeadline();
      if (this.hasImmediateWork || (next !== undefined && next <= this.clock.now())) {
        this.runOnce(0);
        continue;
      }
      if (next === undefined || next > target) break;
      this.runOnce(next - this.clock.now()); // the fake wait moves the clock to the deadline
      // ...unless it did not wait: an fd was ready, or only unref'd handles are left (the loop
      // then polls with timeout 0, as libuv does). Move the clock on, or this never ends.
      if (this.clock.now() < next) this.clock.set(next);
    }
    if (this.clock.now() < target) this.clock.set(target);
    this.runOnce(0);
  }

  /** Runs turns until nothing is queued and no timer is due now. */
  runUntilIdle(maxTurns = 10_000): void {
    for (let i = 0; i < maxTurns; i++) {
      const next = this.nextDeadline();
      if (!this.hasImmediateWork && !(next !== undefined && next <= this.clock.now())) {
        this.runOnce(0);
        return;
      }
      this.runOnce(0);
    }
  }
}
