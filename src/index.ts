/**
 * evloop's public API. The lab, the UI and the CLI use the library only through this module,
 * exactly as a user would.
 */
export * from './errors.js';
export { READABLE, WRITABLE, ERROR, HANGUP, ReadyEvents, type Poller, type PollerName } from './poller/poller.js';
export { createPoller, POLLER_NAMES } from './poller/default.js';
export * from './loop/index.js';
export { SysError } from './sys/index.js';
// Low-level fd helpers and the raw calls (results are -errno on failure) for the lab and benches.
export { C, E, sys, pipe, socketpair, close, eventfd, eventfdSignal, eventfdDrain, setNonBlocking, isOpenFd } from './sys/index.js';
