/** Coroutines on the evloop loop: tasks, cancellation, timeouts, task groups. */
export { CancelledError, TimeoutError, TaskGroupError, isCancelled, rethrowIfCancelled, toCancelled } from './errors.js';
export { sleep, sleepUntil, type SleepOptions } from './sleep.js';
export { Task, spawn, type TaskFn, type SpawnOptions } from './task.js';
export { timeout, deadline, type TimeoutOptions } from './timeout.js';
export { TaskGroup, type TaskGroupOptions } from './task-group.js';
export { race, all } from './race.js';
export { linkSignal, throwIfCancelled } from './signal.js';
