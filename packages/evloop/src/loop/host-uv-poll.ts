/**
 * The uv_poll host (DESIGN.md §3, measured as the cheapest): Node's libuv watches our epoll fd.
 * When it turns readable (an fd is ready, or our timerfd expired) libuv calls back and we run
 * one non-blocking turn. Our timers cost one kernel timer in total: a timerfd in the epoll set,
 * re-armed after each turn to the earliest deadline. The uv handle is referenced exactly while
 * the loop is alive, so the process exits by itself when no referenced handle remains.
 */
import { EvloopError } from '../errors.js';
import type { Poller } from '../poller/poller.js';
import { C, check, close, timerfd, timerfdArm, timerfdDrain, type Libuv } from '../sys/index.js';
import { runTurnSafely, type Host, type HostedLoop } from './host.js';
import type { IoWatcher } from './io-watcher.js';

export interface HostInternals {
  /** Watches an fd for READABLE as an unreferenced, internal watcher. */
  watchInternal(fd: number, cb: () => void): IoWatcher;
  /** Queue poller changes while a snapshot-based wait runs on another thread. */
  setDeferring(on: boolean): void;
}

/** Timers fire when the clock has passed their deadline; this slack keeps float rounding from waking us 1 µs early. */
const TIMERFD_SLACK_MS = 0.001;

export class UvPollHost implements Host {
  readonly name = 'uv-poll' as const;
  #loop: HostedLoop;
  #uv: Libuv;
  #handle: Buffer;
  #callback: unknown;
  #timerfd: number;
  #timerWatcher: IoWatcher;
  #armedFor: number | undefined;
  #referenced = false;
  #scheduled = false;
  #closed = false;

  constructor(loop: HostedLoop, poller: Poller, uv: Libuv, internals: HostInternals) {
    if (poller.fd === null) throw new EvloopError('ERR_HOST_UNSUPPORTED', `the uv-poll host needs a poller with a pollable fd (epoll), not ${poller.name}`);
    this.#loop = loop;
    this.#uv = uv;
    this.#timerfd = timerfd();
    this.#timerWatcher = internals.watchInternal(this.#timerfd, () => timerfdDrain(this.#timerfd));
    this.#handle = Buffer.alloc(uv.uv_handle_size(C.UV_POLL_HANDLE_TYPE));
    check(uv.uv_poll_init(uv.uv_default_loop(), this.#handle, poller.fd), 'uv_poll_init');
    this.#callback = uv.registerPollCallback(this.#onReadable);
    check(uv.uv_poll_start(this.#handle, C.UV_READABLE, this.#callback), 'uv_poll_start');
    uv.uv_unref(this.#handle);
  }

  /**
   * libuv calls this on its own stack: an exception escaping here would be swallowed by koffi and
   * the callback never called again (the reactor would silently die), so everything is caught.
   */
  #onReadable = (): void => runTurnSafely(this.#loop, 'uv_poll callback');

  #turn = (): void => {
    this.#scheduled = false;
    if (!this.#closed) runTurnSafely(this.#loop, 'loop turn');
  };

  wake(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  afterTurn(): void {
    if (this.#closed) return;
    const alive = this.#loop.alive;
    if (alive !== this.#referenced) {
      if (alive) this.#uv.uv_ref(this.#handle);
      else this.#uv.uv_unref(this.#handle);
      this.#referenced = alive;
    }
    // work queued during the turn runs on another turn, after Node's own callbacks had theirs
    if (this.#loop.hasImmediateWork) this.wake();
    const next = this.#loop.nextDeadline();
    if (next !== this.#armedFor) {
      this.#armedFor = next;
      timerfdArm(this.#timerfd, next === undefined ? null : next - this.#loop.clock.now() + TIMERFD_SLACK_MS);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#uv.uv_poll_stop(this.#handle);
    // libuv still links the handle until its close completes: keep the memory alive until then
    const handle = this.#handle;
    this.#uv.uv_close(handle, null);
    setImmediate(() => handle.length);
    if (!this.#timerWatcher.closed) this.#timerWatcher.close();
    close(this.#timerfd);
    const cb = this.#callback;
    setImmediate(() => this.#uv.unregister(cb)); // after libuv's close pass has run
  }
}
