/**
 * The thread-wait host: the fallback when libuv's symbols are not exported, and the path of the
 * poll and select backends (they have no single fd to hand to libuv). The blocking wait runs on
 * libuv's threadpool (koffi async); when it returns, one turn runs on the main thread. While the
 * wait is in flight, an eventfd in the set lets the main thread wake it (a callback was queued,
 * interest changed, the process is exiting). It costs one threadpool thread while idle.
 */
import type { Poller } from '../poller/poller.js';
import { ReadyEvents } from '../poller/poller.js';
import { close, eventfd, eventfdDrain, eventfdSignal } from '../sys/index.js';
import { runTurnSafely, type Host, type HostedLoop } from './host.js';
import type { HostInternals } from './host-uv-poll.js';
import type { IoWatcher } from './io-watcher.js';

export class ThreadWaitHost implements Host {
  readonly name = 'thread-wait' as const;
  #loop: HostedLoop;
  #poller: Poller;
  #internals: HostInternals;
  #wakeFd: number;
  #wakeWatcher: IoWatcher;
  /** the async wait writes here; the turn that follows polls again (level-triggered, nothing lost) */
  #scratch = new ReadyEvents(64);
  #waiting = false;
  #scheduled = false;
  #closed = false;
  /** poll/select snapshot their fd sets: registrations must wait until the wait returns */
  #snapshotBased: boolean;

  constructor(loop: HostedLoop, poller: Poller, internals: HostInternals) {
    this.#loop = loop;
    this.#poller = poller;
    this.#internals = internals;
    this.#snapshotBased = poller.fd === null;
    this.#wakeFd = eventfd();
    this.#wakeWatcher = internals.watchInternal(this.#wakeFd, () => eventfdDrain(this.#wakeFd));
    // process.exit() would hang joining a threadpool thread blocked in the wait
    process.on('exit', this.#onExit);
  }

  #onExit = (): void => {
    if (this.#waiting) eventfdSignal(this.#wakeFd);
  };

  #turn = (): void => {
    this.#scheduled = false;
    if (!this.#closed) runTurnSafely(this.#loop, 'loop turn');
  };

  wake(): void {
    if (this.#closed) return;
    if (this.#waiting) {
      eventfdSignal(this.#wakeFd);
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#turn);
  }

  afterTurn(): void {
    if (this.#closed || this.#waiting || this.#scheduled) return;
    if (this.#loop.hasImmediateWork) return this.wake();
    if (!this.#loop.alive) return; // nothing keeps us: let Node exit
    const untilTimer = this.#loop.timeToNextTimer();
    const timeout = untilTimer < 0 ? -1 : Math.ceil(untilTimer);
    this.#waiting = true;
    if (this.#snapshotBased) this.#internals.setDeferring(true);
    this.#poller.waitAsync(timeout, this.#scratch).then(this.#waited, (err: unknown) => {
      this.#waited();
      this.#loop.reportError(err, 'thread-wait');
    });
  }

  #waited = (): void => {
    this.#waiting = false;
    if (this.#closed) {
      // the loop closed meanwhile (its poller and deferred changes are gone): the thread no
      // longer polls the eventfd, so it can go now
      close(this.#wakeFd);
      return;
    }
    if (this.#snapshotBased) this.#internals.setDeferring(false);
    this.#turn();
  };

  /**
   * Called by the loop before it closes its watchers and poller. A wait still running on the
   * threadpool must be woken while the eventfd is in its set: unregistering it first (epoll_ctl
   * DEL) lets the woken epoll_wait find nothing and sleep again — forever, with timeout -1. So
   * the loop's remaining poller changes are held back (and then dropped with the poller), and the
   * eventfd is closed only once the wait has returned.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.off('exit', this.#onExit);
    if (this.#waiting) {
      this.#internals.setDeferring(true);
      eventfdSignal(this.#wakeFd);
      return; // #waited releases the eventfd
    }
    if (!this.#wakeWatcher.closed) this.#wakeWatcher.close();
    close(this.#wakeFd);
  }
}
