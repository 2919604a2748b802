/**
 * `timeout(ms, fn)` / `deadline(at, fn)`: run `fn(signal)` with a time limit. When the limit
 * passes, `signal` is aborted (the inner work is cancelled) and, once the work has stopped, a
 * TimeoutError is thrown — only if the work ended with that cancellation (asyncio.timeout's rule).
 * Work that ignores its signal runs to completion and its result is returned.
 */
import { assertNonNegativeFinite, EvloopError } from '../errors.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import type { TimerHandle } from '../loop/timer.js';
import { CancelledError, isCancelled, TimeoutError } from './errors.js';
import { checkSignal, linkSignal } from './signal.js';

export interface TimeoutOptions {
  /** An outer signal: its cancellation passes through as a CancelledError (not a timeout). */
  signal?: AbortSignal;
  /** The loop whose timer measures the limit; default getDefaultLoop(). */
  loop?: Loop;
}

/**
 * @example
 * const data = await timeout(500, (signal) => reader.read({ signal }));
 * // throws TimeoutError (code ERR_TIMEOUT) after 500 ms, having cancelled the read
 */
export function timeout<T>(ms: number, fn: (signal: AbortSignal) => T | PromiseLike<T>, options: TimeoutOptions = {}): Promise<T> {
  assertNonNegativeFinite('ms', ms);
  return limited((loop, cb) => loop.callLater(ms, cb), `timed out after ${ms} ms`, ms, fn, options);
}

/**
 * Like `timeout`, with an absolute deadline on the loop's clock (`loop.now()` scale).
 * @example await deadline(loop.now() + 1000, (signal) => work(signal), { loop });
 */
export function deadline<T>(at: number, fn: (signal: AbortSignal) => T | PromiseLike<T>, options: TimeoutOptions = {}): Promise<T> {
  if (typeof at !== 'number' || Number.isNaN(at)) throw new EvloopError('ERR_INVALID_ARG', `at must be a number, got ${String(at)}`);
  return limited((loop, cb) => loop.callAt(at, cb), `deadline ${at} passed`, undefined, fn, options);
}

async function limited<T>(
  arm: (loop: Loop, cb: () => void) => TimerHandle,
  message: string,
  ms: number | undefined,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  options: TimeoutOptions,
): Promise<T> {
  if (typeof fn !== 'function') throw new EvloopError('ERR_INVALID_ARG', `fn must be a function, got ${typeof fn}`);
  checkSignal(options.signal);
  const loop = options.loop ?? getDefaultLoop();
  const controller = new AbortController();
  const unlink = linkSignal(options.signal, controller);
  let expired: TimeoutError | undefined;
  const timer = arm(loop, () => {
    expired = new TimeoutError(message, ms);
    controller.abort(new CancelledError(expired, message));
  });
  try {
    return await fn(controller.signal);
  } catch (err) {
    // our own cancellation becomes the timeout; an outer cancellation stays a cancellation
    if (expired !== undefined && isCancelled(err) && !options.signal?.aborted) throw new TimeoutError(message, ms, { cause: err });
    throw err;
  } finally {
    timer.cancel();
    unlink();
  }
}
