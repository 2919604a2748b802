/**
 * The epoll backend: the kernel keeps the interest set, so a wait costs O(ready fds), not
 * O(registered fds). Its own fd is pollable, which is what lets the loop hand it to Node's libuv
 * through uv_poll (see docs/poller.md, "host integration").
 */
import { C, E, check, sys, sysAsync } from '../sys/index.js';
import {
  busyError, checkFdArg, checkInterestToken, checkOut, closedError, INT_MAX, kernelTimeout, settleAsyncWait,
} from './common.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type Poller, type ReadyEvents } from './poller.js';

const TWO_32 = 2 ** 32;
// struct epoll_event as u32 words: both layouts keep `events` and the two halves of the u64
// `data` 4-byte aligned (x86_64: 12-byte stride, data at 4; aarch64: 16-byte stride, data at 8).
// Both targets are little-endian, so data's low word comes first.
const STRIDE = C.EPOLL_EVENT_SIZE / 4;
const DATA = C.EPOLL_EVENT_DATA_OFFSET / 4;

function nativeInterest(interest: number): number {
  return ((interest & READABLE) !== 0 ? C.EPOLLIN : 0) | ((interest & WRITABLE) !== 0 ? C.EPOLLOUT : 0);
}

/**
 * A level-triggered epoll instance implementing the `Poller` contract. The token lives in
 * `epoll_event.data`, so a wait needs no fd → token lookup.
 *
 * @example
 * const p = new EpollPoller();
 * p.register(fd, READABLE, 7);
 * const out = new ReadyEvents(64);
 * const n = p.wait(100, out); // out.tokens[0] === 7 once fd is readable
 * p.close();
 */
export class EpollPoller implements Poller {
  readonly name = 'epoll' as const;
  readonly maxFd = INT_MAX;
  private epfd: number;
  private count = 0;
  /** One epoll_event for epoll_ctl, reused. */
  private readonly ctl = new Uint32Array(STRIDE);
  /** Event buffers sized to the caller's ReadyEvents; separate for wait and waitAsync. */
  private buf = new Uint32Array(0);
  private asyncBuf = new Uint32Array(0);
  private asyncBusy = false;

  constructor() {
    this.epfd = check(sys.epoll_create1(C.EPOLL_CLOEXEC), 'epoll_create1');
  }

  /** The epoll fd itself: readable whenever a registered fd is ready; null once closed. */
  get fd(): number | null {
    return this.epfd < 0 ? null : this.epfd;
  }

  get size(): number {
    return this.count;
  }

  register(fd: number, interest: number, token: number): void {
    this.ctlOp(C.EPOLL_CTL_ADD, 'EPOLL_CTL_ADD', fd, interest, token);
    this.count++;
  }

  modify(fd: number, interest: number, token: number): void {
    this.ctlOp(C.EPOLL_CTL_MOD, 'EPOLL_CTL_MOD', fd, interest, token);
  }

  unregister(fd: number): void {
    if (this.epfd < 0) throw closedError(this.name);
    checkFdArg(fd);
    // Kernels before 2.6.9 wanted a non-null event even for DEL; passing one costs nothing.
    check(sys.epoll_ctl(this.epfd, C.EPOLL_CTL_DEL, fd, this.ctl), 'epoll_ctl', `(EPOLL_CTL_DEL fd ${fd})`);
    this.count--;
  }

  wait(timeoutMs: number, out: ReadyEvents): number {
    if (this.epfd < 0) throw closedError(this.name);
    const timeout = kernelTimeout(timeoutMs);
    checkOut(out.capacity);
    if (this.buf.length < out.capacity * STRIDE) this.buf = new Uint32Array(out.capacity * STRIDE);
    const rc = sys.epoll_wait(this.epfd, this.buf, out.capacity, timeout);
    if (rc < 0) {
      if (-rc === E.EINTR) return 0;
      check(rc, 'epoll_wait');
    }
    return decode(this.buf, rc, out);
  }

  waitAsync(timeoutMs: number, out: ReadyEvents): Promise<number> {
    try {
      if (this.epfd < 0) throw closedError(this.name);
      if (this.asyncBusy) throw busyError(this.name);
      const timeout = kernelTimeout(timeoutMs);
      checkOut(out.capacity);
      if (this.asyncBuf.length < out.capacity * STRIDE) this.asyncBuf = new Uint32Array(out.capacity * STRIDE);
      const buf = this.asyncBuf;
      this.asyncBusy = true;
      return settleAsyncWait(sysAsync.epoll_wait(this.epfd, buf, out.capacity, timeout), {
        release: () => (this.asyncBusy = false),
        closed: () => this.epfd < 0,
        retry: () => this.wait(0, out),
        decode: (rc) => decode(buf, rc, out),
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Closes the epoll fd. Idempotent. A waitAsync still running keeps its own reference and
   * returns at its timeout or next event, with 0. */
  close(): void {
    if (this.epfd < 0) return;
    const fd = this.epfd;
    this.epfd = -1;
    this.count = 0;
    check(sys.close(fd), 'close', '(epoll fd)');
  }

  private ctlOp(op: number, opName: string, fd: number, interest: number, token: number): void {
    if (this.epfd < 0) throw closedError(this.name);
    checkFdArg(fd);
    checkInterestToken(interest, token);
    const ev = this.ctl;
    // EPOLLERR and EPOLLHUP are always reported by the kernel; they need no interest bit.
    ev[0] = nativeInterest(interest);
    ev[DATA] = token >>> 0;
    ev[DATA + 1] = Math.floor(token / TWO_32);
    check(sys.epoll_ctl(this.epfd, op, fd, ev), 'epoll_ctl', `(${opName} fd ${fd})`);
  }
}

function decode(buf: Uint32Array, n: number, out: ReadyEvents): number {
  const tokens = out.tokens;
  const events = out.events;
  for (let i = 0; i < n; i++) {
    const base = i * STRIDE;
    const native = buf[base]!;
    tokens[i] = buf[base + DATA]! + buf[base + DATA + 1]! * TWO_32;
    events[i] =
      ((native & C.EPOLLIN) !== 0 ? READABLE : 0) |
      ((native & C.EPOLLOUT) !== 0 ? WRITABLE : 0) |
      ((native & C.EPOLLERR) !== 0 ? ERROR : 0) |
      ((native & C.EPOLLHUP) !== 0 ? HANGUP : 0);
  }
  return n;
}
