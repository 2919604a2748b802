/**
 * `race` and `all` over task functions, with the losers cancelled (Promise.race/all leave them
 * running). Both return only when every task has finished: nothing outlives the call. Both throw
 * a single failure as is; when more than one task failed, a TaskGroupError holding all of them.
 */
import { EvloopError } from '../errors.js';
import { CancelledError, isCancelled, TaskGroupError, toCancelled } from './errors.js';
import { checkSignal, linkSignal } from './signal.js';
import { Task, type SpawnOptions, type TaskFn } from './task.js';
import { TaskGroup } from './task-group.js';

type Results<T extends readonly TaskFn<unknown>[]> = { -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> };

/**
 * The outcome of the first task to settle (value or error); the others are cancelled and
 * awaited. Outer cancellation (options.signal) cancels all and throws CancelledError.
 *
 * @example
 * const fastest = await race([(s) => query(primary, s), (s) => sleep(50, { signal: s }).then(() => query(replica, s))]);
 */
export async function race<T>(fns: readonly TaskFn<T>[], options: SpawnOptions = {}): Promise<T> {
  checkFns(fns, 'race');
  checkSignal(options.signal);
  const controller = new AbortController();
  const unlink = linkSignal(options.signal, controller);
  let first: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  const laterErrors: unknown[] = [];
  const settle = (outcome: { ok: true; value: T } | { ok: false; error: unknown }): void => {
    if (first === undefined) {
      first = outcome;
      controller.abort(new CancelledError(undefined, 'lost the race'));
    } else if (!outcome.ok && !isCancelled(outcome.error)) {
      laterErrors.push(outcome.error); // a loser failed while stopping: never drop it
    }
  };
  const tasks = fns.map((fn, i) => new Task(`race[${i}]`, fn, { signal: controller.signal, loop: options.loop }));
  try {
    await Promise.all(tasks.map((t) => t.then((value) => settle({ ok: true, value }), (error: unknown) => settle({ ok: false, error }))));
  } finally {
    unlink();
  }
  const winner = first!;
  if (options.signal?.aborted && !winner.ok && isCancelled(winner.error)) throw toCancelled(options.signal.reason);
  if (laterErrors.length > 0) throw new TaskGroupError(winner.ok ? laterErrors : [winner.error, ...laterErrors], 'race');
  if (!winner.ok) throw winner.error;
  return winner.value;
}

/**
 * Every task's value, in order. The first failure cancels the others (a TaskGroup underneath).
 * @example const [user, posts] = await all([(s) => getUser(id, s), (s) => getPosts(id, s)]);
 */
export async function all<const T extends readonly TaskFn<unknown>[]>(fns: T, options: SpawnOptions = {}): Promise<Results<T>> {
  checkFns(fns, 'all');
  const results: unknown[] = new Array(fns.length);
  try {
    await TaskGroup.run(
      (g) => {
        fns.forEach((fn, i) => g.spawn(`all[${i}]`, async (signal) => void (results[i] = await fn(signal))));
      },
      { ...options, name: 'all' },
    );
  } catch (err) {
    if (err instanceof TaskGroupError && err.errors.length === 1) throw err.errors[0];
    throw err;
  }
  return results as Results<T>;
}

function checkFns(fns: unknown, what: string): asserts fns is readonly unknown[] {
  if (!Array.isArray(fns)) throw new EvloopError('ERR_INVALID_ARG', `${what} takes an array of functions`);
  if (fns.length === 0 && what === 'race') throw new EvloopError('ERR_INVALID_ARG', 'race of no tasks would never settle');
  fns.forEach((f, i) => {
    if (typeof f !== 'function') throw new EvloopError('ERR_INVALID_ARG', `${what}: item ${i} must be a function, got ${typeof f}`);
  });
}
