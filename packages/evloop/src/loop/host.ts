/**
 * Host integration: how the reactor shares the thread with Node's own event loop (DESIGN.md §3).
 * A host decides when the loop runs a turn; it never blocks Node's thread.
 *
 * - `uv-poll` (preferred): Node's libuv watches the epoll fd (uv_poll); when it is readable —
 *   an fd is ready, or the loop's timerfd expired — libuv calls us and we run one non-blocking
 *   turn. Needs the epoll poller and libuv symbols exported by the node binary.
 * - `thread-wait` (fallback, and the path of the poll and select backends): the blocking wait
 *   runs on libuv's threadpool (koffi async); when it returns we run a turn on the main thread.
 *   An eventfd in the set wakes the wait when the main thread changes something.
 * - `none`: nothing drives the loop; the caller runs `runOnce` itself (TestLoop, benchmarks,
 *   `runBlocking` in a dedicated process or worker).
 */
export type HostName = 'uv-poll' | 'thread-wait' | 'none';

export interface Host {
  readonly name: HostName;
  /** Something changed outside a turn (a callback queued, a timer armed, interest changed). */
  wake(): void;
  /** Called by the loop at the end of every turn, whoever ran it. */
  afterTurn(): void;
  /** Stops driving the loop and releases the host's resources. */
  close(): void;
}

/** What a host may do with its loop. */
export interface HostedLoop {
  /** Runs one turn without blocking (maxWait 0); returns whether the loop is still alive. */
  runOnce(maxWaitMs: number): boolean;
  readonly alive: boolean;
  /** True when a turn should run soon (callbacks or events queued, closing handles). */
  readonly hasImmediateWork: boolean;
  /** ms until the earliest timer, -1 when none. */
  timeToNextTimer(): number;
  /** The earliest armed timer's deadline on the loop's clock, or undefined. */
  nextDeadline(): number | undefined;
  readonly clock: { now(): number };
  /** Reports an error thrown where no caller can catch it (the libuv callback boundary). */
  reportError(err: unknown, what: string): void;
}

/**
 * Runs one non-blocking turn on behalf of a host. Hosts call it from places where no caller can
 * catch (a libuv callback, setImmediate, a settled promise): a failure is reported, never thrown.
 */
export function runTurnSafely(loop: HostedLoop, what: string): void {
  try {
    loop.runOnce(0);
  } catch (err) {
    loop.reportError(err, what);
  }
}
