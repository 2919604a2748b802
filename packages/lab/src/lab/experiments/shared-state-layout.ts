/**
 * Shared memory layout of experiment 6 (Int32Array over one SharedArrayBuffer), shared by the
 * experiment and its worker threads: the counter, two mutexes, a start barrier, and one state
 * word per thread (for the deadlock).
 */
export const SLOT = { COUNTER: 0, MUTEX_A: 1, MUTEX_B: 2, BARRIER: 3, STATE: 4 } as const;
export const SLOTS = 8;
/** Deadlock states, per thread. */
export const STATE = { IDLE: 0, HOLDS_FIRST: 1, WAITS_SECOND: 2, HOLDS_BOTH: 3 } as const;
export const STATE_NAMES = ['idle', 'holds its first mutex', 'waits for its second mutex', 'holds both'];

export type SharedMode = 'unsync' | 'atomic' | 'mutex' | 'deadlock';

export interface SharedParams {
  mode: SharedMode;
  /** increments by this thread */
  iterations: number;
  /** this thread's index (0, 1, …) and how many start together */
  index: number;
  threads: number;
}

export interface SharedResult {
  elapsedNs: number;
}
