/**
 * Structured concurrency (asyncio.TaskGroup, trio's nursery): a scope that owns its child tasks.
 *
 *   await TaskGroup.run(async (g) => { g.spawn('a', workA); g.spawn('b', workB); });
 *
 * - `run` returns only when the body and every child have finished: nothing outlives the group.
 * - The first child (or body) failure cancels the group: every sibling's signal and the body's
 *   `g.signal` are aborted. All failures are collected and thrown as one TaskGroupError
 *   (cancellations are not failures).
 * - Aborting the outer `signal` cancels the body and all children; `run` then throws the
 *   CancelledError (a TaskGroupError instead if some child also failed).
 * - Spawning into a cancelled group returns a task that never runs and settles as cancelled;
 *   spawning after `run` has returned throws ERR_TASK_GROUP_CLOSED.
 */
import { EvloopError } from '../errors.js';
import type { Loop } from '../loop/loop.js';
import { CancelledError, isCancelled, TaskGroupError, toCancelled } from './errors.js';
import { checkSignal, linkSignal } from './signal.js';
import { Task, type TaskFn } from './task.js';

export interface TaskGroupOptions {
  /** The outer signal: aborting it cancels the whole group. */
  signal?: AbortSignal;
  /** Passed to the children (where their unobserved failures would be reported). */
  loop?: Loop;
  /** For error messages. */
  name?: string;
}

const CONSTRUCT = Symbol('TaskGroup.construct');

/**
 * @example
 * const [a, b] = await TaskGroup.run(async (g) => {
 *   const ta = g.spawn('a', (signal) => fetchA(signal));
 *   const tb = g.spawn('b', (signal) => fetchB(signal));
 *   return [await ta, await tb];
 * });
 */
export class TaskGroup {
  readonly name: string | undefined;
  /** Aborted when the group is cancelled (a failure, the outer signal, or `cancel()`). */
  readonly signal: AbortSignal;
  #controller = new AbortController();
  #loop: Loop | undefined;
  #pending = new Set<Task<unknown>>();
  #errors: unknown[] = [];
  #closed = false;
  #drained: (() => void) | undefined;

  /** @internal use TaskGroup.run */
  constructor(token: symbol, options: TaskGroupOptions) {
    if (token !== CONSTRUCT) throw new EvloopError('ERR_INVALID_ARG', 'create a task group with TaskGroup.run(body)');
    this.name = options.name;
    this.#loop = options.loop;
    this.signal = this.#controller.signal;
  }

  /**
   * Runs `body(group)`, then waits for every child; see the module comment for the rules.
   * @example await TaskGroup.run(async (g) => { for (const u of urls) g.spawn(u, (s) => get(u, s)) });
   */
  static async run<T>(body: (group: TaskGroup) => T | PromiseLike<T>, options: TaskGroupOptions = {}): Promise<T> {
    if (typeof body !== 'function') throw new EvloopError('ERR_INVALID_ARG', `body must be a function, got ${typeof body}`);
    checkSignal(options.signal);
    const g = new TaskGroup(CONSTRUCT, options);
    const unlink = linkSignal(options.signal, g.#controller);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await body(g) };
    } catch (error) {
      outcome = { ok: false, error };
      if (!isCancelled(error)) g.#fail(error, 'the group body');
    }
    try {
      while (g.#pending.size > 0) await new Promise<void>((resolve) => (g.#drained = resolve));
    } finally {
      g.#closed = true;
      unlink();
    }
    if (g.#errors.length > 0) throw new TaskGroupError(g.#errors, g.name);
    if (options.signal?.aborted) throw outcome.ok || !isCancelled(outcome.error) ? toCancelled(options.signal.reason) : outcome.error;
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Starts a child task bound to the group: it is cancelled with the group and awaited by it. */
  spawn<T>(name: string, fn: TaskFn<T>): Task<T> {
    if (this.#closed) throw new EvloopError('ERR_TASK_GROUP_CLOSED', `cannot spawn "${name}": the ${this.#what} has finished`);
    const task = new Task(name, fn, { signal: this.signal, loop: this.#loop });
    const t = task as Task<unknown>;
    this.#pending.add(t);
    const done = (): void => {
      this.#pending.delete(t);
      if (this.#pending.size === 0) this.#drained?.();
    };
    // the group observes every child, so a child's failure is never reported as unobserved
    task.then(done, (error: unknown) => {
      if (!isCancelled(error)) this.#fail(error, `task "${name}"`);
      done();
    });
    return task;
  }

  /** Cancels every child and the body's signal. Returns false if already cancelled. */
  cancel(reason?: unknown): boolean {
    if (this.signal.aborted) return false;
    this.#controller.abort(toCancelled(reason));
    return true;
  }

  /** Children not finished yet. */
  get size(): number {
    return this.#pending.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get #what(): string {
    return this.name ? `task group "${this.name}"` : 'task group';
  }

  #fail(error: unknown, who: string): void {
    this.#errors.push(error);
    if (!this.signal.aborted) {
      const why = error instanceof Error ? error.message : String(error);
      this.#controller.abort(new CancelledError(error, `cancelled because ${who} of the ${this.#what} failed: ${why}`));
    }
  }
}
