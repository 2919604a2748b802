/**
 * Handles: the long-lived things a loop watches (timers, I/O watchers, signal watchers, servers).
 * As in libuv and Node, a loop stays alive while it has an active handle that is referenced;
 * `unref()` lets the loop (and the process) end while the handle is still active.
 * Closing twice is an error (ERR_HANDLE_CLOSED), not a silent no-op: it is nearly always a bug.
 */
import { EvloopError } from '../errors.js';

/** What a handle needs from its loop: bookkeeping of how many handles keep it alive. */
export interface HandleOwner {
  /** Adjusts the counts of active handles and of active referenced handles. */
  adjustHandles(activeDelta: number, refDelta: number): void;
}

const REF = 1;
const CLOSED = 2;
/** currently counted as active in the owner */
const COUNTED = 4;

export abstract class Handle {
  /** The loop (or other owner) this handle reports to. */
  protected readonly owner: HandleOwner;
  /** REF | CLOSED | COUNTED bits: one field, since a busy server holds many handles */
  #state = REF;

  constructor(owner: HandleOwner) {
    this.owner = owner;
  }

  /** Whether the handle has work pending (a timer armed, an fd watched). */
  abstract get active(): boolean;

  get closed(): boolean {
    return (this.#state & CLOSED) !== 0;
  }

  /** Keep the loop alive while this handle is active (the default). */
  ref(): this {
    if ((this.#state & REF) === 0) {
      this.#state |= REF;
      if (this.#state & COUNTED) this.owner.adjustHandles(0, 1);
    }
    return this;
  }

  /** Do not keep the loop alive for this handle. */
  unref(): this {
    if (this.#state & REF) {
      this.#state &= ~REF;
      if (this.#state & COUNTED) this.owner.adjustHandles(0, -1);
    }
    return this;
  }

  hasRef(): boolean {
    return (this.#state & REF) !== 0;
  }

  /** Releases the handle. A second close throws ERR_HANDLE_CLOSED. */
  close(): void {
    if (this.#state & CLOSED) throw new EvloopError('ERR_HANDLE_CLOSED', `${this.constructor.name} is already closed`);
    this.#state |= CLOSED;
    try {
      this.onClose();
    } finally {
      this.syncActive(); // even when releasing failed: a closed handle never keeps the loop alive
    }
  }

  /** Throws ERR_HANDLE_CLOSED when the handle is closed (guard for operations). */
  protected assertOpen(what: string): void {
    if (this.#state & CLOSED) throw new EvloopError('ERR_HANDLE_CLOSED', `cannot ${what}: ${this.constructor.name} is closed`);
  }

  /** Subclass hook: release resources. Runs once, before the active count is updated. */
  protected abstract onClose(): void;

  /** Call after anything that may change `active` or the ref state. */
  protected syncActive(): void {
    const state = this.#state;
    const active = (state & CLOSED) === 0 && this.active;
    if (active === ((state & COUNTED) !== 0)) return;
    this.#state = active ? state | COUNTED : state & ~COUNTED;
    const d = active ? 1 : -1;
    this.owner.adjustHandles(d, state & REF ? d : 0);
  }
}
