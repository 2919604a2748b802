/** `sleep`: a promise on the evloop loop's timers (not Node's), cancellable by an AbortSignal. */
import { assertNonNegativeFinite, EvloopError } from '../errors.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import type { TimerHandle } from '../loop/timer.js';
import { toCancelled } from './errors.js';
import { checkSignal, onAbort } from './signal.js';

export interface SleepOptions {
  /** Cancels the sleep: the promise rejects with a CancelledError and the timer is disarmed. */
  signal?: AbortSignal;
  /** The loop whose timer is used; default getDefaultLoop(). */
  loop?: Loop;
}

/**
 * Resolves after `ms` milliseconds of the loop's clock (so a TestLoop's virtual time drives it).
 * The armed timer keeps the loop alive, as any timer does.
 *
 * @example
 * await sleep(100);
 * await sleep(5000, { signal: AbortSignal.timeout(10) }); // rejects with CancelledError
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  assertNonNegativeFinite('ms', ms);
  return wait((loop, cb) => loop.callLater(ms, cb), options);
}

/**
 * Resolves when the loop's clock reaches `at` (same scale as `loop.now()`).
 * @example await sleepUntil(loop.now() + 50, { loop });
 */
export function sleepUntil(at: number, options: SleepOptions = {}): Promise<void> {
  if (typeof at !== 'number' || Number.isNaN(at)) throw new EvloopError('ERR_INVALID_ARG', `at must be a number, got ${String(at)}`);
  return wait((loop, cb) => loop.callAt(at, cb), options);
}

function wait(arm: (loop: Loop, cb: () => void) => TimerHandle, options: SleepOptions): Promise<void> {
  const { signal } = options;
  checkSignal(signal);
  if (signal?.aborted) return Promise.reject(toCancelled(signal.reason));
  const loop = options.loop ?? getDefaultLoop();
  return new Promise<void>((resolve, reject) => {
    const timer = arm(loop, () => {
      stop();
      resolve();
    });
    const stop = onAbort(signal, (reason) => {
      timer.cancel();
      reject(toCancelled(reason));
    });
  });
}
