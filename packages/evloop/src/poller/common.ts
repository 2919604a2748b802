/**
 * Argument checks and small helpers the three backends share, so that epoll, poll and select
 * reject bad input with the same codes and convert timeouts identically. Internal to src/poller.
 */
import { EvloopError } from '../errors.js';
import { C, E, sys, SysError } from '../sys/index.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type PollerName } from './poller.js';

/** The largest timeout the kernel's `int` millisecond argument can carry (~24.8 days). */
export const MAX_TIMEOUT_MS = 0x7fffffff;
/** The largest fd number a C `int` can hold: backends without their own limit report this. */
export const INT_MAX = 0x7fffffff;
/** Tokens travel as doubles in ReadyEvents and as a u64 in epoll_event: integers in [0, 2^53). */
const MAX_TOKEN = Number.MAX_SAFE_INTEGER;
const KNOWN_BITS = READABLE | WRITABLE | ERROR | HANGUP;

/**
 * Converts the contract's timeout to the kernel's int milliseconds: negative or Infinity → -1
 * (forever), fractions round UP so 0.3 ms becomes 1 ms and never a 0 ms busy poll, and huge
 * values clamp to INT_MAX.
 */
export function kernelTimeout(timeoutMs: number): number {
  if (timeoutMs < 0 || timeoutMs === Infinity) return -1;
  if (!(timeoutMs >= 0)) throw new EvloopError('ERR_INVALID_ARG', `timeoutMs must be a number, got ${String(timeoutMs)}`);
  const ms = Math.ceil(timeoutMs);
  return ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : ms;
}

/** Throws ERR_INVALID_ARG unless fd is an integer; negative or unknown fds are EBADF later. */
export function checkFdArg(fd: number): void {
  if (!Number.isInteger(fd)) throw new EvloopError('ERR_INVALID_ARG', `fd must be an integer, got ${String(fd)}`);
}

/** Throws ERR_INVALID_ARG unless interest uses only evloop's bits and token is an integer < 2^53. */
export function checkInterestToken(interest: number, token: number): void {
  if (!Number.isInteger(interest) || interest < 0 || (interest & ~KNOWN_BITS) !== 0) {
    throw new EvloopError('ERR_INVALID_ARG', `interest must be a combination of READABLE and WRITABLE, got ${String(interest)}`);
  }
  if (!Number.isInteger(token) || token < 0 || token > MAX_TOKEN) {
    throw new EvloopError('ERR_INVALID_ARG', `token must be an integer in [0, 2^53), got ${String(token)}`);
  }
}

/**
 * poll and select have no kernel-side registration, so they ask fcntl(F_GETFD) whether the fd is
 * open: the same EBADF that epoll_ctl reports for a closed or negative fd.
 */
export function checkOpenFd(fd: number, backend: PollerName): void {
  if (fd < 0 || fd > INT_MAX) throw new SysError(E.EBADF, backend, `(register fd ${fd})`);
  const rc = sys.fcntl(fd, C.F_GETFD);
  if (rc < 0) throw new SysError(-rc, backend, `(register fd ${fd})`);
}

/** The EEXIST / ENOENT errors epoll_ctl would give, for backends that keep their own table. */
export function registrationError(errno: number, backend: PollerName, op: string, fd: number): SysError {
  return new SysError(errno, backend, `(${op} fd ${fd})`);
}

/** Thrown by every method of a closed poller except `close`. */
export function closedError(backend: PollerName): EvloopError {
  return new EvloopError('ERR_POLLER_CLOSED', `the ${backend} poller is closed`);
}

/** Thrown by `waitAsync` while a previous `waitAsync` of the same poller is still running. */
export function busyError(backend: PollerName): EvloopError {
  return new EvloopError('ERR_POLLER_BUSY', `a waitAsync of the ${backend} poller is already running`);
}

/** Throws ERR_INVALID_ARG for an output buffer that cannot hold a single event. */
export function checkOut(capacity: number): void {
  if (capacity < 1) throw new EvloopError('ERR_INVALID_ARG', 'ReadyEvents capacity must be at least 1');
}

/** How one backend's threadpool wait settles (see `settleAsyncWait`). */
export interface AsyncWaitSettle {
  /** Clears the backend's busy mark (the buffers are its own again). */
  release(): void;
  /** True when the poller was closed while the wait ran: report nothing. */
  closed(): boolean;
  /** A zero-timeout wait on this thread, for when the threadpool call failed. */
  retry(): number;
  /** Turns a successful result (rc ready fds) into events in `out`. */
  decode(rc: number): number;
}

/**
 * The rules every backend's waitAsync shares once the threadpool call settles: release the
 * buffers; a closed poller reports 0; errno does not cross threads, so a failed wait (usually
 * EINTR) is treated as an early wake-up and a zero-timeout look on this thread reports what is
 * ready, or the real error; otherwise decode.
 */
export function settleAsyncWait(call: Promise<number>, s: AsyncWaitSettle): Promise<number> {
  return call.then(
    (rc) => {
      s.release();
      if (s.closed()) return 0;
      return rc < 0 ? s.retry() : s.decode(rc);
    },
    (err: unknown) => {
      s.release();
      throw err;
    },
  );
}
