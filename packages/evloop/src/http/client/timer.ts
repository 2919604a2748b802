/**
 * Timers for the client. The loop's clock is cached per turn (as libuv's uv_now), and the client
 * arms most timers from promise continuations, outside any turn, when the cached time may be
 * far behind: refresh it first, or a timeout would fire early by however long the loop slept.
 */
import type { Loop } from '../../loop/loop.js';
import type { TimerHandle } from '../../loop/timer.js';

/** `loop.callLater` counted from the real now; null for 0/Infinity (no limit). */
export function startTimer(loop: Loop, ms: number, callback: () => void): TimerHandle | null {
  if (!(ms > 0) || !Number.isFinite(ms)) return null;
  loop.updateTime();
  return loop.callLater(ms, callback);
}

/** The loop's time, refreshed. */
export function freshNow(loop: Loop): number {
  loop.updateTime();
  return loop.now();
}
