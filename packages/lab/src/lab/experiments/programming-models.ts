/**
 * Experiment 2, programming models: "Three tasks that each block on I/O: synchronous runs them
 * one after another, threads run them in parallel, the event loop interleaves them in one
 * thread." Each task alternates computing (fixed work) and a request to a slow server in a child
 * process (it answers after a delay). Run synchronously (one thread, blocking sockets), in three
 * threads (blocking sockets) and on one evloop loop (non-blocking sockets); every span is timed
 * and drawn as the classic three-lane figure.
 */
import { availableParallelism } from 'node:os';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { median, round, times } from '../stats.js';
import { startWorker, type LabWorker } from '../workers.js';
import { burnItersPerMs } from './programming-models.burn.js';
import { timelineSvg, type TimelinePanel } from './programming-models.svg.js';
import type { Span, TaskParams, TaskResult } from './programming-models.worker.js';
import { startSlowServer } from './slow-server.js';
import { siblingModule } from 'evloop';

const WORKER = siblingModule(import.meta.url, './programming-models.worker');
const TASKS = [1, 2, 3];

/** Synchronous ≈ the sum of the tasks: total / sum within these bounds. */
const SYNC_RATIO = [0.9, 1.2] as const;
/** Threads ≈ the longest task (a little more: three threads share the cores). */
const THREADS_RATIO_MAX = 1.5;
/** The event loop ≈ the longest task plus the others' computing it waits behind. */
const LOOP_RATIO_MAX = 1.6;

export type ModelName = 'synchronous' | 'threads' | 'event loop';

export interface ModelRun {
  model: ModelName;
  /** ms, each repetition */
  totalsMs: number[];
  totalMs: number;
  /** distinct kernel threads the tasks ran on */
  threads: number;
  /** the repetition drawn (the median one) */
  spans: Span[];
  /** ms per task: computing, blocked, waiting (drawn run) */
  perTask: { task: number; computeMs: number; blockedMs: number; waitingMs: number; endMs: number }[];
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const rounds = ctx.quick ? 3 : 4;
  const computeMs = ctx.quick ? 10 : 15;
  const ioDelayMs = ctx.quick ? 40 : 60;
  const reps = ctx.quick ? 1 : 3;
  ctx.progress.setTotal(2 + 3 * reps);
  ctx.progress.label('starting the slow server and the threads');
  const server = await startSlowServer(ctx);
  const itersPerMs = burnItersPerMs();
  const computeIters = Math.round(itersPerMs * computeMs);
  const start = (label: string): LabWorker<TaskParams, TaskResult> => startWorker<TaskParams, TaskResult>(ctx, WORKER, { port: server.port }, { label });
  const sync = start('synchronous thread');
  const threads = TASKS.map((t) => start(`thread of task ${t}`));
  const loop = start('event loop thread');
  const all = [sync, ...threads, loop];
  await Promise.all(all.map((w) => w.ready));
  ctx.progress.tick(1, 'threads ready');

  const base = { rounds, computeIters, ioDelayMs };
  const t0 = (): string => process.hrtime.bigint().toString();
  const models: { model: ModelName; go: () => Promise<TaskResult[]> }[] = [
    { model: 'synchronous', go: () => { const t = t0(); return Promise.all([sync.run({ ...base, mode: 'blocking', tasks: TASKS, t0Ns: t })]); } },
    { model: 'threads', go: () => { const t = t0(); return Promise.all(threads.map((w, i) => w.run({ ...base, mode: 'blocking', tasks: [TASKS[i]!], t0Ns: t }))); } },
    { model: 'event loop', go: () => { const t = t0(); return Promise.all([loop.run({ ...base, mode: 'loop', tasks: TASKS, t0Ns: t })]); } },
  ];
  const runs: ModelRun[] = [];
  for (const m of models) {
    const samples: { totalMs: number; spans: Span[]; threads: number }[] = [];
    for (let r = 0; r < reps; r++) {
      ctx.signal.throwIfAborted();
      ctx.progress.label(`${m.model}, run ${r + 1}/${reps}`);
      const results = await m.go();
      const spans = results.flatMap((x) => x.spans);
      const tids = new Set(results.flatMap((x) => Object.values(x.tids)));
      samples.push({ totalMs: Math.max(...spans.map((s) => s.end)) / 1000, spans, threads: tids.size });
      ctx.progress.tick(1, `${m.model}: ${samples.at(-1)!.totalMs.toFixed(0)} ms`);
    }
    const totalMs = median(samples.map((s) => s.totalMs));
    const drawn = [...samples].sort((a, b) => Math.abs(a.totalMs - totalMs) - Math.abs(b.totalMs - totalMs))[0]!;
    runs.push({
      model: m.model,
      totalsMs: samples.map((s) => round(s.totalMs, 1)),
      totalMs: round(totalMs, 3),
      threads: drawn.threads,
      spans: drawn.spans.map((s) => ({ ...s, start: round(s.start, 1), end: round(s.end, 1) })),
      perTask: TASKS.map((task) => {
        const mine = drawn.spans.filter((s) => s.task === task);
        const sum = (k: Span['kind']): number => round(mine.filter((s) => s.kind === k).reduce((a, s) => a + s.end - s.start, 0) / 1000, 1);
        return { task, computeMs: sum('compute'), blockedMs: sum('blocked'), waitingMs: sum('waiting'), endMs: round(Math.max(...mine.map((s) => s.end)) / 1000, 1) };
      }),
    });
  }
  await Promise.all(all.map((w) => w.close()));
  await server.close();
  ctx.progress.tick(1, 'done');

  // each task's own duration (computing + blocked), measured where nothing else interferes
  const syncRun = runs[0]!;
  const own = syncRun.perTask.map((t) => t.computeMs + t.blockedMs);
  const sumMs = own.reduce((a, b) => a + b, 0);
  const maxMs = Math.max(...own);
  const [s, th, ev] = runs as [ModelRun, ModelRun, ModelRun];
  const syncRatio = s.totalMs / sumMs;
  const threadRatio = th.totalMs / maxMs;
  const loopRatio = ev.totalMs / maxMs;
  const checks = {
    synchronousIsSum: syncRatio >= SYNC_RATIO[0] && syncRatio <= SYNC_RATIO[1],
    threadsAreMax: threadRatio <= THREADS_RATIO_MAX && th.threads === TASKS.length,
    loopInterleaves: loopRatio <= LOOP_RATIO_MAX && ev.totalMs < s.totalMs,
    loopOneThread: ev.threads === 1,
  };
  const passed = Object.values(checks).filter(Boolean).length;
  const holds: boolean | 'partly' = passed === 4 ? true : th.totalMs < s.totalMs && ev.totalMs < s.totalMs ? 'partly' : false;
  const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
  const text =
    `synchronous ${fmt(s.totalMs)} vs the sum of the three tasks ${fmt(sumMs)} (×${syncRatio.toFixed(2)}); ` +
    `threads ${fmt(th.totalMs)} vs the longest task ${fmt(maxMs)} (×${threadRatio.toFixed(2)}, ${th.threads} threads); ` +
    `event loop ${fmt(ev.totalMs)} (×${loopRatio.toFixed(2)} the longest task, ${ev.threads === 1 ? 'one thread' : `${ev.threads} threads`}), ${times(s.totalMs / ev.totalMs)} faster than synchronous: ` +
    (holds === true ? 'claim holds' : holds === 'partly' ? `claim partly holds (${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')} not met)` : 'claim does not hold here');

  const panels: TimelinePanel[] = runs.map((r) => ({
    title: `${r.model} (${r.threads} thread${r.threads === 1 ? '' : 's'})`,
    totalUs: r.totalMs * 1000,
    tasks: TASKS,
    spans: r.spans,
  }));
  return {
    figures: {
      rounds, computeMs, ioDelayMs, reps, itersPerMs, computeIters,
      taskOwnMs: own.map((x) => round(x, 1)), sumMs: round(sumMs, 1), maxMs: round(maxMs, 1),
      ratios: { synchronousOverSum: round(syncRatio), threadsOverMax: round(threadRatio), loopOverMax: round(loopRatio) },
      checks,
      models: runs,
      thresholds: { syncRatio: SYNC_RATIO, threadsRatioMax: THREADS_RATIO_MAX, loopRatioMax: LOOP_RATIO_MAX },
    },
    tables: [
      {
        title: `three tasks × ${rounds} rounds of ${computeMs} ms computing + a request answered after ${ioDelayMs} ms`,
        head: ['model', 'threads', 'total', 'total / sum of tasks', 'total / longest task', 'waiting to run (all tasks)', reps > 1 ? 'runs' : ''].filter(Boolean),
        rows: runs.map((r) => [
          r.model, r.threads, fmt(r.totalMs), (r.totalMs / sumMs).toFixed(2), (r.totalMs / maxMs).toFixed(2),
          fmt(r.perTask.reduce((a, t) => a + t.waitingMs, 0)), ...(reps > 1 ? [r.totalsMs.map((x) => Math.round(x)).join(' / ')] : []),
        ]),
      },
    ],
    charts: [
      {
        kind: 'svg',
        id: 'timeline',
        title: 'What each task was doing, per programming model',
        caption: 'Blue: computing; grey: blocked on I/O; yellow: ready but waiting for its thread (or not started). Same time scale in every panel; the red line is the end of the run.',
        svg: timelineSvg(panels),
      },
    ],
    verdict: { holds, text },
    notes: [
      `computing is a fixed amount of work (${computeIters} iterations, ${computeMs} ms calibrated on this machine), so three threads on ${availableParallelism()} cores share the CPU`,
      'blocked ends when the slow server replied (its CLOCK_MONOTONIC send time); waiting is from then until the task ran again',
    ],
  };
}

export const experiment: Experiment = {
  name: 'programming-models',
  title: 'synchronous vs threads vs event loop',
  claim: 'Three tasks that each block on I/O: synchronous runs them one after another, threads run them in parallel, the event loop interleaves them in one thread.',
  run,
};
