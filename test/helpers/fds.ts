/** fd bookkeeping for tests: every test ends by asserting that it leaked no fd. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';

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
