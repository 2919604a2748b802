/** Loop statistics: what `loop.stats()` returns (and `evloop serve` shows at /stats). */
export interface LoopStats {
  /** Which poller backend and which host integration drive the loop. */
  poller: string;
  host: string;
  /** Loop iterations (turns) run so far. */
  iterations: number;
  /** I/O events dispatched to watchers. */
  ioEvents: number;
  /** I/O events dropped because their watcher was closed or replaced in the same batch. */
  staleEvents: number;
  /** Timers fired. */
  timersFired: number;
  /** callSoon callbacks run. */
  callbacksRun: number;
  /** Queued events dispatched (event queue). */
  eventsDispatched: number;
  /** Exceptions thrown by callbacks and reported. */
  errors: number;
  /** How late the last fired timer ran (ms), and the worst seen: a measure of loop lag. */
  lagMs: number;
  maxLagMs: number;
  /** Active handles, and those of them that keep the loop alive. */
  activeHandles: number;
  refHandles: number;
  /** fds registered with the poller. */
  watchedFds: number;
  /** Timers in the heap (including lazily-removed cancelled ones). */
  timersQueued: number;
}

/** What the debug mode reports for a callback slower than the threshold. */
export interface SlowCallback {
  /** 'timer' | 'soon' | 'io fd=N' | 'event:TYPE' | 'close' */
  what: string;
  ms: number;
  name: string;
}
