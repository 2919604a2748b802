/**
 * The cost of one wait with 1 ready fd among N idle ones, for each poller backend: epoll should
 * stay flat as N grows (the kernel keeps a ready list), poll and select should grow with N (the
 * whole set is copied into the kernel and scanned on every call).
 *
 * Idle fds are unsignalled eventfds (one fd each); the ready one is a signalled eventfd that is
 * never drained, so it stays ready (level-triggered) for every wait. Registration happens
 * outside the timed region. Each wait is `wait(0, out)`: with one fd ready, a blocking timeout
 * would return just as fast, and a bug cannot hang the run.
 *
 * @example
 * const figures = await pollersBench.run({ quick: true, log: console.error });
 * console.log(pollersBench.table(figures));
 */
import { POLLER_NAMES, type PollerName } from 'evloop';
import { C, close, eventfd, eventfdDrain, eventfdSignal } from 'evloop/sys';
import { fileLimits, measureWait } from '../lab/wait-cost.js';
import type { Benchmark, BenchOptions, Figures } from './benchmark.js';

/** fds left free for Node, tsx and the poller itself when sizing the largest N. */
const HEADROOM = 256;
const SIZES = [100, 1000, 10000];
const QUICK_MAX_N = 1000;
/** epoll's wait should not grow with idle fds: N=10000 at most this many times N=100. */
const EPOLL_FLAT_TARGET = 1.5;

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

// The measuring core (fileLimits, measureWait) lives in src/lab/wait-cost.ts, shared with the
// lab's multiplexers experiment. Aim for ~0.4 s per figure (0.05 s quick).
function measure(backend: PollerName, idle: number[], ready: number, quick: boolean): { waitUs: number; registerUs: number } {
  return measureWait(backend, idle, ready, quick ? 5e7 : 4e8);
}

async function run(opts: BenchOptions): Promise<Figures> {
  const limits = fileLimits(HEADROOM);
  const notes: string[] = [];
  const maxN = opts.quick ? Math.min(QUICK_MAX_N, limits.maxN) : limits.maxN;
  const sizes = [...new Set([...SIZES.filter((n) => n <= maxN), maxN])].sort((a, b) => a - b);
  notes.push(
    `open-file limit: soft ${limits.soft}, hard ${limits.hard} (Node cannot raise it; use ulimit -n); ` +
      `${limits.openAtStart} fds already open, ${HEADROOM} kept free, so N goes up to ${maxN}` +
      (opts.quick ? ' (quick mode: N ≤ 1000, shorter runs)' : ''),
  );
  if (!opts.quick && limits.maxN < 10000) notes.push(`N=10000 skipped: the open-file limit allows only ${limits.maxN} idle fds`);
  notes.push('figures: median µs per wait(0) with 1 ready eventfd among N idle eventfds, registration not timed');
  notes.push(`select: only fds < FD_SETSIZE (${C.FD_SETSIZE}) can be watched, so select stops at N=1000`);

  const wait: Record<PollerName, Record<string, number>> = { epoll: {}, poll: {}, select: {} };
  const register: Record<PollerName, Record<string, number>> = { epoll: {}, poll: {}, select: {} };
  for (const n of sizes) {
    // N idle eventfds plus the one each backend signals as its ready fd.
    const pool: number[] = [];
    try {
      for (let i = 0; i <= n; i++) pool.push(eventfd());
      for (const backend of POLLER_NAMES) {
        let idle = pool.slice(0, n);
        let ready = pool[n]!;
        if (backend === 'select') {
          if (n > 1000) continue;
          // The process already holds some low fds, so the pool may reach past 1023: use what fits.
          const usable = pool.filter((fd) => fd < C.FD_SETSIZE);
          ready = usable.at(-1)!;
          idle = usable.slice(0, -1).slice(0, n);
          if (idle.length < n) {
            notes.push(`select N=${n} ran with ${idle.length} idle fds (fds ${usable[0]}–${ready}): lower fds were already open and fd ${C.FD_SETSIZE}+ cannot be watched`);
          }
        }
        eventfdSignal(ready);
        try {
          const m = measure(backend, idle, ready, opts.quick);
          wait[backend][String(n)] = round(m.waitUs);
          register[backend][String(n)] = round(m.registerUs);
          opts.log(`pollers: ${backend} N=${n}: ${m.waitUs.toFixed(2)} µs/wait, ${m.registerUs.toFixed(2)} µs/register`);
        } finally {
          eventfdDrain(ready);
        }
        // let Node's own loop breathe between figures (logging, timers)
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      for (const fd of pool) close(fd);
    }
  }

  const ratio = (b: PollerName, hi: number, lo = 100): number | null => {
    const a = wait[b][String(hi)];
    const z = wait[b][String(lo)];
    return a !== undefined && z !== undefined ? round(a / z, 2) : null;
  };
  const largest = sizes.at(-1)!;
  const epollFlat = ratio('epoll', 10000) ?? ratio('epoll', largest);
  const ratios: Record<string, number | null> = {
    [`epoll N=${wait.epoll['10000'] !== undefined ? 10000 : largest}/N=100`]: epollFlat,
    [`epoll N=${largest}/N=100`]: ratio('epoll', largest),
    'poll N=1000/N=100': ratio('poll', 1000),
    'poll N=10000/N=100': ratio('poll', 10000),
    [`poll N=${largest}/N=100`]: ratio('poll', largest),
    'select N=1000/N=100': ratio('select', 1000),
    [`poll/epoll at N=${largest}`]:
      wait.poll[String(largest)] !== undefined && wait.epoll[String(largest)] !== undefined
        ? round(wait.poll[String(largest)]! / wait.epoll[String(largest)]!, 2)
        : null,
  };
  const targets = {
    epollFlat: { ratio: epollFlat, target: EPOLL_FLAT_TARGET, holds: epollFlat !== null && epollFlat <= EPOLL_FLAT_TARGET },
  };
  return { ...wait, registerUsPerFd: register, ratios, targets, limits, notes };
}

function table(f: Figures): string {
  const wait = f as unknown as Record<PollerName, Record<string, number>>;
  const sizes = [...new Set(POLLER_NAMES.flatMap((b) => Object.keys(wait[b] ?? {})))].map(Number).sort((a, b) => a - b);
  const pad = (s: string, w: number) => s.padStart(w);
  const lines = [`µs per wait, 1 ready fd among N idle fds`, ['backend'.padEnd(8), ...sizes.map((n) => pad(`N=${n}`, 10))].join(' ')];
  for (const b of POLLER_NAMES) {
    lines.push([b.padEnd(8), ...sizes.map((n) => pad(wait[b]?.[String(n)]?.toFixed(2) ?? '—', 10))].join(' '));
  }
  const ratios = (f.ratios ?? {}) as Record<string, number | null>;
  lines.push('', 'ratios');
  for (const [k, v] of Object.entries(ratios)) lines.push(`  ${k.padEnd(24)} ${v === null ? '—' : `×${v}`}`);
  const t = (f.targets as { epollFlat?: { ratio: number | null; target: number; holds: boolean } } | undefined)?.epollFlat;
  if (t) lines.push('', `target: epoll flat as N grows (ratio ≤ ${t.target}): ${t.holds ? 'holds' : 'MISSED'} (×${t.ratio ?? '—'})`);
  const notes = (f.notes ?? []) as string[];
  if (notes.length > 0) lines.push('', ...notes.map((n) => `note: ${n}`));
  return lines.join('\n');
}

/** The pollers benchmark (`evloop bench pollers`). */
export const pollersBench: Benchmark = {
  name: 'pollers',
  description: 'µs per wait with 1 ready fd among N idle fds, for epoll, poll and select',
  run,
  table,
};
