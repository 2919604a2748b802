/**
 * A thread of experiment 6: increments the shared counter without synchronization, with
 * Atomics.add or under a mutex, or takes two mutexes in the order that deadlocks
 * (layout in shared-state-layout.ts).
 */
import { lock, unlock } from '../mutex.js';
import { serveWorker } from '../worker-side.js';
import { SLOT, STATE, type SharedParams, type SharedResult } from './shared-state-layout.js';

serveWorker<{ sab: SharedArrayBuffer }, SharedParams, SharedResult>(({ sab }) => {
  const m = new Int32Array(sab);
  /** Every thread arrives, then all start at once (spinning: the start must be simultaneous). */
  const barrier = (threads: number): void => {
    Atomics.add(m, SLOT.BARRIER, 1);
    while (Atomics.load(m, SLOT.BARRIER) < threads);
  };
  return (p) => {
    barrier(p.threads);
    const t0 = process.hrtime.bigint();
    const n = p.iterations;
    if (p.mode === 'unsync') {
      // read-modify-write without synchronization: the other thread's writes in between are lost
      for (let i = 0; i < n; i++) m[SLOT.COUNTER] = m[SLOT.COUNTER]! + 1;
    } else if (p.mode === 'atomic') {
      for (let i = 0; i < n; i++) Atomics.add(m, SLOT.COUNTER, 1);
    } else if (p.mode === 'mutex') {
      for (let i = 0; i < n; i++) {
        lock(m, SLOT.MUTEX_A);
        m[SLOT.COUNTER] = m[SLOT.COUNTER]! + 1;
        unlock(m, SLOT.MUTEX_A);
      }
    } else {
      // lock ordering violated: thread 0 takes A then B, thread 1 takes B then A
      const [first, second] = p.index === 0 ? [SLOT.MUTEX_A, SLOT.MUTEX_B] : [SLOT.MUTEX_B, SLOT.MUTEX_A];
      const state = SLOT.STATE + p.index;
      lock(m, first);
      Atomics.store(m, state, STATE.HOLDS_FIRST);
      barrier(p.threads * 2); // both hold their first mutex before either asks for its second
      Atomics.store(m, state, STATE.WAITS_SECOND);
      lock(m, second);
      Atomics.store(m, state, STATE.HOLDS_BOTH);
      unlock(m, second);
      unlock(m, first);
    }
    return { elapsedNs: Number(process.hrtime.bigint() - t0) };
  };
});
