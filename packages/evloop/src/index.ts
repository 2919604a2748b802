/**
 * evloop's public API, sized for applications: the loop, coroutines, networking, child processes
 * and HTTP. The raw system calls live in `evloop/sys`; each layer also has its own subpath
 * (`evloop/loop`, `evloop/async`, `evloop/net`, `evloop/process`, `evloop/http`, `evloop/poller`).
 *
 * @example
 * import { serve } from 'evloop';
 */
export { EvloopError } from './errors.js';
export { SysError } from './sys/sys-error.js';
export * from './poller/index.js';
export * from './loop/index.js';
export { watchSignal, SignalWatcher, type SignalEvent, type SignalHandler } from './loop/signals.js';
export * from './async/index.js';
export * from './net/index.js';
export * from './process/index.js';
export * from './http/index.js';
// Terminal input as loop events (also the subpath evloop/tty).
export * from './tty/index.js';
