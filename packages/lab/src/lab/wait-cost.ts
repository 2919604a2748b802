/**
 * The measuring core shared by `evloop bench pollers` and the lab's multiplexers experiment:
 * the cost of one `wait(0)` with 1 ready fd among N idle ones, for one poller backend.
 *
 * Idle fds are unsignalled eventfds; the ready one is a signalled eventfd that is never drained,
 * so it stays ready (level-triggered) for every wait. Registration happens outside the timed
 * region. Each wait is `wait(0, out)`: with one fd ready a blocking timeout would return just as
 * fast, and a bug cannot hang the run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createPoller, READABLE, ReadyEvents, type PollerName } from 'evloop';
import { median } from './stats.js';

export interface FileLimits {
  soft: number;
  hard: number;
  openAtStart: number;
  /** The largest N (idle fds) that fits under the soft limit with `headroom` fds kept free. */
  maxN: number;
}

/** Waits per timed sample; the figure is the median of the samples' means. */
const BATCH = 20;
const WARMUP = 200;
const WARMUP_NS = 3e7;

/** The open-file limit from /proc/self/limits (Node cannot raise the soft limit itself). */
export function fileLimits(headroom = 256): FileLimits {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/).map(Number);
  const softN = Number.isFinite(soft) ? soft! : 1024;
  const hardN = Number.isFinite(hard) ? hard! : softN;
  const openAtStart = readdirSync('/proc/self/fd').length;
  // one ready fd per run besides the N idle ones, then round down to a tidy hundred
  const maxN = Math.floor((softN - openAtStart - headroom - 1) / 100) * 100;
  return { soft: softN, hard: hardN, openAtStart, maxN };
}

/**
 * Registers `idle` and `ready` with a fresh poller of `backend`, warms up, and returns the median
 * µs per wait (plus the µs per registration, timed separately). `budgetNs` is the time aimed at
 * for the timed samples (between 10 and 1000 samples of BATCH waits).
 */
export function measureWait(backend: PollerName, idle: readonly number[], ready: number, budgetNs: number): { waitUs: number; registerUs: number } {
  const poller = createPoller(backend);
  const out = new ReadyEvents(64);
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < idle.length; i++) poller.register(idle[i]!, READABLE, i);
    poller.register(ready, READABLE, idle.length);
    const registerUs = Number(process.hrtime.bigint() - t0) / 1e3 / (idle.length + 1);

    // Warm up (JIT, caches) for at least WARMUP waits and WARMUP_NS, checking the result.
    const w0 = process.hrtime.bigint();
    let warmed = 0;
    let warmNs = 0;
    while (warmed < WARMUP || warmNs < WARMUP_NS) {
      if (poller.wait(0, out) !== 1 || out.tokens[0] !== idle.length) {
        throw new Error(`${backend}: expected exactly the ready fd to be reported`);
      }
      warmed++;
      warmNs = Number(process.hrtime.bigint() - w0);
    }
    const perWaitNs = warmNs / warmed;
    const samples = Math.max(10, Math.min(1000, Math.floor(budgetNs / (perWaitNs * BATCH))));
    const means: number[] = [];
    for (let s = 0; s < samples; s++) {
      const b0 = process.hrtime.bigint();
      for (let i = 0; i < BATCH; i++) poller.wait(0, out);
      means.push(Number(process.hrtime.bigint() - b0) / 1e3 / BATCH);
    }
    return { waitUs: median(means), registerUs };
  } finally {
    poller.close();
  }
}
