/**
 * Reading /proc: what benchmarks and the lab measure processes with (CPU ticks, parentage).
 * Plain file reads, no system call through koffi.
 */
import { readFileSync } from 'node:fs';

/**
 * Fields of /proc/PID/stat after the command name, or null when the process is gone. The name
 * is skipped by the LAST ')' since it may contain spaces and parentheses. Indexes: [0] state
 * (field 3), [1] ppid, [2] pgrp, [11] utime, [12] stime, [13] cutime, [14] cstime (ticks),
 * [21] rss (pages).
 *
 * @example const f = procStat(pid); const ticks = Number(f![11]) + Number(f![12]);
 */
export function procStat(pid: number | string): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User and system CPU ticks (CLK_TCK, 100 per second on Linux) a live process has used; zeros once it is gone. */
export function cpuTicks(pid: number): { user: number; sys: number } {
  const f = procStat(pid);
  return f === null ? { user: 0, sys: 0 } : { user: Number(f[11]), sys: Number(f[12]) };
}
