/**
 * Experiment 3, multiplexers: "Underneath is I/O multiplexing". The cost of one wait with 1 ready
 * fd among N idle ones, for select, poll and epoll, with N up to the open-file limit (select
 * stops below FD_SETSIZE = 1024). The measuring core is shared with `evloop bench pollers`
 * (wait-cost.ts). epoll keeps a ready list, so its wait should stay flat; poll and select copy
 * and scan the whole set on every call, so theirs should grow with N.
 */
import { POLLER_NAMES, type PollerName } from 'evloop';
import { C, close, eventfd, eventfdDrain, eventfdSignal } from 'evloop/sys';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { round, times } from '../stats.js';
import { fileLimits, measureWait } from '../wait-cost.js';

const DEFAULT_SIZES = [10, 30, 100, 300, 1000, 3000, 10000];
const QUICK_SIZES = [10, 100, 1000, 3000];
/** Timed-sample budget per figure (ns). */
const BUDGET_NS = { quick: 4e7, full: 3e8 };
/** epoll is "flat" when its wait at the largest N is at most this many times its wait at the smallest. */
const FLAT_MAX = 2;
/** poll/select "grow" when the largest N costs at least this many times the smallest. */
const GROWS_MIN = 5;

export interface Point {
  /** idle fds actually registered (select may get fewer than asked: fds ≥ 1024 cannot be used) */
  n: number;
  /** the N asked for (the table's row) */
  asked: number;
  waitUs: number;
  registerUs: number;
}

/** Least-squares slope of log(wait) against log(N): ≈0 flat, ≈1 linear in N. */
function logLogSlope(points: Point[]): number | null {
  if (points.length < 2) return null;
  const xs = points.map((p) => Math.log(p.n));
  const ys = points.map((p) => Math.log(p.waitUs));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? null : round(num / den, 2);
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const limits = fileLimits();
  const notes: string[] = [];
  const wanted = ctx.quick ? QUICK_SIZES : DEFAULT_SIZES;
  const sizes = [...new Set([...wanted.filter((n) => n <= limits.maxN), ...(ctx.quick ? [] : [limits.maxN])])].sort((a, b) => a - b);
  notes.push(
    `open-file limit: soft ${limits.soft}, hard ${limits.hard}; ${limits.openAtStart} fds open at start, 256 kept free, so N goes up to ${limits.maxN}` +
      (ctx.quick ? ` (quick mode: N ≤ ${sizes.at(-1)})` : ''),
  );
  notes.push('figures: median µs per wait(0) with 1 ready eventfd among N idle eventfds; registration is not timed');
  const largest = sizes.at(-1)!;
  const budget = ctx.quick ? BUDGET_NS.quick : BUDGET_NS.full;

  // select only sees fds < FD_SETSIZE: its sizes stop at the largest that fits
  const selectSizes = sizes.filter((n) => n <= 1000);
  ctx.progress.setTotal(sizes.length * 2 + selectSizes.length);

  const series: Record<PollerName, Point[]> = { epoll: [], poll: [], select: [] };
  const pool: number[] = [];
  try {
    ctx.progress.label(`opening ${largest + 1} eventfds`);
    for (let i = 0; i <= largest; i++) pool.push(eventfd());
    const lowFds = pool.filter((fd) => fd < C.FD_SETSIZE);
    for (const n of sizes) {
      for (const backend of POLLER_NAMES) {
        let idle = pool.slice(0, n);
        let ready = pool[n]!;
        if (backend === 'select') {
          if (n > 1000) continue;
          // the process already holds some low fds, so fewer than 1000 may fit below 1024
          ready = lowFds[Math.min(n, lowFds.length - 1)]!;
          idle = lowFds.slice(0, Math.min(n, lowFds.length - 1));
          if (idle.length < n) notes.push(`select N=${n} ran with ${idle.length} idle fds: lower fds were already open and fds ≥ ${C.FD_SETSIZE} cannot be watched (FD_SETSIZE)`);
        }
        ctx.signal.throwIfAborted();
        ctx.progress.label(`${backend} N=${idle.length}`);
        eventfdSignal(ready);
        try {
          const m = measureWait(backend, idle, ready, budget);
          series[backend].push({ n: idle.length, asked: n, waitUs: round(m.waitUs), registerUs: round(m.registerUs) });
        } finally {
          eventfdDrain(ready);
        }
        ctx.progress.tick(1, `${backend} N=${idle.length}: ${m2(series[backend].at(-1)!.waitUs)} µs`);
        // let Node's loop run between figures (progress, Ctrl-C)
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    for (const fd of pool) close(fd);
  }
  notes.push(`select: only fds < FD_SETSIZE (${C.FD_SETSIZE}) can be watched, so its line stops at N=${series.select.at(-1)?.n ?? '—'}`);

  const growth = (b: PollerName): number | null => {
    const s = series[b];
    return s.length >= 2 ? round(s.at(-1)!.waitUs / s[0]!.waitUs, 2) : null;
  };
  const at = (b: PollerName, n: number): number | undefined => series[b].find((p) => p.n === n)?.waitUs;
  const ratios = {
    epollGrowth: growth('epoll'),
    pollGrowth: growth('poll'),
    selectGrowth: growth('select'),
    pollOverEpollAtLargest: at('poll', largest) !== undefined && at('epoll', largest) !== undefined ? round(at('poll', largest)! / at('epoll', largest)!, 2) : null,
  };
  const slopes = { epoll: logLogSlope(series.epoll), poll: logLogSlope(series.poll), select: logLogSlope(series.select) };

  const epollFlat = ratios.epollGrowth !== null && ratios.epollGrowth <= FLAT_MAX;
  const pollGrows = ratios.pollGrowth !== null && ratios.pollGrowth >= GROWS_MIN;
  const selectGrows = ratios.selectGrowth !== null && ratios.selectGrowth >= GROWS_MIN;
  const holds: boolean | 'partly' = epollFlat && pollGrows && selectGrows ? true : epollFlat && (pollGrows || selectGrows) ? 'partly' : false;
  const first = sizes[0]!;
  const selMax = series.select.at(-1)?.n;
  const text =
    `from N=${first} to N=${largest}: epoll's wait ${times(ratios.epollGrowth ?? NaN)} (log-log slope ${slopes.epoll}; ${epollFlat ? 'flat' : 'NOT flat'}), ` +
    `poll's ${times(ratios.pollGrowth ?? NaN)} (slope ${slopes.poll}), select's ${times(ratios.selectGrowth ?? NaN)} up to N=${selMax} where FD_SETSIZE stops it (slope ${slopes.select}); ` +
    `at N=${largest} poll costs ${times(ratios.pollOverEpollAtLargest ?? NaN)} epoll's wait (${m2(at('poll', largest) ?? NaN)} vs ${m2(at('epoll', largest) ?? NaN)} µs): ` +
    (holds === true ? 'claim holds' : holds === 'partly' ? 'claim partly holds' : 'claim does not hold here');

  const allN = [...new Set(POLLER_NAMES.flatMap((b) => series[b].map((p) => p.asked)))].sort((a, b) => a - b);
  const cell = (b: PollerName, n: number): string => {
    const p = series[b].find((q) => q.asked === n);
    if (p === undefined) return b === 'select' && n >= C.FD_SETSIZE ? '— (FD_SETSIZE)' : '—';
    return p.n === n ? m2(p.waitUs) : `${m2(p.waitUs)} (N=${p.n})`;
  };
  return {
    figures: { waitUs: series, ratios, slopes, limits, sizes, thresholds: { flatMax: FLAT_MAX, growsMin: GROWS_MIN } },
    tables: [
      {
        title: 'µs per wait, 1 ready fd among N idle fds',
        head: ['N', ...POLLER_NAMES],
        rows: allN.map((n) => [n, ...POLLER_NAMES.map((b) => cell(b, n))]),
      },
      {
        title: 'growth from the smallest to the largest N',
        head: ['backend', 'growth', 'log-log slope', 'largest N'],
        rows: POLLER_NAMES.map((b) => [b, ratios[`${b}Growth`] === null ? '—' : times(ratios[`${b}Growth`]!), slopes[b] ?? '—', series[b].at(-1)?.n ?? '—']),
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'wait-vs-n',
        title: 'µs per wait vs idle fds (log-log)',
        caption: 'One ready eventfd among N idle ones. select stops below FD_SETSIZE (1024).',
        config: {
          type: 'line',
          data: { datasets: POLLER_NAMES.map((b) => ({ label: b, data: series[b].map((p) => ({ x: p.n, y: p.waitUs })), tension: 0 })) },
          options: {
            scales: {
              x: { type: 'logarithmic', title: { display: true, text: 'idle fds N' } },
              y: { type: 'logarithmic', title: { display: true, text: 'µs per wait' } },
            },
          },
        },
      },
    ],
    verdict: { holds, text },
    notes,
  };
}

const m2 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export const experiment: Experiment = {
  name: 'multiplexers',
  title: 'select vs poll vs epoll',
  claim: 'Underneath is I/O multiplexing: epoll waits in constant time as idle fds grow, poll and select pay for every fd watched.',
  run,
};
