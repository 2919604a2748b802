/**
 * CPU use from /proc: the process (every thread) and single threads, as percent of one core
 * over the interval between two samples.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime (CLK_TCK; 100 on Linux). */
const CLK_TCK = 100;

function ticks(path: string): number | null {
  try {
    const s = readFileSync(path, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null; // the thread ended
  }
}

/** Samples one /proc stat file; `percent()` is the CPU% since the previous call. */
export class CpuMeter {
  #path: string;
  #lastTicks: number | null;
  #lastMs: number;

  /** `tid` undefined: the whole process. */
  constructor(tid?: number) {
    this.#path = tid === undefined ? '/proc/self/stat' : `/proc/self/task/${tid}/stat`;
    this.#lastTicks = ticks(this.#path);
    this.#lastMs = performance.now();
  }

  /** CPU% of one core since the last call (null when the thread is gone or no time passed). */
  percent(): number | null {
    const t = ticks(this.#path);
    const now = performance.now();
    const dt = (now - this.#lastMs) / 1000;
    const prev = this.#lastTicks;
    this.#lastTicks = t;
    this.#lastMs = now;
    if (t === null || prev === null || dt <= 0) return null;
    return ((t - prev) / CLK_TCK / dt) * 100;
  }
}
