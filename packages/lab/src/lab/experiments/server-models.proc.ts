/**
 * CPU time and memory of a process tree from /proc: the server of experiment 1 and every process
 * below it (the per-connection children, the per-core reactors). A reaped child's time moves to
 * its parent's cutime/cstime, so the sum over the live tree of utime+stime+cutime+cstime keeps
 * counting the children that already exited.
 */
import { readdirSync } from 'node:fs';
import { procStat } from 'evloop/sys';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

export interface TreeSample {
  /** CLOCK_MONOTONIC ns */
  t: bigint;
  /** CPU ticks of the tree */
  ticks: number;
  /** summed RSS of the tree's processes (bytes; shared pages count in each) */
  rss: number;
  processes: number;
}

const PAGE = 4096;

export function sampleTree(root: number): TreeSample {
  const t = process.hrtime.bigint();
  const byParent = new Map<number, number[]>();
  const fields = new Map<number, string[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = procStat(name);
    if (f === null) continue;
    const pid = Number(name);
    fields.set(pid, f);
    const ppid = Number(f[1]);
    const list = byParent.get(ppid);
    if (list) list.push(pid);
    else byParent.set(ppid, [pid]);
  }
  let ticks = 0;
  let rss = 0;
  let processes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const f = fields.get(pid);
    if (f === undefined) continue;
    processes++;
    // utime stime cutime cstime are fields 14–17 of stat, rss field 24
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    rss += Number(f[21]) * PAGE;
    stack.push(...(byParent.get(pid) ?? []));
  }
  return { t, ticks, rss, processes };
}

/** Samples the tree every `everyMs` until stopped; returns the samples. */
export function startSampler(root: number, everyMs = 100): { stop(): TreeSample[] } {
  const samples: TreeSample[] = [sampleTree(root)];
  const timer = setInterval(() => samples.push(sampleTree(root)), everyMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(sampleTree(root));
      return samples;
    },
  };
}

/** The sample nearest to time `t`. */
export function nearest(samples: readonly TreeSample[], t: bigint): TreeSample {
  let best = samples[0]!;
  for (const s of samples) if ((s.t > t ? s.t - t : t - s.t) < (best.t > t ? best.t - t : t - best.t)) best = s;
  return best;
}
