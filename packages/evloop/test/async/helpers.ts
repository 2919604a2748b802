/** Helpers for driving coroutines on a TestLoop's virtual time. */
import { readdirSync } from 'node:fs';
import type { TestLoop } from '../../src/loop/test-loop.js';

/** Lets every queued promise continuation run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Moves virtual time forward `ms`, one timer deadline at a time, letting promise continuations
 * run between turns (they may arm new timers that are due within the window).
 */
export async function runFor(loop: TestLoop, ms: number): Promise<void> {
  const target = loop.clock.now() + ms;
  for (;;) {
    await flush();
    loop.runUntilIdle();
    await flush();
    const next = loop.nextDeadline();
    if (next === undefined || next > target) break;
    loop.advance(Math.max(0, next - loop.clock.now()));
  }
  loop.advance(target - loop.clock.now());
  await flush();
}

export const openFdCount = (): number => readdirSync('/proc/self/fd').length;

/** The state of a promise right now (after a flush): 'pending', 'fulfilled' or 'rejected'. */
export async function stateOf(p: PromiseLike<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  p.then(() => (state = 'fulfilled'), () => (state = 'rejected'));
  await flush();
  return state;
}
