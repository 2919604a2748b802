/**
 * I/O watchers: interest in an fd's readiness (READABLE, WRITABLE) with one callback, as libuv's
 * uv__io_t. One watcher per fd. Each watcher gets a generation number; the poller carries
 * (generation, fd) in its token so events for a closed fd — or for a new watcher that reused the
 * same fd number in the same batch — are recognised as stale and dropped.
 */
import { EvloopError } from '../errors.js';
import { ERROR, HANGUP, READABLE, WRITABLE } from '../poller/poller.js';
import { Handle, type HandleOwner } from './handle.js';

/** Called with the ready bits (READABLE | WRITABLE | ERROR | HANGUP). */
export type IoCallback = (events: number, watcher: IoWatcher) => void;

/** What a watcher needs from its loop: to (re)register it with the poller. */
export interface IoOwner extends HandleOwner {
  ioUpdate(w: IoWatcher, previousInterest: number): void;
  ioClosed(w: IoWatcher): void;
}

export const INTEREST_MASK = READABLE | WRITABLE;

/**
 * @example
 * const w = loop.watch(fd, READABLE, (events) => { if (events & READABLE) drain(fd); });
 * w.setInterest(READABLE | WRITABLE);
 * w.close(); // stops watching; the fd itself stays open (the owner closes it)
 */
export class IoWatcher extends Handle {
  readonly fd: number;
  readonly generation: number;
  /** The token given to the poller: generation * 2^32 + fd. */
  readonly token: number;
  callback: IoCallback;
  #interest: number;
  declare protected readonly owner: IoOwner;

  constructor(owner: IoOwner, fd: number, interest: number, generation: number, callback: IoCallback) {
    super(owner);
    this.fd = fd;
    this.generation = generation;
    this.token = generation * 2 ** 32 + fd;
    this.callback = callback;
    this.#interest = interest;
  }

  get interest(): number {
    return this.#interest;
  }

  /** A watcher with no interest is inactive: it does not keep the loop alive. */
  get active(): boolean {
    return this.#interest !== 0;
  }

  /** Replaces the interest set (0 pauses watching without closing). */
  setInterest(interest: number): void {
    this.assertOpen('set interest');
    validateInterest(interest);
    if (interest === this.#interest) return;
    const previous = this.#interest;
    this.#interest = interest;
    try {
      this.owner.ioUpdate(this, previous);
    } catch (err) {
      this.#interest = previous; // the poller refused: nothing changed
      throw err;
    }
    this.syncActive();
  }

  /** Adds interest bits. */
  add(bits: number): void {
    this.setInterest(this.#interest | bits);
  }

  /** Removes interest bits. */
  remove(bits: number): void {
    this.setInterest(this.#interest & ~bits);
  }

  /** @internal registration after construction (the loop calls it once) */
  start(): void {
    if (this.#interest !== 0) this.owner.ioUpdate(this, 0);
    this.syncActive();
  }

  protected onClose(): void {
    try {
      this.owner.ioClosed(this);
    } finally {
      this.#interest = 0;
    }
  }
}

export function validateInterest(interest: unknown): asserts interest is number {
  if (typeof interest !== 'number' || !Number.isInteger(interest) || (interest & ~INTEREST_MASK) !== 0) {
    throw new EvloopError('ERR_INVALID_ARG', `interest must be a combination of READABLE (1) and WRITABLE (2), got ${String(interest)}`);
  }
}

export { ERROR, HANGUP, READABLE, WRITABLE };
