/** Picks and builds the host integration for a loop (see host.ts for the choices). */
import { isMainThread } from 'node:worker_threads';
import { EvloopError } from '../errors.js';
import type { Poller } from '../poller/poller.js';
import { loadLibuv } from '../sys/index.js';
import type { Host, HostedLoop, HostName } from './host.js';
import { ThreadWaitHost } from './host-thread-wait.js';
import { UvPollHost, type HostInternals } from './host-uv-poll.js';

/**
 * Builds the host; returns null for 'none'. 'auto' is uv-poll when the poller and node allow it:
 * an epoll poller, libuv's symbols exported, and the main thread — `uv_default_loop()` is the
 * main thread's libuv loop, and a worker thread's own loop is not reachable through koffi, so a
 * worker's reactor would be polled by the wrong thread (it sat ~7 s before seeing ready I/O).
 */
export function createHost(name: HostName | 'auto', loop: HostedLoop, poller: Poller, internals: HostInternals): Host | null {
  if (name === 'none') return null;
  const uv = loadLibuv();
  if (name === 'auto') name = poller.fd !== null && uv !== null && isMainThread ? 'uv-poll' : 'thread-wait';
  if (name === 'thread-wait') return new ThreadWaitHost(loop, poller, internals);
  if (!isMainThread) throw new EvloopError('ERR_HOST_UNSUPPORTED', 'the uv-poll host works on the main thread only (libuv\'s default loop); use host "thread-wait" in a worker');
  if (uv === null) throw new EvloopError('ERR_HOST_UNSUPPORTED', 'the uv-poll host needs libuv symbols exported by the node binary; use host "thread-wait"');
  return new UvPollHost(loop, poller, uv, internals);
}
