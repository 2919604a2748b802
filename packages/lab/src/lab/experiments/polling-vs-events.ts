/**
 * Experiment 4, polling vs events: "A thread that keeps scanning for mouse clicks wastes CPU".
 * Sparse events (one every ~100 ms at random times, written to a pipe by a producer thread with
 * their send time) are watched for a fixed time by: a busy poller (non-blocking read in a tight
 * loop), sleeping pollers (check every 1, 10, 50 ms) and an event-driven waiter (an evloop loop
 * blocked in epoll_wait). Each watcher runs alone in its own worker thread; its CPU is its
 * thread's on-CPU time, its latency the time from write to read.
 */
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { openPipe, type LabPipe } from '../pipes.js';
import type { ProducerParams, ProducerResult } from '../producer.worker.js';
import { fmtUs, round, summarizeUs, times, type LatencySummary } from '../stats.js';
import { startWorker } from '../workers.js';
import type { WatcherParams, WatcherResult } from './polling-vs-events.worker.js';
import { siblingModule } from 'evloop';

const WATCHER = siblingModule(import.meta.url, './polling-vs-events.worker');
const PRODUCER = siblingModule(import.meta.url, '../producer.worker');

interface Variant {
  id: string;
  label: string;
  params: Omit<WatcherParams, 'fd' | 'durationMs'>;
}

const VARIANTS: Variant[] = [
  { id: 'busy', label: 'busy polling', params: { mode: 'busy', sleepMs: 0 } },
  { id: 'sleep-1', label: 'polling every 1 ms', params: { mode: 'sleep', sleepMs: 1 } },
  { id: 'sleep-10', label: 'polling every 10 ms', params: { mode: 'sleep', sleepMs: 10 } },
  { id: 'sleep-50', label: 'polling every 50 ms', params: { mode: 'sleep', sleepMs: 50 } },
  { id: 'event', label: 'event-driven (epoll)', params: { mode: 'event', sleepMs: 0 } },
];

/**
 * "Wastes CPU": the busy poller uses at least this share of a core (it takes all it can get: on
 * a loaded machine that is its fair share, not 100%)…
 */
const BUSY_WASTE_MIN_PCT = 10;
/** …and at least this many times the event-driven waiter's CPU… */
const CPU_RATIO_MIN = 10;
/** …while the event-driven waiter still notices an event within this many µs (p50). */
const EVENT_P50_MAX_US = 1000;

export interface VariantFigures {
  id: string;
  label: string;
  cpuPct: number;
  cpuMs: number;
  wallMs: number;
  events: number;
  sent: number;
  checks: number;
  latencyUs: LatencySummary;
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const durationMs = ctx.quick ? 1000 : 3000;
  const meanMs = 100;
  // events still in flight when the producer stops get this long to be read
  const tailMs = 120;
  ctx.progress.setTotal(1 + VARIANTS.length);
  ctx.progress.label('starting the watcher and producer threads');

  // two worker threads, started before any measurement: the watcher runs each variant in turn
  // (its thread's CPU is measured per variant), the producer feeds that variant's pipe
  let current: LabPipe | null = null;
  const watcher = startWorker<WatcherParams, WatcherResult>(ctx, WATCHER, {}, { label: 'watcher', unblock: () => current?.poke() });
  const producer = startWorker<ProducerParams, ProducerResult>(ctx, PRODUCER, {}, { label: 'producer' });
  await Promise.all([watcher.ready, producer.ready]);
  ctx.progress.tick(1, 'workers ready');

  const figures: VariantFigures[] = [];
  for (const v of VARIANTS) {
    ctx.signal.throwIfAborted();
    ctx.progress.label(`${v.label} for ${durationMs / 1000} s`);
    const pipe = openPipe(ctx, `pipe ${v.id}`);
    current = pipe;
    try {
      const watched = watcher.run({ ...v.params, fd: pipe.r, durationMs: durationMs + tailMs });
      const produced = producer.run({ sources: [{ fd: pipe.w, meanMs }], durationMs, end: false });
      const [w, p] = await Promise.all([watched, produced]);
      const lat = summarizeUs(w.latenciesUs);
      figures.push({
        id: v.id,
        label: v.label,
        cpuPct: round((w.cpuNs / w.wallNs) * 100, 2),
        cpuMs: round(w.cpuNs / 1e6, 2),
        wallMs: round(w.wallNs / 1e6, 1),
        events: w.latenciesUs.length,
        sent: p.sent[0]!,
        checks: w.checks,
        latencyUs: lat,
      });
      ctx.progress.tick(1, `${v.label}: ${figures.at(-1)!.cpuPct}% CPU, p50 ${fmtUs(lat.p50)}`);
    } finally {
      current = null;
      pipe.close();
    }
  }
  await Promise.all([watcher.close(), producer.close()]);

  const by = (id: string): VariantFigures => figures.find((f) => f.id === id)!;
  const busy = by('busy');
  const event = by('event');
  const cpuRatio = event.cpuPct > 0 ? busy.cpuPct / event.cpuPct : Infinity;
  const wastes = busy.cpuPct >= BUSY_WASTE_MIN_PCT && cpuRatio >= CPU_RATIO_MIN;
  const eventFast = event.latencyUs.p50 <= EVENT_P50_MAX_US;
  const holds: boolean | 'partly' = wastes && eventFast ? true : wastes || eventFast ? 'partly' : false;
  const sleepers = figures.filter((f) => f.id.startsWith('sleep'));
  const text =
    `busy polling used ${busy.cpuPct}% of a core to notice ${busy.events} sparse events in ${fmtUs(busy.latencyUs.p50)} (p50); ` +
    `the event-driven waiter used ${event.cpuPct}% (${Number.isFinite(cpuRatio) ? times(cpuRatio) : '∞×'} less CPU) and noticed them in ${fmtUs(event.latencyUs.p50)} (p50, p99 ${fmtUs(event.latencyUs.p99)}); ` +
    `sleeping pollers trade one for the other: ${sleepers.map((s) => `${s.label.replace('polling ', '')} ${s.cpuPct}% CPU, p50 ${fmtUs(s.latencyUs.p50)}`).join('; ')}: ` +
    (holds === true
      ? 'claim holds'
      : holds === 'partly'
        ? `claim partly holds (${[wastes ? '' : `busy polling got only ${busy.cpuPct}% of a core or ${Number.isFinite(cpuRatio) ? times(cpuRatio) : '∞×'} the waiter's CPU`, eventFast ? '' : 'the event-driven waiter was slower than 1 ms'].filter(Boolean).join('; ')})`
        : 'claim does not hold here');

  return {
    figures: { durationMs, meanIntervalMs: meanMs, variants: figures, cpuRatioBusyOverEvent: Number.isFinite(cpuRatio) ? round(cpuRatio, 1) : null, thresholds: { busyWasteMinPct: BUSY_WASTE_MIN_PCT, cpuRatioMin: CPU_RATIO_MIN, eventP50MaxUs: EVENT_P50_MAX_US } },
    tables: [
      {
        title: `watching a pipe for ${durationMs / 1000} s, an event every ~${meanMs} ms`,
        head: ['watcher', 'CPU % of a core', 'CPU ms', 'events read/sent', 'checks', 'p50', 'p99', 'max'],
        rows: figures.map((f) => [f.label, f.cpuPct, f.cpuMs, `${f.events}/${f.sent}`, f.checks, fmtUs(f.latencyUs.p50), fmtUs(f.latencyUs.p99), fmtUs(f.latencyUs.max)]),
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'cpu-vs-latency',
        title: 'CPU used vs median latency',
        caption: 'Each point is one watcher thread. Lower-left is better: the event-driven waiter is the only one near both axes.',
        config: {
          type: 'scatter',
          data: { datasets: figures.map((f) => ({ label: f.label, data: [{ x: Math.max(1, f.latencyUs.p50), y: f.cpuPct }], pointRadius: 7 })) },
          options: {
            scales: {
              x: { type: 'logarithmic', title: { display: true, text: 'median latency (µs, log)' } },
              y: { min: 0, title: { display: true, text: 'CPU % of one core' } },
            },
          },
        },
      },
      {
        kind: 'chart',
        id: 'cpu',
        title: 'CPU % of a core while waiting',
        config: {
          type: 'bar',
          data: { labels: figures.map((f) => f.label), datasets: [{ label: 'CPU %', data: figures.map((f) => f.cpuPct) }] },
          options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, title: { display: true, text: 'CPU %' } } } },
        },
      },
    ],
    verdict: { holds, text },
    notes: [
      'CPU = the watcher thread’s on-CPU time (/proc/thread-self/schedstat) over its wall time; latency = read time − send time (one monotonic clock).',
      `events sent near the end may arrive after a sleeping poller's last check: read/sent can differ by one or two`,
    ],
  };
}

export const experiment: Experiment = {
  name: 'polling-vs-events',
  title: 'busy polling vs waiting for events',
  claim: 'A thread that keeps scanning for mouse clicks wastes CPU; waiting for the event costs nothing and still notices it at once.',
  run,
};
