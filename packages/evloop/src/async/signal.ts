/**
 * The AbortSignal bridge: how cancellation flows from a parent signal to child work, and from a
 * signal to an awaiting promise. Listeners are always removed when the work ends, so long-lived
 * parent signals do not accumulate listeners (AbortSignal.any would keep them until GC).
 */
import { EvloopError } from '../errors.js';
import { toCancelled } from './errors.js';

/**
 * Makes `child` abort (with a CancelledError) when `parent` aborts; returns the unlink function.
 * If `parent` is already aborted, `child` aborts now.
 */
export function linkSignal(parent: AbortSignal | undefined, child: AbortController): () => void {
  if (parent === undefined) return noop;
  checkSignal(parent);
  if (parent.aborted) {
    child.abort(toCancelled(parent.reason));
    return noop;
  }
  const onAbort = (): void => child.abort(toCancelled(parent.reason));
  parent.addEventListener('abort', onAbort, { once: true });
  return () => parent.removeEventListener('abort', onAbort);
}

/** Throws the signal's cancellation as a CancelledError if it is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw toCancelled(signal.reason);
}

/** Calls `onAbort` once when the signal aborts; returns the function that stops listening. */
export function onAbort(signal: AbortSignal | undefined, onAbortFn: (reason: unknown) => void): () => void {
  if (signal === undefined) return noop;
  const listener = (): void => onAbortFn(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

export function checkSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new EvloopError('ERR_INVALID_ARG', `signal must be an AbortSignal, got ${typeof signal}`);
  }
}

function noop(): void {}
