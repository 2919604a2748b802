/**
 * Experiment 5, blocking scan: "If scanning the mouse blocks, the keyboard is never scanned".
 * A producer thread feeds two pipes at random times: A (the mouse) rarely, B (the keyboard)
 * often. A scanner thread either reads A then B with blocking reads (O_NONBLOCK cleared), or
 * multiplexes both with an evloop loop. Measured: how long B's events wait to be read.
 */
import { setNonBlocking } from 'evloop/sys';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { openPipe } from '../pipes.js';
import type { ProducerParams, ProducerResult } from '../producer.worker.js';
import { fmtUs, round, summarizeUs, times, type LatencySummary } from '../stats.js';
import { startWorker } from '../workers.js';
import type { ScannerParams, ScannerResult } from './blocking-scan.worker.js';
import { siblingModule } from 'evloop';

const SCANNER = siblingModule(import.meta.url, './blocking-scan.worker');
const PRODUCER = siblingModule(import.meta.url, '../producer.worker');

/** The claim holds when B's median wait behind a blocking read is at least this many times the multiplexed one… */
const RATIO_MIN = 10;
/** …and long on a human scale (µs). */
const BLOCKED_P50_MIN_US = 10_000;

/** Latency buckets of the distribution chart (upper bounds, µs). */
const BUCKETS: [string, number][] = [
  ['< 100 µs', 100],
  ['0.1–1 ms', 1e3],
  ['1–10 ms', 1e4],
  ['10–100 ms', 1e5],
  ['0.1–1 s', 1e6],
  ['≥ 1 s', Infinity],
];

export interface ScannerFigures {
  mode: ScannerParams['mode'];
  label: string;
  a: LatencySummary;
  b: LatencySummary;
  sent: [number, number];
  reads: [number, number];
  /** share of B events in each latency bucket (%) */
  bDistribution: number[];
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const durationMs = ctx.quick ? 1000 : 3000;
  const aMeanMs = ctx.quick ? 250 : 500;
  const bMeanMs = 20;
  const modes: { mode: ScannerParams['mode']; label: string }[] = [
    { mode: 'blocking', label: 'blocking reads, A then B' },
    { mode: 'multiplexed', label: 'multiplexed (evloop, epoll)' },
  ];
  ctx.progress.setTotal(1 + modes.length);
  ctx.progress.label('starting the scanner and producer threads');
  let poke = (): void => {};
  const scanner = startWorker<ScannerParams, ScannerResult>(ctx, SCANNER, {}, { label: 'scanner', unblock: () => poke() });
  const producer = startWorker<ProducerParams, ProducerResult>(ctx, PRODUCER, {}, { label: 'producer' });
  await Promise.all([scanner.ready, producer.ready]);
  ctx.progress.tick(1, 'workers ready');

  const results: ScannerFigures[] = [];
  for (const m of modes) {
    ctx.signal.throwIfAborted();
    ctx.progress.label(`${m.label} for ${durationMs / 1000} s`);
    const a = openPipe(ctx, 'pipe A (mouse)');
    const b = openPipe(ctx, 'pipe B (keyboard)');
    poke = () => {
      a.poke();
      b.poke();
    };
    try {
      if (m.mode === 'blocking') {
        setNonBlocking(a.r, false);
        setNonBlocking(b.r, false);
      }
      const scanned = scanner.run({ mode: m.mode, aFd: a.r, bFd: b.r });
      const produced = producer.run({ sources: [{ fd: a.w, meanMs: aMeanMs }, { fd: b.w, meanMs: bMeanMs }], durationMs, end: true });
      const [s, p] = await Promise.all([scanned, produced]);
      const bSum = summarizeUs(s.bUs);
      results.push({
        mode: m.mode,
        label: m.label,
        a: summarizeUs(s.aUs),
        b: bSum,
        sent: [p.sent[0]!, p.sent[1]!],
        reads: s.reads,
        bDistribution: BUCKETS.map(([, hi], i) => {
          const lo = i === 0 ? -Infinity : BUCKETS[i - 1]![1];
          return s.bUs.length === 0 ? 0 : round((100 * s.bUs.filter((x) => x >= lo && x < hi).length) / s.bUs.length, 1);
        }),
      });
      ctx.progress.tick(1, `${m.label}: keyboard p50 ${fmtUs(bSum.p50)}`);
    } finally {
      poke = () => {};
      a.close();
      b.close();
    }
  }
  await Promise.all([scanner.close(), producer.close()]);

  const blocking = results.find((r) => r.mode === 'blocking')!;
  const mux = results.find((r) => r.mode === 'multiplexed')!;
  const ratio = blocking.b.p50 / Math.max(1, mux.b.p50);
  const longWait = blocking.b.p50 >= BLOCKED_P50_MIN_US;
  const holds: boolean | 'partly' = ratio >= RATIO_MIN && longWait ? true : ratio >= RATIO_MIN || longWait ? 'partly' : false;
  const overInterval = (r: ScannerFigures): number => round(r.bDistribution.slice(3).reduce((x, y) => x + y, 0), 1);
  const text =
    `keyboard events (one every ~${bMeanMs} ms) waited ${fmtUs(blocking.b.p50)} (p50; p99 ${fmtUs(blocking.b.p99)}) behind a blocking read of the mouse (one every ~${aMeanMs} ms), ` +
    `${fmtUs(mux.b.p50)} (p50; p99 ${fmtUs(mux.b.p99)}) when both are multiplexed: ${times(ratio)} longer; ` +
    `${overInterval(blocking)}% of keyboard events waited ≥ 10 ms behind the blocking scanner vs ${overInterval(mux)}% multiplexed: ` +
    (holds === true ? 'claim holds' : holds === 'partly' ? 'claim partly holds' : 'claim does not hold here');

  return {
    figures: { durationMs, aMeanMs, bMeanMs, scanners: results, ratioBlockedOverMultiplexedP50: round(ratio, 1), buckets: BUCKETS.map(([l]) => l), thresholds: { ratioMin: RATIO_MIN, blockedP50MinUs: BLOCKED_P50_MIN_US } },
    tables: [
      {
        title: `latency of events read (A: mouse every ~${aMeanMs} ms, B: keyboard every ~${bMeanMs} ms, ${durationMs / 1000} s)`,
        head: ['scanner', 'B read/sent', 'B p50', 'B p99', 'B max', 'A p50', 'A read/sent', 'reads A/B'],
        rows: results.map((r) => [r.label, `${r.b.count}/${r.sent[1]}`, fmtUs(r.b.p50), fmtUs(r.b.p99), fmtUs(r.b.max), fmtUs(r.a.p50), `${r.a.count}/${r.sent[0]}`, `${r.reads[0]}/${r.reads[1]}`]),
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'b-latency',
        title: 'How long keyboard events waited (share of events per latency band)',
        caption: 'Blocking reads leave the keyboard unread until the next mouse event arrives.',
        config: {
          type: 'bar',
          data: { labels: BUCKETS.map(([l]) => l), datasets: results.map((r) => ({ label: r.label, data: r.bDistribution })) },
          options: { scales: { y: { min: 0, max: 100, title: { display: true, text: '% of keyboard events' } }, x: { title: { display: true, text: 'latency' } } } },
        },
      },
    ],
    verdict: { holds, text },
    notes: ['the blocking scanner reads everything B has queued each time it gets to B (one read up to 4 KiB), so B is served in bursts, once per mouse event'],
  };
}

export const experiment: Experiment = {
  name: 'blocking-scan',
  title: 'blocking scan vs multiplexing',
  claim: 'If scanning the mouse blocks, the keyboard is never scanned: its events wait for the next mouse event.',
  run,
};
