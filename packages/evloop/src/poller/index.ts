/** The pollers behind one contract: epoll, poll and select. */
export { READABLE, WRITABLE, ERROR, HANGUP, ReadyEvents, type Poller, type PollerName } from './poller.js';
export { createPoller, POLLER_NAMES } from './default.js';
