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

export abstract class Handle {
  #owner: HandleOwner;
  #ref = true;
  #closed = false;
  /** whether this handle is currently counted as active in its owner */
  #counted = false;

  constructor(owner: HandleOwner) {
    this.#owner = owner;
  }

  /** Whether the handle has work pending (a timer armed, an fd watched). */
  abstract get active(): boolean;

  get closed(): boolean {
    return this.#closed;
  }

  /** Keep the loop alive while this handle is active (the default). */
  ref(): this {
    if (!this.#ref) {
      this.#ref = true;
      if (this.#counted) this.#owner.adjustHandles(0, 1);
    }
    return this;
  }

  /** Do not keep the loop alive for this handle. */
  unref(): this {
    if (this.#ref) {
      this.#ref = false;
      if (this.#counted) this.#owner.adjustHandles(0, -1);
    }
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  /** Releases the handle. A second close throws ERR_HANDLE_CLOSED. */
  close(): void {
    if (this.#closed) throw new EvloopError('ERR_HANDLE_CLOSED', `${this.constructor.name} is already closed`);
    this.#closed = true;
    this.onClose();
    this.syncActive();
  }

  /** Throws ERR_HANDLE_CLOSED when the handle is closed (guard for operations). */
  protected assertOpen(what: string): void {
    if (this.#closed) throw new EvloopError('ERR_HANDLE_CLOSED', `cannot ${what}: ${this.constructor.name} is closed`);
  }

  /** Subclass hook: release resources. Runs once, before the active count is updated. */
  protected abstract onClose(): void;

  /** Call after anything that may change `active` or the ref state. */
  protected syncActive(): void {
    const active = !this.#closed && this.active;
    if (active === this.#counted) {
      return;
    }
    this.#counted = active;
    const d = active ? 1 : -1;
    this.#owner.adjustHandles(d, this.#ref ? d : 0);
  }
}
