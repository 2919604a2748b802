/**
 * The poll(2) backend: the whole interest set is handed to the kernel on every wait, so a wait
 * costs O(registered fds). No fd limit beyond the process's own, and no pollable fd of its own:
 * the loop runs its wait on libuv's threadpool (the thread-wait path, docs/poller.md).
 */
import { C, E, check, sys, sysAsync } from '../sys/index.js';
import {
  busyError, checkFdArg, checkInterestToken, checkOpenFd, checkOut, closedError, INT_MAX, kernelTimeout,
  registrationError, settleAsyncWait,
} from './common.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type Poller, type ReadyEvents } from './poller.js';

const INITIAL_SLOTS = 64;

function nativeInterest(interest: number): number {
  return ((interest & READABLE) !== 0 ? C.POLLIN : 0) | ((interest & WRITABLE) !== 0 ? C.POLLOUT : 0);
}

/**
 * `struct pollfd { int fd; short events; short revents; }` × capacity, seen through two views of
 * one buffer: fds at int index 2i, events at short index 4i+2, revents at 4i+3 (little-endian).
 */
class PollfdArray {
  readonly fds: Int32Array;
  readonly shorts: Int16Array;
  constructor(readonly capacity: number) {
    const bytes = new ArrayBuffer(capacity * C.POLLFD_SIZE);
    this.fds = new Int32Array(bytes);
    this.shorts = new Int16Array(bytes);
  }
}

/**
 * A poll(2) backend implementing the `Poller` contract. The pollfd array is kept up to date
 * incrementally (append on register, swap-remove on unregister, in-place on modify), so a wait
 * allocates nothing and rebuilds nothing.
 *
 * @example
 * const p = new PollPoller();
 * p.register(fd, READABLE | WRITABLE, 1);
 * const n = p.wait(-1, out);
 * p.close();
 */
export class PollPoller implements Poller {
  readonly name = 'poll' as const;
  readonly fd = null;
  readonly maxFd = INT_MAX;
  private closed = false;
  private pfd = new PollfdArray(INITIAL_SLOTS);
  private count = 0;
  /** Per fd: its index in the pollfd array (-1 = not registered) and its token. Grown on demand. */
  private slotOf = new Int32Array(INITIAL_SLOTS).fill(-1);
  private tokenOf = new Float64Array(INITIAL_SLOTS);
  /** Where the next scan of revents starts, so a small `out` cannot starve the later fds. */
  private cursor = 0;
  /** The pollfd array lent to a running waitAsync; changed only after a copy (copy-on-write). */
  private lent: PollfdArray | null = null;

  get size(): number {
    return this.count;
  }

  register(fd: number, interest: number, token: number): void {
    this.checkOpen();
    checkFdArg(fd);
    checkInterestToken(interest, token);
    checkOpenFd(fd, this.name);
    if (fd < this.slotOf.length && this.slotOf[fd]! >= 0) throw registrationError(E.EEXIST, this.name, 'register', fd);
    this.growFdTables(fd);
    this.own(this.count + 1);
    const i = this.count++;
    this.pfd.fds[2 * i] = fd;
    this.pfd.shorts[4 * i + 2] = nativeInterest(interest);
    this.pfd.shorts[4 * i + 3] = 0;
    this.slotOf[fd] = i;
    this.tokenOf[fd] = token;
  }

  modify(fd: number, interest: number, token: number): void {
    this.checkOpen();
    checkFdArg(fd);
    checkInterestToken(interest, token);
    const i = this.slotIndex(fd, 'modify');
    this.own(this.count);
    this.pfd.shorts[4 * i + 2] = nativeInterest(interest);
    this.tokenOf[fd] = token;
  }

  unregister(fd: number): void {
    this.checkOpen();
    checkFdArg(fd);
    const i = this.slotIndex(fd, 'unregister');
    this.own(this.count);
    const last = --this.count;
    if (i !== last) {
      // Swap-remove: the last entry takes the freed slot.
      const moved = this.pfd.fds[2 * last]!;
      this.pfd.fds[2 * i] = moved;
      this.pfd.shorts[4 * i + 2] = this.pfd.shorts[4 * last + 2]!;
      this.slotOf[moved] = i;
    }
    this.slotOf[fd] = -1;
  }

  wait(timeoutMs: number, out: ReadyEvents): number {
    this.checkOpen();
    const timeout = kernelTimeout(timeoutMs);
    checkOut(out.capacity);
    this.own(this.count);
    const rc = sys.poll(this.pfd.fds, this.count, timeout);
    if (rc < 0) {
      if (-rc === E.EINTR) return 0;
      check(rc, 'poll');
    }
    return this.decode(this.pfd, this.count, rc, out);
  }

  waitAsync(timeoutMs: number, out: ReadyEvents): Promise<number> {
    try {
      this.checkOpen();
      if (this.lent !== null) throw busyError(this.name);
      const timeout = kernelTimeout(timeoutMs);
      checkOut(out.capacity);
      const pfd = this.pfd;
      const n = this.count;
      this.lent = pfd;
      return settleAsyncWait(sysAsync.poll(pfd.fds, n, timeout), {
        release: () => (this.lent = null),
        closed: () => this.closed,
        retry: () => this.wait(0, out),
        decode: (rc) => this.decode(pfd, n, rc, out),
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Forgets every registration. Idempotent; poll holds no kernel resources. */
  close(): void {
    this.closed = true;
    this.count = 0;
    this.slotOf.fill(-1);
  }

  /**
   * Reads revents of the first `n` entries of `pfd`; `ready` of them are non-zero. Tokens come
   * from the current table, so an fd unregistered during a waitAsync is dropped.
   */
  private decode(pfd: PollfdArray, n: number, ready: number, out: ReadyEvents): number {
    if (ready === 0 || n === 0) return 0;
    const shorts = pfd.shorts;
    const fds = pfd.fds;
    const cap = out.capacity;
    let found = 0;
    let filled = 0;
    let start = this.cursor < n ? this.cursor : 0;
    let i = start;
    do {
      const rev = shorts[4 * i + 3]!;
      if (rev !== 0) {
        found++;
        const fd = fds[2 * i]!;
        if (fd < this.slotOf.length && this.slotOf[fd]! >= 0) {
          out.tokens[filled] = this.tokenOf[fd]!;
          out.events[filled] =
            ((rev & C.POLLIN) !== 0 ? READABLE : 0) |
            ((rev & C.POLLOUT) !== 0 ? WRITABLE : 0) |
            ((rev & (C.POLLERR | C.POLLNVAL)) !== 0 ? ERROR : 0) |
            ((rev & C.POLLHUP) !== 0 ? HANGUP : 0);
          if (++filled === cap) {
            // Resume after this fd next time: level-triggered fds still ready are seen again.
            this.cursor = i + 1;
            return filled;
          }
        }
      }
      if (++i === n) i = 0;
    } while (i !== start && found < ready);
    return filled;
  }

  private slotIndex(fd: number, op: string): number {
    const i = fd >= 0 && fd < this.slotOf.length ? this.slotOf[fd]! : -1;
    if (i < 0) throw registrationError(E.ENOENT, this.name, op, fd);
    return i;
  }

  private growFdTables(fd: number): void {
    if (fd < this.slotOf.length) return;
    let len = this.slotOf.length;
    while (len <= fd) len *= 2;
    const slotOf = new Int32Array(len).fill(-1);
    slotOf.set(this.slotOf);
    const tokenOf = new Float64Array(len);
    tokenOf.set(this.tokenOf);
    this.slotOf = slotOf;
    this.tokenOf = tokenOf;
  }

  /**
   * Makes `this.pfd` safe to write and at least `needed` entries long: a copy when a running
   * waitAsync holds it (the kernel writes its revents on another thread) or when it is full.
   */
  private own(needed: number): void {
    const cur = this.pfd;
    if (cur !== this.lent && needed <= cur.capacity) return;
    let cap = cur.capacity;
    while (cap < needed) cap *= 2;
    const next = new PollfdArray(cap);
    next.fds.set(cur.fds.subarray(0, 2 * this.count));
    this.pfd = next;
  }

  private checkOpen(): void {
    if (this.closed) throw closedError(this.name);
  }
}
