/**
 * Experiment 7, CPU vs I/O: "The event model fits many independent tasks that block on I/O."
 * Every request costs a fixed budget split between computing and waiting on a slow server (a
 * child process); the CPU share is swept from pure I/O to pure CPU. One evloop reactor serves
 * them (the evloop HTTP server, in a worker thread) under a closed-loop load (a child process);
 * measured: throughput, latency, and the loop's lag (a probe timer). Then the same with the CPU
 * part moved to the blocking-work pool.
 */
import { availableParallelism } from 'node:os';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { fmtUs, round, times, type LatencySummary } from '../stats.js';
import { startWorker } from '../workers.js';
import type { ServerParams, ServerResult } from './cpu-vs-io.worker.js';
import { startLoadGenerator } from './load.js';
import { startSlowServer } from './slow-server.js';
import { siblingModule } from 'evloop';

const WORKER = siblingModule(import.meta.url, './cpu-vs-io.worker');
const SHARES = [0, 0.25, 0.5, 0.75, 1];
const BUDGET_MS = 10;

/** Pure I/O must reach this share of the ideal throughput (connections / budget)… */
const IO_EFFICIENCY_MIN = 0.6;
/** …the loop "stops winning" where its throughput falls under this share of pure I/O… */
const STOPS_WINNING = 0.5;
/** …and the pool must cut the loop's p99 lag at 100% CPU at least this many times… */
const POOL_LAG_CUT_MIN = 3;
/** …keeping this share of the loop's throughput (more needs free cores: the load shares them). */
const POOL_RPS_MIN = 0.8;

export interface CpuIoPoint {
  share: number;
  cpuMs: number;
  ioMs: number;
  pool: boolean;
  rps: number;
  latency: LatencySummary;
  lagMs: { p50: number; p99: number; max: number; samples: number };
  errors: number;
  /** the loop's CPU cap for this share: 1000 / cpuMs req/s (Infinity for pure I/O) */
  loopCapRps: number | null;
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const connections = ctx.quick ? 16 : 32;
  const durationMs = ctx.quick ? 500 : 2500;
  const warmupMs = ctx.quick ? 200 : 400;
  const poolSize = availableParallelism();
  const plan = SHARES.flatMap((share) => (share === 0 ? [{ share, pool: false }] : [{ share, pool: false }, { share, pool: true }]));
  ctx.progress.setTotal(1 + plan.length);
  ctx.progress.label('starting the slow server and the server thread');
  const upstream = await startSlowServer(ctx);
  const server = startWorker<ServerParams, ServerResult>(ctx, WORKER, { upstreamPort: upstream.port, poolSize }, { label: 'evloop server thread' });
  const loadgen = startLoadGenerator(ctx);
  await server.ready;
  const { itersPerMs } = await server.run({ action: 'calibrate' });
  ctx.progress.tick(1, 'ready');

  const points: CpuIoPoint[] = [];
  for (const { share, pool } of plan) {
    ctx.signal.throwIfAborted();
    const cpuMs = share * BUDGET_MS;
    const ioMs = BUDGET_MS - cpuMs;
    const label = `${Math.round(share * 100)}% CPU${pool ? ' in the pool' : ''}`;
    ctx.progress.label(label);
    const { port } = await server.run({ action: 'start', cpuIters: Math.round(cpuMs * itersPerMs!), ioMs, usePool: pool, port: ctx.basePort === undefined ? 0 : ctx.basePort + 1 });
    let stopped = false;
    try {
      const load = await loadgen.run({ port: port!, connections, durationMs, warmupMs, timeoutMs: 10_000 });
      const s = await server.run({ action: 'stop', window: load.window });
      stopped = true;
      points.push({
        share, cpuMs, ioMs, pool,
        rps: load.rps,
        latency: load.latency,
        lagMs: { p50: round(s.lagMs!.p50, 2), p99: round(s.lagMs!.p99, 2), max: round(s.lagMs!.max, 2), samples: s.lagMs!.samples },
        errors: load.errors.connect + load.errors.reset + load.errors.timeout + load.errors.status + (s.handlerErrors ?? 0),
        loopCapRps: cpuMs > 0 ? round(1000 / cpuMs, 1) : null,
      });
      ctx.progress.tick(1, `${label}: ${load.rps} req/s, lag p99 ${s.lagMs!.p99.toFixed(1)} ms`);
    } finally {
      if (!stopped) await server.run({ action: 'stop', window: ['0', '0'] }).catch(() => {});
    }
  }
  await loadgen.close();
  await server.run({ action: 'shutdown' });
  await server.close();
  await upstream.close();

  const loopPts = points.filter((p) => !p.pool);
  const poolPts = [points[0]!, ...points.filter((p) => p.pool)]; // pure I/O has nothing to move
  const io = loopPts[0]!;
  const idealRps = (connections * 1000) / BUDGET_MS;
  const ioEfficiency = io.rps / idealRps;
  const stop = loopPts.find((p) => p.share > 0 && p.rps < STOPS_WINNING * io.rps) ?? null;
  const cpuLoop = loopPts.at(-1)!;
  const cpuPool = poolPts.at(-1)!;
  const lagCut = cpuLoop.lagMs.p99 / Math.max(0.05, cpuPool.lagMs.p99);
  const checks = {
    ioNearIdeal: ioEfficiency >= IO_EFFICIENCY_MIN,
    loopStopsWinning: stop !== null,
    poolRecovers: lagCut >= POOL_LAG_CUT_MIN && cpuPool.rps >= cpuLoop.rps * POOL_RPS_MIN,
  };
  const holds: boolean | 'partly' = checks.ioNearIdeal && checks.loopStopsWinning && checks.poolRecovers ? true : checks.ioNearIdeal ? 'partly' : false;
  const pct = (s: number): string => `${Math.round(s * 100)}%`;
  const text =
    `pure I/O: ${io.rps} req/s from one thread (${Math.round(ioEfficiency * 100)}% of the ${idealRps} that ${connections} connections × ${BUDGET_MS} ms allow), loop lag p99 ${io.lagMs.p99} ms; ` +
    (stop !== null
      ? `the loop stops winning at ${pct(stop.share)} CPU: ${stop.rps} req/s (its CPU cap ${stop.loopCapRps} req/s), lag p99 ${stop.lagMs.p99} ms; `
      : `throughput never fell below ${pct(STOPS_WINNING)} of pure I/O; `) +
    `at 100% CPU ${cpuLoop.rps} req/s with lag p99 ${cpuLoop.lagMs.p99} ms on the loop vs ${cpuPool.rps} req/s with lag p99 ${cpuPool.lagMs.p99} ms with the pool (${poolSize} threads, lag ${times(lagCut)} lower): ` +
    (holds === true ? 'claim holds' : holds === 'partly' ? `claim partly holds (${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')} not met)` : 'claim does not hold here');

  const labels = SHARES.map(pct);
  return {
    figures: {
      budgetMs: BUDGET_MS, connections, durationMs, warmupMs, poolSize, itersPerMs, idealRps,
      ioEfficiency: round(ioEfficiency), stopsWinningAtShare: stop?.share ?? null, lagCut: round(lagCut, 1), checks, points,
      thresholds: { ioEfficiencyMin: IO_EFFICIENCY_MIN, stopsWinning: STOPS_WINNING, poolLagCutMin: POOL_LAG_CUT_MIN, poolRpsMin: POOL_RPS_MIN },
    },
    tables: [
      {
        title: `requests of ${BUDGET_MS} ms (CPU + I/O), ${connections} connections, ${durationMs / 1000} s per point, one evloop reactor`,
        head: ['CPU share', 'CPU / I/O', 'CPU runs on', 'req/s', 'loop cap', 'p50', 'p99', 'loop lag p99', 'lag max', 'errors'],
        rows: points.map((p) => [
          pct(p.share), `${p.cpuMs} / ${p.ioMs} ms`, p.share === 0 ? '—' : p.pool ? `pool (${poolSize})` : 'the loop', p.rps,
          p.loopCapRps === null ? '—' : p.pool ? '—' : Math.round(p.loopCapRps), fmtUs(p.latency.p50), fmtUs(p.latency.p99), `${p.lagMs.p99} ms`, `${p.lagMs.max} ms`, p.errors,
        ]),
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'throughput',
        title: 'Throughput vs CPU share of each request',
        caption: `Each request costs ${BUDGET_MS} ms; the rest of the budget is a wait on the slow server. Pure I/O: the loop serves ${connections} requests at once from one thread.`,
        config: {
          type: 'line',
          data: { labels, datasets: [
            { label: 'CPU on the loop', data: loopPts.map((p) => p.rps) },
            { label: `CPU in the pool (${poolSize} threads)`, data: poolPts.map((p) => p.rps) },
            { label: `ideal (${connections} conns / budget)`, data: labels.map(() => idealRps), borderDash: [4, 4] },
          ] },
          options: { scales: { y: { min: 0, title: { display: true, text: 'req/s' } }, x: { title: { display: true, text: 'CPU share of each request' } } } },
        },
      },
      {
        kind: 'chart',
        id: 'lag',
        title: 'Loop lag (p99) vs CPU share',
        caption: 'How late a 5 ms probe timer fired while the load ran: what every other request on the loop waits.',
        config: {
          type: 'line',
          data: { labels, datasets: [
            { label: 'CPU on the loop', data: loopPts.map((p) => p.lagMs.p99) },
            { label: `CPU in the pool (${poolSize} threads)`, data: poolPts.map((p) => p.lagMs.p99) },
          ] },
          options: { scales: { y: { type: 'logarithmic', title: { display: true, text: 'lag p99 (ms)' } }, x: { title: { display: true, text: 'CPU share of each request' } } } },
        },
      },
    ],
    verdict: { holds, text },
    notes: [
      `the server, the load generator, the slow server and the pool share this machine's ${availableParallelism()} cores (not pinned)`,
      'computing is a fixed amount of work calibrated on the server thread; the 0% point has no CPU to move, so it stands for both series',
    ],
  };
}

export const experiment: Experiment = {
  name: 'cpu-vs-io',
  title: 'CPU-bound vs I/O-bound work on one event loop',
  claim: 'The event model fits many independent tasks that block on I/O.',
  run,
};
