/** fd bookkeeping for tests: every test ends by asserting that it leaked no fd. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { close } from '../../src/sys/index.js';

/** Open fds of this process (the directory handle readdirSync uses is counted the same each time). */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Takes a baseline now; the returned function asserts the count is back to it.
 * @example const done = trackFds(); ...; done();
 */
export function trackFds(): () => void {
  const before = fdCount();
  return () => assert.equal(fdCount(), before, 'every fd the test opened is closed');
}

/**
 * fds a test opened, closed by its afterEach even when an assertion failed first.
 * @example
 * const owned = new OwnedFds();
 * const [r, w] = owned.own(...pipe());
 * owned.close(w);      // one now
 * owned.closeAll();    // the rest, in afterEach
 */
export class OwnedFds {
  #fds: number[] = [];

  /** Takes ownership of `opened` and returns them, for `const [r, w] = own(...pipe())`. */
  own = <T extends number[]>(...opened: T): T => {
    this.#fds.push(...opened);
    return opened;
  };

  /** Closes one owned fd now. */
  close = (fd: number): void => {
    this.#fds.splice(this.#fds.indexOf(fd), 1);
    close(fd);
  };

  /** Closes every fd still owned. */
  closeAll(): void {
    for (const fd of this.#fds.splice(0)) close(fd);
  }
}
