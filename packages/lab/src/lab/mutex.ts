/**
 * A mutex for threads sharing a SharedArrayBuffer, built on Atomics (Drepper's "futexes are
 * tricky" mutex #2): 0 unlocked, 1 locked, 2 locked with waiters. Waiters sleep in Atomics.wait;
 * the wait is re-armed every 100 ms so a thread stuck here can still be terminated.
 */
const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;

export function lock(m: Int32Array, i: number): void {
  let c = Atomics.compareExchange(m, i, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return;
  do {
    if (c === CONTENDED || Atomics.compareExchange(m, i, LOCKED, CONTENDED) !== UNLOCKED) Atomics.wait(m, i, CONTENDED, 100);
    c = Atomics.compareExchange(m, i, UNLOCKED, CONTENDED);
  } while (c !== UNLOCKED);
}

export function unlock(m: Int32Array, i: number): void {
  if (Atomics.sub(m, i, 1) !== LOCKED) {
    Atomics.store(m, i, UNLOCKED);
    Atomics.notify(m, i, 1);
  }
}
