/**
 * The poller contract — written once here and in docs/poller.md; every backend (epoll.ts,
 * poll.ts, select.ts) implements exactly this.
 *
 * - `register(fd, interest, token)` starts watching `fd`; `modify` changes interest/token;
 *   `unregister` stops. Registering an fd twice, or modifying/unregistering one not registered,
 *   throws a SysError-style error (EEXIST / ENOENT); an invalid fd throws EBADF.
 * - Level-triggered: an fd stays ready until drained. Spurious readiness is allowed: readers must
 *   read until EAGAIN and treat EAGAIN as "not now".
 * - Interest bits are evloop's own (READABLE, WRITABLE); ERROR and HANGUP are always reported,
 *   whatever the interest.
 * - `wait(timeoutMs, out)` blocks up to `timeoutMs` (-1 = forever, 0 = just look), fills `out`
 *   with (token, events) pairs and returns their count. EINTR returns 0 (an early wake-up).
 * - `waitAsync` is the same wait run on libuv's threadpool (thread-wait host integration); the
 *   registrations must not change while it runs (the loop wakes it first through an eventfd).
 * - `fd` is a single pollable fd that becomes readable when any registered fd is ready
 *   (epoll's own fd), or null for backends that have none (poll, select).
 * - Each backend states its limits in `maxFd` (select: FD_SETSIZE - 1 = 1023).
 */

/** Interest and readiness bits — evloop's own, mapped by each backend to its native bits. */
export const READABLE = 1;
export const WRITABLE = 2;
/** Always reported: an error condition on the fd (EPOLLERR / POLLERR / POLLNVAL). */
export const ERROR = 4;
/** Always reported: the peer hung up (EPOLLHUP / POLLHUP). */
export const HANGUP = 8;

export type PollerName = 'epoll' | 'poll' | 'select';

/**
 * Where `wait` writes ready events: parallel arrays so a wait allocates nothing.
 * Tokens are non-negative integers below 2^53 chosen by the caller (the loop packs fd and
 * generation into them).
 *
 * @example
 * const out = new ReadyEvents(256);
 * const n = poller.wait(100, out);
 * for (let i = 0; i < n; i++) handle(out.tokens[i], out.events[i]);
 */
export class ReadyEvents {
  readonly tokens: Float64Array;
  readonly events: Uint32Array;
  constructor(readonly capacity: number) {
    this.tokens = new Float64Array(capacity);
    this.events = new Uint32Array(capacity);
  }
}

export interface Poller {
  readonly name: PollerName;
  /** A pollable fd that is readable whenever some registered fd is ready, or null. */
  readonly fd: number | null;
  /** The largest fd this backend can watch. */
  readonly maxFd: number;
  /** How many fds are registered. */
  readonly size: number;
  register(fd: number, interest: number, token: number): void;
  modify(fd: number, interest: number, token: number): void;
  unregister(fd: number): void;
  wait(timeoutMs: number, out: ReadyEvents): number;
  waitAsync(timeoutMs: number, out: ReadyEvents): Promise<number>;
  /** Releases the backend's own resources (epoll fd, buffers). Registered fds are not closed. */
  close(): void;
}
