/**
 * Tasks: named, awaitable, cancellable units of async work (asyncio's Task over JS promises).
 *
 * A task runs `fn(signal)` at once (the synchronous part runs inside `spawn`, as any async
 * function does). `task.cancel(reason)` aborts `signal` with a CancelledError; cancellation is
 * cooperative: the task settles when `fn` settles. A task whose signal is already aborted when
 * it is spawned never runs `fn` and settles as cancelled.
 *
 * Failures are never lost: a task that fails while nobody observes it (no `await`, `then`,
 * `catch` or `result()` before it settles, nor during the loop turn that follows) is reported
 * through `loop.reportError`, which by default re-throws it as an uncaught exception.
 * A task that ends with the CancelledError it was asked for is not reported.
 */
import { EvloopError } from '../errors.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import { isCancelled, toCancelled } from './errors.js';
import { checkSignal, linkSignal } from './signal.js';

/** The work of a task: gets the task's AbortSignal, returns a value or a promise. */
export type TaskFn<T> = (signal: AbortSignal) => T | PromiseLike<T>;

export interface SpawnOptions {
  /** A parent signal: when it aborts, the task is cancelled. */
  signal?: AbortSignal;
  /** The loop on which unobserved failures are reported; default getDefaultLoop(). */
  loop?: Loop;
}

type State<T> = { kind: 'pending' } | { kind: 'fulfilled'; value: T } | { kind: 'rejected'; error: unknown };

let taskIds = 0;

/**
 * @example
 * const t = spawn('fetch-user', async (signal) => { await sleep(100, { signal }); return 42; });
 * t.cancel('no longer needed');
 * try { await t } catch (err) { if (!isCancelled(err)) throw err }
 */
export class Task<T = unknown> implements PromiseLike<T> {
  readonly name: string;
  readonly id = ++taskIds;
  /** Aborted (with a CancelledError as its reason) when the task is cancelled. */
  readonly signal: AbortSignal;
  #controller = new AbortController();
  #state: State<T> = { kind: 'pending' };
  #promise: Promise<T>;
  #observed = false;
  #loop: Loop | undefined;

  constructor(name: string, fn: TaskFn<T>, options: SpawnOptions = {}) {
    if (typeof name !== 'string') throw new EvloopError('ERR_INVALID_ARG', `a task name must be a string, got ${typeof name}`);
    if (typeof fn !== 'function') throw new EvloopError('ERR_INVALID_ARG', `task "${name}": fn must be a function, got ${typeof fn}`);
    checkSignal(options.signal);
    this.name = name;
    this.#loop = options.loop;
    this.signal = this.#controller.signal;
    const unlink = linkSignal(options.signal, this.#controller);
    this.#promise = this.#start(fn);
    // the task reports its own unobserved failures; keep Node from reporting this promise too
    this.#promise.then(
      (value) => this.#settle({ kind: 'fulfilled', value }, unlink),
      (error: unknown) => this.#settle({ kind: 'rejected', error }, unlink),
    );
  }

  async #start(fn: TaskFn<T>): Promise<T> {
    if (this.signal.aborted) throw toCancelled(this.signal.reason); // cancelled before it started
    return await fn(this.signal);
  }

  /** True once the task has settled (fulfilled, failed or cancelled). */
  get done(): boolean {
    return this.#state.kind !== 'pending';
  }

  /** True when the task settled with a cancellation. */
  get cancelled(): boolean {
    return this.#state.kind === 'rejected' && isCancelled(this.#state.error);
  }

  /** True once cancel() was called (or the parent signal aborted), settled or not. */
  get cancelRequested(): boolean {
    return this.signal.aborted;
  }

  /**
   * Asks the task to stop: aborts its signal with a CancelledError carrying `reason`. Returns
   * false when the task is already done or already cancelled.
   */
  cancel(reason?: unknown): boolean {
    if (this.done || this.signal.aborted) return false;
    this.#controller.abort(toCancelled(reason));
    return true;
  }

  /**
   * The task's value; throws its error (a CancelledError if it was cancelled), or
   * ERR_TASK_PENDING if it has not settled yet. Calling it on a settled task observes it.
   */
  result(): T {
    const s = this.#state;
    if (s.kind === 'pending') throw new EvloopError('ERR_TASK_PENDING', `task "${this.name}" has not finished yet`);
    this.#observed = true;
    if (s.kind === 'rejected') throw s.error;
    return s.value;
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#observed = true;
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    this.#observed = true;
    return this.#promise.finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return 'Task';
  }

  toString(): string {
    return `Task(${this.name}#${this.id}, ${this.#state.kind}${this.signal.aborted ? ', cancel requested' : ''})`;
  }

  #settle(state: State<T>, unlink: () => void): void {
    this.#state = state;
    unlink();
    if (state.kind !== 'rejected' || this.#observed) return;
    if (isCancelled(state.error) && this.signal.aborted) return; // it was asked to stop
    const loop = this.#loop ?? getDefaultLoop();
    const check = (): void => {
      if (!this.#observed) loop.reportError(state.error, `task "${this.name}" failed and nobody awaited it`);
    };
    if (loop.closed) setImmediate(check);
    else loop.callSoon(check);
  }
}

/**
 * Starts a task.
 * @example
 * const t = spawn('tick', async (signal) => { await sleep(10, { signal }); return 'done' });
 * console.log(await t); // 'done'
 */
export function spawn<T>(name: string, fn: TaskFn<T>, options?: SpawnOptions): Task<T> {
  return new Task(name, fn, options);
}
