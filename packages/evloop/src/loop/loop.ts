/**
 * The reactor. One iteration (`runOnce`) is this sequence of named calls, documented in the same
 * order in docs/design.md (as libuv's uv_run and its design doc):
 *
 *   1. updateTime          cache "now" for the turn
 *   2. runDueTimers        due timers are moved out of the queue, then called in (deadline, arming) order
 *   3. runPending          callSoon callbacks queued before this phase began
 *   4. pollForIo           wait on the poller; timeout = time to the next timer, 0 if work is queued
 *   5. dispatchIo          each ready event to its watcher; stale events (closed/reused fd) dropped
 *   6. runQueuedEvents     the event queue: each posted event to the handlers of its type
 *   7. runCloseCallbacks   callbacks of handles closed during the turn
 *   8. updateTime
 *
 * Each phase runs only the work that was ready when it began; work scheduled by callbacks waits
 * for the next turn, so nothing starves. Every callback runs inside a guard: an exception is
 * reported (loop.onError, by default re-thrown on Node's side as an uncaught exception) and the
 * loop goes on with the next callback.
 *
 * A host (host.ts) runs turns from Node's own loop, so promises, Node timers, fs and signals
 * keep working beside the reactor.
 */
import { assertFunction, assertNonNegativeFinite, EvloopError } from '../errors.js';
import { createPoller } from '../poller/default.js';
import { ERROR, HANGUP, ReadyEvents, type Poller, type PollerName } from '../poller/poller.js';
import { E, isOpenFd, SysError } from '../sys/index.js';
import { realClock, type Clock } from './clock.js';
import { EventQueue, type LoopEvent } from './event-queue.js';
import type { Host, HostedLoop, HostName } from './host.js';
import { createHost } from './host-factory.js';
import type { HandleOwner } from './handle.js';
import { INTEREST_MASK, IoWatcher, validateInterest, type IoCallback } from './io-watcher.js';
import type { LoopStats, SlowCallback } from './stats.js';
import { TimerHeap } from './timer-heap.js';
import { TimerHandle } from './timer.js';

export interface LoopOptions {
  /** A poller instance or backend name; default: EVLOOP_POLLER, else epoll > poll > select. */
  poller?: Poller | PollerName | 'auto';
  /** Time source; default the real monotonic clock. */
  clock?: Clock;
  /** How the loop is driven beside Node's loop; default: EVLOOP_HOST, else uv-poll when possible. */
  host?: HostName | 'auto';
  /** Most I/O events taken from one wait (bounds the work of one turn). Default 1024. */
  maxEventsPerTurn?: number;
  /** Where exceptions thrown by callbacks go. Default: re-thrown on Node's side (uncaught). */
  onError?: (err: unknown, what: string) => void;
  /** Debug mode: report callbacks that run longer than this many ms. */
  slowCallbackMs?: number;
  /** Where slow callbacks are reported in debug mode. Default: console.warn. */
  onSlowCallback?: (info: SlowCallback) => void;
}

const TWO_32 = 2 ** 32;
/** Generations wrap below 2^21 so that generation * 2^32 + fd stays an exact double (< 2^53). */
const GENERATION_LIMIT = 2 ** 21;
/** Largest timeout handed to a poller (~24.8 days; larger ones are clamped, the loop re-waits). */
const MAX_WAIT_MS = 2 ** 31 - 1;

/**
 * An event loop on the OS multiplexer.
 *
 * @example
 * import { createLoop, READABLE } from 'evloop';
 * const loop = createLoop();
 * loop.callLater(10, () => console.log('10 ms later'));
 * loop.watch(fd, READABLE, (events) => { ... });
 * await loop.idle(); // resolves when no referenced handle is left
 */
export class Loop implements HostedLoop {
  readonly poller: Poller;
  readonly clock: Clock;
  /** The typed event queue (UI message-loop model). */
  readonly events: EventQueue;
  onError: ((err: unknown, what: string) => void) | undefined;

  #now: number;
  #host: Host | null = null;
  readonly #hostName: HostName | 'auto';
  #inTurn = false;
  /** the cached time was refreshed outside a turn and is still current (see callLater) */
  #timeFresh = false;
  #creatingHost = false;
  #closed = false;

  #timers = new TimerHeap<TimerHandle>();
  #due: TimerHandle[] = [];

  #pending: (() => void)[] = [];
  #closing: (() => void)[] = [];

  #watchers = new Map<number, IoWatcher>();
  #generation = 0;
  #ready: ReadyEvents;
  /** poller changes deferred while a thread-wait is in flight on a snapshot-based backend */
  #deferred: (() => void)[] | null = null;

  #activeHandles = 0;
  #refHandles = 0;
  #idleWaiters: (() => void)[] = [];

  #slowMs: number | undefined;
  #onSlow: (info: SlowCallback) => void;

  #stats = { iterations: 0, ioEvents: 0, staleEvents: 0, timersFired: 0, callbacksRun: 0, errors: 0, lagMs: 0, maxLagMs: 0 };

  constructor(options: LoopOptions = {}) {
    const maxEvents = options.maxEventsPerTurn ?? 1024;
    if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new EvloopError('ERR_INVALID_ARG', `maxEventsPerTurn must be a positive integer, got ${maxEvents}`);
    if (options.slowCallbackMs !== undefined) assertNonNegativeFinite('slowCallbackMs', options.slowCallbackMs);
    this.#hostName = options.host ?? ((process.env.EVLOOP_HOST || undefined) as HostName | undefined) ?? 'auto'; // '' = unset, as EVLOOP_POLLER
    if (!['auto', 'uv-poll', 'thread-wait', 'none'].includes(this.#hostName)) {
      throw new EvloopError('ERR_INVALID_ARG', `host must be one of auto, uv-poll, thread-wait, none; got ${this.#hostName}`);
    }
    // validated first: a bad option must not leak the poller's fd
    this.poller = typeof options.poller === 'object' ? options.poller : createPoller(options.poller);
    this.clock = options.clock ?? realClock;
    this.#now = this.clock.now();
    this.#ready = new ReadyEvents(maxEvents);
    this.events = new EventQueue({
      eventsPosted: () => this.#kick(),
      callHandler: (fn, event, what) => this.#invoke(fn as (e: LoopEvent) => void, event, what),
    });
    this.onError = options.onError;
    this.#slowMs = options.slowCallbackMs;
    this.#onSlow = options.onSlowCallback ?? ((i) => console.warn(`evloop: slow callback ${i.what} (${i.name || 'anonymous'}) took ${i.ms.toFixed(1)} ms`));
  }

  // ---- time -------------------------------------------------------------------------------

  /** The loop's cached time (ms), updated at the start and end of each turn. */
  now(): number {
    return this.#now;
  }

  /** Refreshes the cached time (phases 1 and 8). */
  updateTime(): void {
    this.#now = this.clock.now();
  }

  #refreshTimeOutsideTurn(): void {
    this.#now = this.clock.now();
    this.#timeFresh = true;
    queueMicrotask(this.#markTimeStale);
  }

  #markTimeStale = (): void => {
    this.#timeFresh = false;
  };

  // ---- scheduling -------------------------------------------------------------------------

  /**
   * Runs `callback` on the next turn (in the pending-callbacks phase).
   * @example loop.callSoon(() => console.log('next turn'));
   */
  callSoon(callback: () => void): void {
    this.#assertOpen();
    assertFunction('callback', callback);
    this.#pending.push(callback);
    this.#kick();
  }

  /**
   * Runs `callback` once after `delayMs` milliseconds (fractions allowed; waits are rounded up
   * to whole ms by the poll/select backends, never down to a busy spin).
   * @example const t = loop.callLater(250, () => console.log('later')); t.cancel();
   */
  callLater(delayMs: number, callback: () => void): TimerHandle {
    assertNonNegativeFinite('delayMs', delayMs);
    // Inside a turn the cached time is at most one turn old (libuv's rule). Outside a turn (a
    // promise continuation, a Node callback) it may be as old as the last turn, seconds ago on
    // an idle loop, which would make the timer fire early: refresh it, once per run of JS code
    // (until the next microtask checkpoint), so that timers armed together keep sharing one
    // deadline and one queue bucket.
    if (!this.#inTurn && !this.#timeFresh) this.#refreshTimeOutsideTurn();
    return this.callAt(this.#now + delayMs, callback);
  }

  /** Runs `callback` once when the loop's clock reaches `deadline` (ms, same scale as `now()`). */
  callAt(deadline: number, callback: () => void): TimerHandle {
    this.#assertOpen();
    if (typeof deadline !== 'number' || Number.isNaN(deadline)) throw new EvloopError('ERR_INVALID_ARG', `deadline must be a number, got ${String(deadline)}`);
    assertFunction('callback', callback);
    const t = new TimerHandle(this.#timerOwner, callback);
    t.bucket = this.#timers.push(t, deadline);
    return t;
  }

  /** Runs `callback` in this turn's close phase (or the next turn's, outside a turn). */
  callOnClose(callback: () => void): void {
    assertFunction('callback', callback);
    this.#closing.push(callback);
    this.#kick();
  }

  // ---- I/O --------------------------------------------------------------------------------

  /**
   * Watches an fd for readiness. One watcher per fd; the fd must be open. Events: READABLE,
   * WRITABLE (as asked), ERROR and HANGUP (always). Level-triggered: read until EAGAIN.
   * @example
   * const w = loop.watch(fd, READABLE, (ev) => { ... });
   */
  watch(fd: number, interest: number, callback: IoCallback): IoWatcher {
    this.#assertOpen();
    if (!Number.isInteger(fd) || fd < 0) throw new SysError(E.EBADF, 'watch', `(fd ${String(fd)})`);
    validateInterest(interest);
    assertFunction('callback', callback);
    if (this.#watchers.has(fd)) throw new EvloopError('ERR_FD_WATCHED', `fd ${fd} already has a watcher; use setInterest on it or close it first`);
    if (!isOpenFd(fd)) throw new SysError(E.EBADF, 'watch', `(fd ${fd} is not open)`);
    this.#generation = (this.#generation + 1) % GENERATION_LIMIT;
    const w = new IoWatcher(this.#ioOwner, fd, interest, this.#generation, callback);
    w.start(); // registers with the poller; throws (leaving nothing behind) if the poller refuses
    this.#watchers.set(fd, w);
    return w;
  }

  // ---- liveness ---------------------------------------------------------------------------

  /** True while the loop has referenced active handles or queued work. */
  get alive(): boolean {
    return this.#refHandles > 0 || this.hasImmediateWork;
  }

  get hasImmediateWork(): boolean {
    return this.#pending.length > 0 || this.#closing.length > 0 || this.events.pending > 0;
  }

  /** Resolves once the loop is not alive (no referenced handle, nothing queued). */
  idle(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    this.#ensureHost();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** ms until the earliest timer (0 if overdue), -1 when no timer is armed. */
  timeToNextTimer(): number {
    const d = this.#timers.peekDeadline();
    if (d === undefined) return -1;
    return Math.max(0, d - this.clock.now());
  }

  /** The earliest armed timer's deadline, or undefined. */
  nextDeadline(): number | undefined {
    return this.#timers.peekDeadline();
  }

  // ---- running ----------------------------------------------------------------------------

  /**
   * Runs one iteration. `maxWaitMs`: how long the poll phase may block (-1: until the next
   * timer or forever, 0: not at all). Returns whether the loop is still alive.
   */
  runOnce(maxWaitMs = -1): boolean {
    this.#assertOpen();
    if (typeof maxWaitMs !== 'number' || Number.isNaN(maxWaitMs) || maxWaitMs < -1) {
      throw new EvloopError('ERR_INVALID_ARG', `maxWaitMs must be -1 (no limit) or a number >= 0, got ${String(maxWaitMs)}`);
    }
    if (this.#inTurn) throw new EvloopError('ERR_LOOP_REENTERED', 'runOnce called from inside a loop callback');
    this.#inTurn = true;
    try {
      this.#stats.iterations++;
      this.updateTime();
      // a callback may close the loop: the phases after it then do not run (the poller is gone)
      this.runDueTimers();
      if (!this.#closed) this.runPending();
      if (!this.#closed) this.dispatchIo(this.pollForIo(this.#pollTimeout(maxWaitMs)));
      if (!this.#closed) this.runQueuedEvents();
      if (!this.#closed) this.runCloseCallbacks();
      this.updateTime();
    } finally {
      this.#inTurn = false;
    }
    this.#host?.afterTurn();
    const alive = this.alive;
    if (!alive && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
    return alive;
  }

  /**
   * Runs turns on this thread, blocking it in the poller, until the loop is not alive. For a
   * process or worker that is all reactor (benchmarks, the lab); on a thread that also runs
   * Node code, let the host drive the loop instead (Node's timers and promises wait meanwhile).
   */
  runBlocking(): void {
    while (this.runOnce(-1));
  }

  /** Phase 2: due timers are moved out first, then called in order. */
  runDueTimers(): void {
    const now = this.#now;
    const due = this.#due;
    for (let d = this.#timers.peekDeadline(); d !== undefined && d <= now; d = this.#timers.peekDeadline()) {
      due.push(this.#timers.pop()!);
    }
    if (due.length === 0) return;
    for (let i = 0; i < due.length; i++) {
      const t = due[i]!;
      if (!t.armed) continue; // cancelled by an earlier callback of this batch
      t.fire();
      this.#stats.timersFired++;
      const lag = now - t.deadline;
      this.#stats.lagMs = lag;
      if (lag > this.#stats.maxLagMs) this.#stats.maxLagMs = lag;
      this.#invoke(t.callback, undefined, 'timer');
    }
    due.length = 0;
  }

  /** Phase 3: callbacks queued before this phase began. */
  runPending(): void {
    const n = this.#pending.length;
    if (n === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    let i = 0;
    while (i < n && !this.#closed) this.#invoke(batch[i++]!, undefined, 'soon');
    this.#stats.callbacksRun += i;
  }

  /** Phase 4: waits for I/O; returns the number of ready events. */
  pollForIo(timeoutMs: number): number {
    return this.poller.wait(timeoutMs, this.#ready);
  }

  /** Phase 5: dispatches ready events; events of watchers closed or replaced meanwhile are dropped. */
  dispatchIo(n: number): void {
    const { tokens, events } = this.#ready;
    for (let i = 0; i < n; i++) {
      const token = tokens[i]!;
      const fd = token % TWO_32;
      const w = this.#watchers.get(fd);
      // interest may have shrunk during this batch: deliver only what is still wanted
      const ev = w === undefined ? 0 : events[i]! & (w.interest | ERROR | HANGUP);
      if (w === undefined || w.token !== token || ev === 0) {
        this.#stats.staleEvents++;
        continue;
      }
      this.#stats.ioEvents++;
      this.#invokeIo(w, ev);
    }
  }

  /** Phase 6: the event queue. */
  runQueuedEvents(): void {
    if (this.events.pending > 0) this.events.dispatchQueued();
  }

  /** Phase 7: close callbacks. */
  runCloseCallbacks(): void {
    const n = this.#closing.length;
    if (n === 0) return;
    const batch = this.#closing;
    this.#closing = [];
    for (let i = 0; i < n; i++) this.#invoke(batch[i]!, undefined, 'close');
  }

  #pollTimeout(maxWaitMs: number): number {
    if (maxWaitMs === 0 || this.hasImmediateWork || !this.alive) return 0;
    const d = this.#timers.peekDeadline();
    let timeout = maxWaitMs;
    if (d !== undefined) {
      const untilTimer = Math.max(0, d - this.clock.now());
      timeout = timeout === -1 ? untilTimer : Math.min(timeout, untilTimer);
    }
    return timeout > MAX_WAIT_MS ? MAX_WAIT_MS : timeout;
  }

  // ---- errors and debug -------------------------------------------------------------------

  /** Reports an exception thrown by a callback (see LoopOptions.onError). */
  reportError(err: unknown, what: string): void {
    this.#stats.errors++;
    const handler = this.onError;
    if (handler) {
      try {
        handler(err, what);
        return;
      } catch (inner) {
        err = inner; // a failing error handler must not hide the failure
      }
    }
    process.nextTick(() => {
      throw err;
    });
  }

  #invoke<A>(fn: (a: A) => void, arg: A, what: string): void {
    if (this.#slowMs !== undefined) return this.#invokeTimed(fn, arg, what);
    try {
      fn(arg);
    } catch (err) {
      this.reportError(err, what);
    }
  }

  #invokeIo(w: IoWatcher, ev: number): void {
    if (this.#slowMs !== undefined) return this.#invokeTimed(() => w.callback(ev, w), undefined, `io fd=${w.fd}`, w.callback.name);
    try {
      w.callback(ev, w);
    } catch (err) {
      this.reportError(err, `io fd=${w.fd}`);
    }
  }

  #invokeTimed<A>(fn: (a: A) => void, arg: A, what: string, name = fn.name): void {
    const start = performance.now();
    try {
      fn(arg);
    } catch (err) {
      this.reportError(err, what);
    }
    const ms = performance.now() - start;
    if (ms >= this.#slowMs!) {
      try {
        this.#onSlow({ what, ms, name });
      } catch (err) {
        this.reportError(err, 'onSlowCallback');
      }
    }
  }

  // ---- statistics -------------------------------------------------------------------------

  /** A snapshot of the loop's counters. */
  stats(): LoopStats {
    return {
      poller: this.poller.name,
      host: this.#host?.name ?? 'none',
      ...this.#stats,
      eventsDispatched: this.events.dispatched,
      activeHandles: this.#activeHandles,
      refHandles: this.#refHandles,
      watchedFds: this.#watchers.size,
      timersQueued: this.#timers.size,
    };
  }

  /** The host driving this loop ('none' until something needs one). */
  get hostName(): HostName {
    return this.#host?.name ?? 'none';
  }

  // ---- closing ----------------------------------------------------------------------------

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every watcher and timer, the host and the poller. The fds watched stay open. */
  close(): void {
    if (this.#closed) throw new EvloopError('ERR_LOOP_CLOSED', 'the loop is already closed');
    this.#closed = true; // from here on, closing handles kicks no host and schedules nothing
    // the host first: a wait in flight on another thread must be woken before its fds go away
    this.#host?.close();
    this.#host = null;
    for (const w of [...this.#watchers.values()]) if (!w.closed) w.close();
    for (let t = this.#timers.pop(); t !== undefined; t = this.#timers.pop()) t.cancel();
    for (const t of this.#due) t.cancel(); // due in the batch running now (close from a callback)
    this.#deferred = null; // changes queued for a poller that is about to close
    this.poller.close();
    this.#pending = [];
    this.#closing = [];
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #assertOpen(): void {
    if (this.#closed) throw new EvloopError('ERR_LOOP_CLOSED', 'the loop is closed');
  }

  // ---- host -------------------------------------------------------------------------------

  /** Something changed outside a turn: make sure a turn (or a re-arm) follows. */
  #kick(): void {
    if (this.#inTurn || this.#closed) return;
    this.#ensureHost();
    this.#host?.wake();
  }

  #ensureHost(): void {
    if (this.#host !== null || this.#hostName === 'none' || this.#closed || this.#creatingHost) return;
    this.#creatingHost = true; // the host watches its own fds, which kicks the loop again
    try {
      this.#host = this.#buildHost();
    } finally {
      this.#creatingHost = false;
    }
  }

  #buildHost(): Host | null {
    return createHost(this.#hostName, this, this.poller, {
      watchInternal: (fd, cb) => {
        const w = this.watch(fd, 1, cb);
        w.unref();
        return w;
      },
      setDeferring: (on) => this.#setDeferring(on),
    });
  }

  /** While a snapshot-based wait runs on another thread, poller changes are queued. */
  #setDeferring(on: boolean): void {
    if (on) {
      this.#deferred ??= [];
      return;
    }
    const ops = this.#deferred;
    this.#deferred = null;
    if (ops) for (const op of ops) op();
  }

  #pollerOp(op: () => void): void {
    if (this.#deferred !== null) {
      this.#deferred.push(op);
      this.#host?.wake();
    } else {
      op();
    }
  }

  // ---- owners handed to handles (keeps their bookkeeping out of the public API) -----------

  #adjustHandles = (activeDelta: number, refDelta: number): void => {
    this.#activeHandles += activeDelta;
    this.#refHandles += refDelta;
    this.#kick();
  };

  /**
   * @internal For handles defined outside this module (signal watchers, child processes): pass
   * it to the Handle constructor so the handle counts toward the loop's liveness.
   */
  readonly handleOwner: HandleOwner = { adjustHandles: this.#adjustHandles };

  #timerOwner = {
    adjustHandles: this.#adjustHandles,
    timerCancelled: () => this.#timers.noteCancelled(),
  };

  #ioOwner = {
    adjustHandles: this.#adjustHandles,
    ioUpdate: (w: IoWatcher, previous: number): void => {
      const { fd, interest, token } = w;
      if (this.#deferred !== null && previous === 0 && interest !== 0 && !isOpenFd(fd)) {
        // the deferred register would fail later, where no caller can catch it
        throw new SysError(E.EBADF, 'watch', `(fd ${fd} is not open)`);
      }
      if (previous === 0) this.#pollerOp(() => this.poller.register(fd, interest & INTEREST_MASK, token));
      else if (interest === 0) this.#pollerOp(() => this.#unregisterQuietly(fd));
      else this.#pollerOp(() => this.poller.modify(fd, interest, token));
      this.#kick();
    },
    ioClosed: (w: IoWatcher): void => {
      if (this.#watchers.get(w.fd) === w) this.#watchers.delete(w.fd);
      if (w.interest !== 0) this.#pollerOp(() => this.#unregisterQuietly(w.fd));
    },
  };

  /** The fd may already be closed by its owner (the kernel then dropped it from epoll itself). */
  #unregisterQuietly(fd: number): void {
    try {
      this.poller.unregister(fd);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'EBADF' && code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Creates a loop.
 * @example const loop = createLoop({ poller: 'epoll' });
 */
export function createLoop(options?: LoopOptions): Loop {
  return new Loop(options);
}

let defaultLoop: Loop | undefined;

/** The process's shared loop, created on first use (what the networking layer uses by default). */
export function getDefaultLoop(): Loop {
  if (defaultLoop === undefined || defaultLoop.closed) defaultLoop = new Loop();
  return defaultLoop;
}
