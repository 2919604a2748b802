/** Timer handles: one-shot callbacks at a deadline, kept in the loop's heap (timer-heap.ts). */
import { Handle, type HandleOwner } from './handle.js';
import type { Bucket, HeapTimer } from './timer-heap.js';

/** What a timer needs from its loop. */
export interface TimerOwner extends HandleOwner {
  timerCancelled(t: TimerHandle): void;
}

/**
 * A timer armed by `loop.callLater` / `loop.callAt`. `cancel()` (or `close()`) disarms it; a
 * fired timer is inactive and closing it is still allowed once.
 *
 * @example
 * const t = loop.callLater(100, () => console.log('tick'));
 * t.cancel();
 */
export class TimerHandle extends Handle implements HeapTimer {
  armed = true;
  readonly callback: () => void;
  /** @internal the queue bucket holding this timer; it carries the deadline */
  bucket: Bucket<TimerHandle> | null = null;
  declare protected readonly owner: TimerOwner;

  constructor(owner: TimerOwner, callback: () => void) {
    super(owner);
    this.callback = callback;
    this.syncActive();
  }

  /** When the timer fires, on the loop's clock (ms). */
  get deadline(): number {
    return this.bucket!.deadline;
  }

  get active(): boolean {
    return this.armed;
  }

  /** Disarms the timer if it has not fired yet. Safe to call more than once. */
  cancel(): void {
    if (!this.armed) return;
    this.armed = false;
    this.owner.timerCancelled(this);
    this.syncActive();
  }

  /** @internal the loop calls this when the timer is due, before running its callback */
  fire(): void {
    this.armed = false;
    this.syncActive();
  }

  protected onClose(): void {
    if (this.armed) {
      this.armed = false;
      this.owner.timerCancelled(this);
    }
  }
}
