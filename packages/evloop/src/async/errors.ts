/**
 * The errors of the coroutine layer, each with a stable `code`:
 *
 * - `CancelledError` (ERR_CANCELLED): the work was asked to stop. It is how cancellation travels
 *   up the stack, so a catch-all block must rethrow it (JavaScript cannot make it uncatchable
 *   the way Python's BaseException is) — use `rethrowIfCancelled(err)` first thing in a catch.
 * - `TimeoutError` (ERR_TIMEOUT): `timeout()`/`deadline()` ran out of time and cancelled the work.
 * - `TaskGroupError` (ERR_TASK_GROUP): one or more children of a task group failed; `errors`
 *   holds every failure (an AggregateError, as asyncio's ExceptionGroup).
 */
import { EvloopError } from '../errors.js';

/**
 * The work was cancelled. `reason` is what the canceller gave (`task.cancel(reason)`,
 * `controller.abort(reason)`), or undefined.
 *
 * @example
 * try {
 *   await sleep(1000, { signal });
 * } catch (err) {
 *   rethrowIfCancelled(err); // cancellation must keep travelling up
 *   console.error('sleep failed', err);
 * }
 */
export class CancelledError extends EvloopError {
  readonly reason: unknown;
  constructor(reason?: unknown, message?: string) {
    super('ERR_CANCELLED', message ?? describe(reason), reason instanceof Error ? { cause: reason } : undefined);
    this.name = 'CancelledError';
    this.reason = reason;
  }
}

function describe(reason: unknown): string {
  if (reason === undefined) return 'the operation was cancelled';
  if (reason instanceof Error) return `the operation was cancelled: ${reason.message}`;
  return `the operation was cancelled: ${String(reason)}`;
}

/**
 * `timeout(ms, fn)` or `deadline(at, fn)` ran out of time; the inner work was cancelled.
 * @example
 * try { await timeout(100, (signal) => sleep(1000, { signal })) }
 * catch (err) { if (err.code === 'ERR_TIMEOUT') ... }
 */
export class TimeoutError extends EvloopError {
  /** The limit in ms, when given as a duration. */
  readonly ms: number | undefined;
  constructor(message: string, ms?: number, options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
    this.name = 'TimeoutError';
    this.ms = ms;
  }
}

/**
 * Children of a task group failed (cancellations are not failures and are not listed).
 * An AggregateError, so `err.errors` lists every failure in the order they happened.
 *
 * @example
 * try { await TaskGroup.run(async (g) => { g.spawn('a', failA); g.spawn('b', failB); }) }
 * catch (err) { if (err.code === 'ERR_TASK_GROUP') for (const e of err.errors) console.error(e) }
 */
export class TaskGroupError extends AggregateError {
  readonly code = 'ERR_TASK_GROUP';
  constructor(errors: unknown[], groupName?: string) {
    const what = groupName ? `task group "${groupName}"` : 'task group';
    const first = errors[0] instanceof Error ? `: ${errors[0].message}` : '';
    super(errors, `${errors.length} ${errors.length === 1 ? 'task' : 'tasks'} of the ${what} failed${first}`);
    this.name = 'TaskGroupError';
  }
}

/**
 * Whether `err` is a cancellation: a CancelledError, any error with code ERR_CANCELLED, or the
 * AbortError Node's own APIs throw for an aborted signal.
 * @example if (isCancelled(err)) return; // the task was stopped on purpose
 */
export function isCancelled(err: unknown): boolean {
  if (err instanceof CancelledError) return true;
  if (err instanceof Error && (err as { code?: unknown }).code === 'ERR_CANCELLED') return true; // e.g. src/net's NetCancelledError
  // what Node's own APIs throw for an aborted signal (timers/promises, fetch, fs)
  return err instanceof Error && err.name === 'AbortError' && (err as { code?: unknown }).code === 'ABORT_ERR';
}

/**
 * Rethrows `err` if it is a cancellation; otherwise returns so the caller handles it.
 * @example
 * try { await work(signal) } catch (err) { rethrowIfCancelled(err); log(err) }
 */
export function rethrowIfCancelled(err: unknown): void {
  if (isCancelled(err)) throw err;
}

/** The CancelledError for an abort reason (the reason itself when it already is one). */
export function toCancelled(reason: unknown): CancelledError {
  return reason instanceof CancelledError ? reason : new CancelledError(reason);
}
