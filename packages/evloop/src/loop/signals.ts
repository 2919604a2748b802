/**
 * Signal watchers: POSIX signals delivered as loop events ({ type: 'signal', signal, signo }),
 * dispatched in the loop's "queued events" phase, like a key press or a click.
 *
 * Mechanism (see docs/async.md, "Signals"): Node's own signal handling — libuv installs the
 * sigaction handler and turns each signal into a write on its self-pipe; Node's loop reads it and
 * calls our `process.on(signal)` listener on the main thread, which posts the event to every
 * loop that watches that signal. signalfd was rejected: it only sees a signal that is blocked in
 * *every* thread, and Node's threadpool and V8 platform threads are already running (with the
 * signal unblocked) before any JS runs, so the kernel may deliver the signal to one of them
 * instead — to their default disposition, which for most signals kills the process.
 *
 * A watcher is an active handle: while it is open and referenced it keeps the loop alive (as
 * libuv's uv_signal_t); `unref()` it for "handle SIGINT if it comes, but don't wait for it".
 * Installing a listener replaces Node's default action for that signal (SIGINT/SIGTERM no longer
 * terminate); it is restored when the last watcher of the signal is closed.
 */
import { constants } from 'node:os';
import { EvloopError } from '../errors.js';
import type { LoopEvent } from './event-queue.js';
import { Handle } from './handle.js';
import type { Loop } from './loop.js';

/** The event posted for each delivered signal. */
export interface SignalEvent extends LoopEvent {
  readonly type: 'signal';
  readonly signal: NodeJS.Signals;
  /** The signal's number on this platform (os.constants.signals). */
  readonly signo: number;
}

export type SignalHandler = (event: SignalEvent, watcher: SignalWatcher) => void;

/** Signals no process can catch. */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/** One per loop: the watchers by signal, the process listeners, the event handler. */
class LoopSignals {
  readonly watchers = new Map<NodeJS.Signals, Set<SignalWatcher>>();
  readonly listeners = new Map<NodeJS.Signals, () => void>();
  constructor(readonly loop: Loop) {
    loop.events.on('signal', (e: LoopEvent) => this.dispatch(e as SignalEvent));
  }

  add(w: SignalWatcher): void {
    let set = this.watchers.get(w.signal);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(w.signal, set);
      const { loop } = this;
      const signo = constants.signals[w.signal];
      const signal = w.signal;
      const listener = (): void => {
        if (!loop.closed) loop.events.post({ type: 'signal', signal, signo } as SignalEvent);
      };
      this.listeners.set(signal, listener);
      process.on(signal, listener);
    }
    set.add(w);
  }

  remove(w: SignalWatcher): void {
    const set = this.watchers.get(w.signal);
    if (set === undefined || !set.delete(w) || set.size > 0) return;
    this.watchers.delete(w.signal);
    const listener = this.listeners.get(w.signal)!;
    this.listeners.delete(w.signal);
    process.removeListener(w.signal, listener);
  }

  dispatch(e: SignalEvent): void {
    const set = this.watchers.get(e.signal);
    if (set === undefined) return; // the last watcher closed after the signal arrived
    for (const w of [...set]) {
      if (w.closed) continue; // closed by an earlier handler of this batch
      try {
        w.handler(e, w);
      } catch (err) {
        this.loop.reportError(err, `signal ${e.signal}`);
      }
    }
  }
}

const perLoop = new WeakMap<Loop, LoopSignals>();

/**
 * A handle that receives one signal as loop events. Close it to stop watching.
 * @example
 * const w = watchSignal(loop, 'SIGTERM', () => server.close());
 * w.unref(); // do not keep the process alive just for this
 */
export class SignalWatcher extends Handle {
  readonly signal: NodeJS.Signals;
  readonly handler: SignalHandler;
  #registry: LoopSignals;

  /** @internal use watchSignal */
  constructor(registry: LoopSignals, signal: NodeJS.Signals, handler: SignalHandler) {
    super(registry.loop.handleOwner);
    this.#registry = registry;
    this.signal = signal;
    this.handler = handler;
    registry.add(this);
    this.syncActive();
  }

  /** Active from creation until closed. */
  get active(): boolean {
    return !this.closed;
  }

  protected onClose(): void {
    this.#registry.remove(this);
  }
}

/**
 * Calls `handler` in the loop's event phase each time `signal` is delivered to the process.
 * Several watchers (on one or more loops) may watch the same signal; each gets every delivery.
 * Throws ERR_INVALID_ARG for an unknown name and for SIGKILL/SIGSTOP, which cannot be caught.
 *
 * @example
 * const w = watchSignal(loop, 'SIGUSR2', (e) => console.log('got', e.signal, e.signo));
 * process.kill(process.pid, 'SIGUSR2');
 * // ... later
 * w.close();
 */
export function watchSignal(loop: Loop, signal: NodeJS.Signals, handler: SignalHandler): SignalWatcher {
  if (typeof signal !== 'string' || !Object.hasOwn(constants.signals, signal)) {
    throw new EvloopError('ERR_INVALID_ARG', `unknown signal ${JSON.stringify(signal)}; use a name such as 'SIGUSR2'`);
  }
  if (UNCATCHABLE.has(signal)) throw new EvloopError('ERR_INVALID_ARG', `${signal} cannot be caught or watched`);
  if (typeof handler !== 'function') throw new EvloopError('ERR_INVALID_ARG', `handler must be a function, got ${typeof handler}`);
  if (loop.closed) throw new EvloopError('ERR_LOOP_CLOSED', 'the loop is closed');
  let registry = perLoop.get(loop);
  if (registry === undefined) {
    registry = new LoopSignals(loop);
    perLoop.set(loop, registry);
  }
  return new SignalWatcher(registry, signal, handler);
}
