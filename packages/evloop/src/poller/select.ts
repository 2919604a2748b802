/**
 * The select(2) backend: fixed-size fd_set bitmaps, so only fds below FD_SETSIZE (1024) can be
 * watched and a wait costs O(highest fd). Kept for the lab's select vs poll vs epoll comparison
 * and for portability. No pollable fd of its own: the loop runs its wait on libuv's threadpool.
 *
 * select cannot tell an error or a hang-up from readiness: the kernel folds POLLERR/POLLHUP into
 * the read and write sets, so they arrive as READABLE/WRITABLE (per interest) and the read or
 * write that follows returns EOF or the error. The one case it does flag is a registered fd that
 * was closed behind the poller's back (select fails with EBADF): that fd is reported as ERROR.
 */
import { EvloopError } from '../errors.js';
import { C, E, check, sys, sysAsync } from '../sys/index.js';
import {
  busyError, checkFdArg, checkInterestToken, checkOpenFd, checkOut, closedError, kernelTimeout,
  registrationError, settleAsyncWait,
} from './common.js';
import { ERROR, READABLE, WRITABLE, type Poller, type ReadyEvents } from './poller.js';

const WORDS = C.FD_SET_BYTES / 4;
const MS_PER_S = 1000;
const US_PER_MS = 1000;

/** The sets and timeval one select call reads and writes; one for wait, one for waitAsync. */
class SelectCall {
  readonly read = new Uint32Array(WORDS);
  readonly write = new Uint32Array(WORDS);
  // struct timeval { long tv_sec; long tv_usec; } as int32 halves: [sec, 0, usec, 0] (LE).
  readonly timeval = new Int32Array(C.TIMEVAL_SIZE / 4);

  /** Copies the registered sets in and returns the timeval to pass (null = wait forever). */
  prepare(readMaster: Uint32Array, writeMaster: Uint32Array, timeoutMs: number): Int32Array | null {
    this.read.set(readMaster);
    this.write.set(writeMaster);
    if (timeoutMs < 0) return null;
    // select overwrites the timeval on Linux: fill it every time.
    this.timeval[0] = Math.floor(timeoutMs / MS_PER_S);
    this.timeval[1] = 0;
    this.timeval[2] = (timeoutMs % MS_PER_S) * US_PER_MS;
    this.timeval[3] = 0;
    return this.timeval;
  }
}

/**
 * A select(2) backend implementing the `Poller` contract, for fds 0..1023 only: registering a
 * larger fd throws EvloopError `ERR_FD_SETSIZE`.
 *
 * @example
 * const p = new SelectPoller();
 * p.register(fd, READABLE, 3); // fd must be < 1024
 * const n = p.wait(50, out);
 * p.close();
 */
export class SelectPoller implements Poller {
  readonly name = 'select' as const;
  readonly fd = null;
  readonly maxFd = C.FD_SETSIZE - 1;
  private closed = false;
  private count = 0;
  /** The highest registered fd (-1 = none): select's nfds is this + 1. */
  private highFd = -1;
  private readonly readMaster = new Uint32Array(WORDS);
  private readonly writeMaster = new Uint32Array(WORDS);
  /** Per fd: evloop interest (-1 = not registered) and token. */
  private readonly interestOf = new Int8Array(C.FD_SETSIZE).fill(-1);
  private readonly tokenOf = new Float64Array(C.FD_SETSIZE);
  private readonly syncCall = new SelectCall();
  private readonly asyncCall = new SelectCall();
  private asyncBusy = false;
  /** Word where the next scan starts, so a small `out` cannot starve the higher fds. */
  private cursor = 0;

  get size(): number {
    return this.count;
  }

  register(fd: number, interest: number, token: number): void {
    this.checkOpen();
    checkFdArg(fd);
    checkInterestToken(interest, token);
    checkOpenFd(fd, this.name);
    if (fd >= C.FD_SETSIZE) {
      throw new EvloopError(
        'ERR_FD_SETSIZE',
        `select can only watch fds below FD_SETSIZE (${C.FD_SETSIZE}); fd ${fd} is too large (use epoll or poll)`,
      );
    }
    if (this.interestOf[fd]! >= 0) throw registrationError(E.EEXIST, this.name, 'register', fd);
    this.count++;
    if (fd > this.highFd) this.highFd = fd;
    this.set(fd, interest, token);
  }

  modify(fd: number, interest: number, token: number): void {
    this.checkOpen();
    checkFdArg(fd);
    checkInterestToken(interest, token);
    this.checkRegistered(fd, 'modify');
    this.set(fd, interest, token);
  }

  unregister(fd: number): void {
    this.checkOpen();
    checkFdArg(fd);
    this.checkRegistered(fd, 'unregister');
    const w = fd >>> 5;
    const bit = 1 << (fd & 31);
    this.readMaster[w]! &= ~bit;
    this.writeMaster[w]! &= ~bit;
    this.interestOf[fd] = -1;
    this.count--;
    if (fd === this.highFd) {
      let h = fd - 1;
      while (h >= 0 && this.interestOf[h]! < 0) h--;
      this.highFd = h;
    }
  }

  wait(timeoutMs: number, out: ReadyEvents): number {
    this.checkOpen();
    const timeout = kernelTimeout(timeoutMs);
    checkOut(out.capacity);
    const call = this.syncCall;
    const tv = call.prepare(this.readMaster, this.writeMaster, timeout);
    const nfds = this.highFd + 1;
    const rc = sys.select(nfds, call.read, call.write, null, tv);
    if (rc < 0) {
      if (-rc === E.EINTR) return 0;
      if (-rc === E.EBADF) return this.reportClosed(out);
      check(rc, 'select');
    }
    return this.decode(call, nfds, rc, out);
  }

  waitAsync(timeoutMs: number, out: ReadyEvents): Promise<number> {
    try {
      this.checkOpen();
      if (this.asyncBusy) throw busyError(this.name);
      const timeout = kernelTimeout(timeoutMs);
      checkOut(out.capacity);
      const call = this.asyncCall;
      const tv = call.prepare(this.readMaster, this.writeMaster, timeout);
      const nfds = this.highFd + 1;
      this.asyncBusy = true;
      // a failure here may also be EBADF for an fd closed behind our back: the retry reports it
      return settleAsyncWait(sysAsync.select(nfds, call.read, call.write, null, tv), {
        release: () => (this.asyncBusy = false),
        closed: () => this.closed,
        retry: () => this.wait(0, out),
        decode: (rc) => this.decode(call, nfds, rc, out),
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Forgets every registration. Idempotent; select holds no kernel resources. */
  close(): void {
    this.closed = true;
    this.count = 0;
    this.highFd = -1;
    this.interestOf.fill(-1);
    this.readMaster.fill(0);
    this.writeMaster.fill(0);
  }

  private set(fd: number, interest: number, token: number): void {
    const w = fd >>> 5;
    const bit = 1 << (fd & 31);
    // fd_set is an array of longs; on little-endian hosts bit fd is bit (fd % 32) of u32 word fd / 32.
    if ((interest & READABLE) !== 0) this.readMaster[w]! |= bit;
    else this.readMaster[w]! &= ~bit;
    if ((interest & WRITABLE) !== 0) this.writeMaster[w]! |= bit;
    else this.writeMaster[w]! &= ~bit;
    this.interestOf[fd] = interest;
    this.tokenOf[fd] = token;
  }

  /** Walks the result sets word by word; `ready` bits are set in total (select's count). */
  private decode(call: SelectCall, nfds: number, ready: number, out: ReadyEvents): number {
    if (ready === 0) return 0;
    const words = (nfds + 31) >>> 5;
    const r = call.read;
    const wr = call.write;
    const cap = out.capacity;
    let filled = 0;
    const start = this.cursor < words ? this.cursor : 0;
    let w = start;
    do {
      let bits = r[w]! | wr[w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const fd = (w << 5) | (31 - Math.clz32(low));
        if (this.interestOf[fd]! < 0) continue; // unregistered while a waitAsync ran
        out.tokens[filled] = this.tokenOf[fd]!;
        out.events[filled] = ((r[w]! & low) !== 0 ? READABLE : 0) | ((wr[w]! & low) !== 0 ? WRITABLE : 0);
        if (++filled === cap) {
          // Resume at the next word next time (level-triggered: the rest are still ready).
          this.cursor = w + 1;
          return filled;
        }
      }
      if (++w === words) w = 0;
    } while (w !== start);
    return filled;
  }

  /**
   * select failed with EBADF: some registered fd was closed without being unregistered. Report
   * each such fd as ERROR (poll's POLLNVAL) so its owner learns of it; the others wait for the
   * next call.
   */
  private reportClosed(out: ReadyEvents): number {
    let filled = 0;
    for (let fd = 0; fd <= this.highFd && filled < out.capacity; fd++) {
      if (this.interestOf[fd]! >= 0 && sys.fcntl(fd, C.F_GETFD) < 0) {
        out.tokens[filled] = this.tokenOf[fd]!;
        out.events[filled] = ERROR;
        filled++;
      }
    }
    return filled;
  }

  private checkRegistered(fd: number, op: string): void {
    if (fd < 0 || fd >= C.FD_SETSIZE || this.interestOf[fd]! < 0) {
      throw registrationError(E.ENOENT, this.name, op, fd);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw closedError(this.name);
  }
}
