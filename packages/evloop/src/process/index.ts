/** Child processes with evloop streams, and the blocking-work pool. */
export { spawnChild, ChildProcess, type ChildOptions, type ChildExit, type ChildExitEvent, type StdioMode } from './child.js';
export { createPool, WorkerPool, JobError, jobRef, JOBS, type JobRef, type PoolOptions, type RunOptions } from './pool.js';
export { siblingModule, isTypeScript, nodeArgsFor } from './entry.js';
