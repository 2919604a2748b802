/**
 * Experiment 1, server models: "A process per request is slow because creating processes is
 * costly; a thread per request needs synchronization; one event loop with non-blocking I/O is
 * what most network servers use." The same handler (wait on a slow server, answer "ok") served
 * five ways (server-models.server.child.ts), each in its own process pinned away from the load
 * generator; a concurrency sweep per model first waits until every connection answered once (the
 * start-up: threads and processes starting) and then measures steady state — req/s, latency,
 * server CPU per request and peak memory of the whole server process tree.
 */
import { availableParallelism } from 'node:os';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { fmtUs, round, times, type LatencySummary } from '../stats.js';
import { startLoadGenerator } from './load.js';
import { CLK_TCK, nearest, startSampler } from './server-models.proc.js';
import type { ModelId, ServerSpec } from './server-models.server.child.js';
import { startSlowServer } from './slow-server.js';
import { spawnNode, waitForPort } from '../child-port.js';
import { siblingModule, nodeArgsFor } from 'evloop';

const SERVER = siblingModule(import.meta.url, './server-models.server.child');

/** The event loop must beat process-per-connection by this much in req/s and CPU per request… */
const PROCESS_GAP_MIN = 3;
/** …and reach this share of the best threaded model's req/s at the reference concurrency. */
const LOOP_VS_THREADS_MIN = 0.7;
/**
 * Above the reference concurrency, thread per connection is not run when its start-up,
 * extrapolated from the previous point (threads come up at a steady rate on the server's cores),
 * would exceed this: the default run stays within about a minute.
 */
const THREAD_STARTUP_BUDGET_MS = 8_000;

export interface ServerPoint {
  model: ModelId;
  label: string;
  concurrency: number;
  /** connections the model serves at once (its limit; null: no limit): the start-up phase waits for this many */
  capacity: number | null;
  /** ms until every connection (at most `capacity`) had its first response: the start-up phase */
  startupMs: number;
  /** connections that had answered once when the start-up phase ended */
  up: number;
  /** the start-up phase hit its bound (`up` < min(concurrency, capacity)); measured with those */
  startupBoundHit: boolean;
  /** server CPU spent in the start-up phase (ms), the whole process tree */
  startupCpuMs: number;
  /** steady state, in the window after the start-up phase (`windowMs` long: at least one round) */
  rps: number;
  windowMs: number;
  /** the window hit its bound before every connection up had answered once more */
  roundCut: boolean;
  latency: LatencySummary;
  /** server CPU per response (µs), the whole process tree */
  cpuUsPerRequest: number | null;
  /** peak summed RSS of the server tree (MiB) */
  peakRssMiB: number;
  peakProcesses: number;
  errors: { connect: number; reset: number; timeout: number; status: number };
  /** connections measured but not served at all inside the window (waiting since before it); with
   *  `startupBoundHit` the `concurrency − up` connections that never came up were closed before it */
  stalled: number;
}

/** A point not measured, and why. */
export interface SkippedPoint {
  model: ModelId;
  concurrency: number;
  reason: string;
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const cores = availableParallelism();
  const concurrencies = ctx.quick ? [1, 10] : [1, 10, 100, 1000];
  const durationMs = ctx.quick ? 400 : 1000;
  // the start-up phase: until every connection answered once, at most this long…
  const startupMaxMs = ctx.quick ? 5_000 : 20_000;
  // …then this long to settle before the window, which lasts durationMs and at least one round
  // of responses (a process per request, 16 at once: over a second), at most windowMaxMs
  const settleMs = ctx.quick ? 100 : 200;
  const windowMaxMs = ctx.quick ? 3_000 : 10_000;
  const delayMs = 2;
  // the server gets every core but the last; the load generator and the slow server the last one
  const pinned = cores >= 2;
  const serverCpus = pinned ? (cores === 2 ? '0' : `0-${cores - 2}`) : undefined;
  const loadCpus = pinned ? String(cores - 1) : undefined;
  const serverCores = pinned ? cores - 1 : cores;
  // at most 16 processes at once: node processes starting together share the server's core, so a
  // request's latency is about (processes at once) × one start (~70 ms of CPU); 64 took ~5 s a round
  const spec = { upstreamPort: 0, port: ctx.basePort === undefined ? 0 : ctx.basePort + 1, delayMs, maxChildren: 16, maxThreads: 128, poolSize: 16, reactors: Math.max(2, serverCores) };
  const models: { model: ModelId; label: string; capacity: number; unit: string }[] = [
    { model: 'process', label: 'process per connection', capacity: spec.maxChildren, unit: 'processes' },
    { model: 'thread', label: 'thread per connection', capacity: spec.maxThreads, unit: 'threads' },
    { model: 'pool', label: `thread pool (${spec.poolSize})`, capacity: spec.poolSize, unit: 'threads' },
    { model: 'evloop', label: 'one evloop reactor', capacity: Infinity, unit: '' },
    { model: 'per-core', label: `reactor per core (${spec.reactors}, SO_REUSEPORT)`, capacity: Infinity, unit: '' },
  ];
  const ref = concurrencies.includes(100) ? 100 : concurrencies.at(-1)!;
  ctx.progress.setTotal(1 + models.length * concurrencies.length);
  ctx.progress.label('starting the slow server');
  const upstream = await startSlowServer(ctx, loadCpus);
  spec.upstreamPort = upstream.port;
  const loadgen = startLoadGenerator(ctx, loadCpus);
  ctx.progress.tick(1, 'slow server ready');

  const points: ServerPoint[] = [];
  const skipped: SkippedPoint[] = [];
  /** ms from spawning a model's server to its listening (the pool starts its threads here) */
  const serverStartMs: Partial<Record<ModelId, number>> = {};
  for (const m of models) {
    ctx.signal.throwIfAborted();
    ctx.progress.label(`${m.label}: starting`);
    const t0 = performance.now();
    const server = await startServer(ctx, { ...spec, model: m.model }, serverCpus);
    serverStartMs[m.model] = Math.round(performance.now() - t0);
    try {
      for (const c of concurrencies) {
        ctx.signal.throwIfAborted();
        const prev = points.filter((p) => p.model === m.model).at(-1);
        if (m.model === 'thread' && c > ref && prev !== undefined && !prev.startupBoundHit) {
          // threads come up at a steady rate on the server's cores: extrapolate the start-up
          const threads = Math.min(c, m.capacity);
          const predicted = (prev.startupMs * threads) / Math.min(prev.concurrency, m.capacity);
          if (predicted > THREAD_STARTUP_BUDGET_MS) {
            skipped.push({ model: m.model, concurrency: c, reason: `not run: starting ${threads} threads would take ≈ ${(predicted / 1000).toFixed(0)} s (${fmtMs(prev.startupMs)} for ${Math.min(prev.concurrency, m.capacity)}), over the ${THREAD_STARTUP_BUDGET_MS / 1000} s budget` });
            ctx.progress.tick(1, `${m.label}, ${c} connections: skipped`);
            continue;
          }
        }
        ctx.progress.label(`${m.label}, ${c} connections: starting up`);
        const sampler = startSampler(server.pid);
        const expect = Math.min(c, m.capacity);
        const load = await loadgen.run({ port: server.port, connections: c, durationMs, warmupMs: settleMs, timeoutMs: 30_000, untilServed: { expect, maxMs: startupMaxMs, windowMaxMs } });
        const samples = sampler.stop();
        const cpuTicks = (w: readonly string[]): number => nearest(samples, BigInt(w[1]!)).ticks - nearest(samples, BigInt(w[0]!)).ticks;
        const [from, to] = load.window.map(BigInt) as [bigint, bigint];
        const a = nearest(samples, from);
        const b = nearest(samples, to);
        const cpuMs = ((b.ticks - a.ticks) * 1000) / CLK_TCK;
        const measured = samples.filter((s) => s.t >= from && s.t <= to);
        const inWindow = measured.length > 0 ? measured : samples;
        points.push({
          model: m.model,
          label: m.label,
          concurrency: c,
          capacity: Number.isFinite(m.capacity) ? m.capacity : null,
          startupMs: load.startupMs!,
          up: load.up!,
          startupBoundHit: load.boundHit!,
          startupCpuMs: Math.round((cpuTicks(load.startup!) * 1000) / CLK_TCK),
          rps: load.rps,
          windowMs: load.measuredMs,
          roundCut: load.roundCut!,
          latency: load.latency,
          cpuUsPerRequest: load.requests > 0 ? round((cpuMs * 1000 * (load.measuredMs / Math.max(1, Number(b.t - a.t) / 1e6))) / load.requests, 1) : null,
          peakRssMiB: round(Math.max(...inWindow.map((s) => s.rss)) / 2 ** 20, 1),
          peakProcesses: Math.max(...inWindow.map((s) => s.processes)),
          errors: load.errors,
          stalled: load.stalled,
        });
        ctx.progress.tick(1, `${m.label}, ${c} connections: up in ${fmtMs(load.startupMs!)}, ${load.rps} req/s`);
        await new Promise((r) => setTimeout(r, 100)); // connections of the last point wind down
      }
    } finally {
      await server.close();
    }
  }
  await loadgen.close();
  await upstream.close();

  const find = (model: ModelId, c: number): ServerPoint | undefined => points.find((p) => p.model === model && p.concurrency === c);
  const at = (model: ModelId, c = ref): ServerPoint => find(model, c)!;
  const loop = at('evloop');
  const proc = at('process');
  const thread = at('thread');
  const pool = at('pool');
  const perCore = at('per-core');
  // steady state at the reference concurrency: throughput, and server CPU per request
  const rpsGap = loop.rps / Math.max(1, proc.rps);
  // no response in the window (no CPU per request): no ratio, the check fails
  const cpuGap = proc.cpuUsPerRequest === null || loop.cpuUsPerRequest === null ? NaN : proc.cpuUsPerRequest / Math.max(1, loop.cpuUsPerRequest);
  const bestThreaded = Math.max(thread.rps, pool.rps);
  const checks = {
    processIsSlow: rpsGap >= PROCESS_GAP_MIN,
    processCostsCpu: Number.isFinite(cpuGap) && cpuGap >= PROCESS_GAP_MIN,
    loopKeepsUpWithThreads: loop.rps >= LOOP_VS_THREADS_MIN * bestThreaded,
  };
  const holds: boolean | 'partly' = Object.values(checks).every(Boolean) ? true : checks.processIsSlow || checks.loopKeepsUpWithThreads ? 'partly' : false;
  const cap = (p: ServerPoint): number => p.capacity ?? Infinity;
  const errs = (p: ServerPoint): number => p.errors.connect + p.errors.reset + p.errors.timeout + p.errors.status;
  const servedBy = (p: ServerPoint): string => {
    const m = models.find((x) => x.model === p.model)!;
    if (p.model === 'evloop') return '1 thread';
    if (p.model === 'per-core') return `${spec.reactors} processes`;
    if (p.model === 'pool') return `${spec.poolSize} threads for ${p.concurrency} connection${p.concurrency === 1 ? '' : 's'}`;
    const n = Math.min(p.concurrency, m.capacity);
    const what = p.model === 'process' ? `${n} process${n === 1 ? '' : 'es'} at once, one per request` : `${n} thread${n === 1 ? '' : 's'}`;
    return p.concurrency > m.capacity ? `${what} for ${p.concurrency} connections` : what;
  };
  // connections served in the window: of those measured (past a start-up bound, only those that came up)
  const nServed = (p: ServerPoint): number => (p.startupBoundHit ? p.up : p.concurrency) - p.stalled;
  const served = (p: ServerPoint, extra = ''): string =>
    `${p.rps} req/s (${nServed(p)} of ${p.concurrency} connections served${p.concurrency > cap(p) ? `: ${servedBy(p)}` : ''}${errs(p) > 0 ? `, ${errs(p)} errors` : ''}${extra})`;
  const cpu = (p: ServerPoint): string => (p.cpuUsPerRequest === null ? '—' : fmtUs(p.cpuUsPerRequest));
  const up = (p: ServerPoint): string => (p.startupBoundHit ? `only ${p.up} of ${Math.min(p.concurrency, cap(p))} up after ${fmtMs(p.startupMs)}` : fmtMs(p.startupMs));
  const top = concurrencies.at(-1)!;
  const topThread = find('thread', top);
  const startup =
    `start-up (until every connection answered once): thread per connection ${up(thread)} to start ${Math.min(ref, spec.maxThreads)} threads (${fmtMs(thread.startupCpuMs)} of server CPU), then ${thread.rps} req/s; ` +
    `process per connection ${up(proc)} for its first ${Math.min(ref, spec.maxChildren)} requests (a process each, as every request after); ` +
    `thread pool ${up(pool)} (its ${spec.poolSize} threads start with the server: ${fmtMs(serverStartMs.pool!)}); event loop ${up(loop)}; reactor per core ${up(perCore)}`;
  const text =
    `steady state at concurrency ${ref}: process per connection ${proc.rps} req/s (a new process per request), ${times(rpsGap)} less than one event loop (${loop.rps} req/s); ` +
    `server CPU per request ${cpu(proc)} for a process vs ${cpu(loop)} on the event loop (${Number.isFinite(cpuGap) ? times(cpuGap) : 'no data'}); ` +
    `thread per connection ${served(thread, `; peak RSS ${thread.peakRssMiB} MiB vs ${loop.peakRssMiB} MiB`)}, thread pool ${served(pool)}, reactor per core ${perCore.rps} req/s` +
    (top !== ref
      ? `; at ${top} connections: event loop ${served(at('evloop', top))}, thread per connection ${topThread ? served(topThread) : 'not run (start-up over budget)'}, pool ${served(at('pool', top))}, process per connection ${served(at('process', top))}`
      : '') +
    `; ${startup}` +
    ': ' + (holds === true ? 'claim holds' : holds === 'partly' ? `claim partly holds (${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')} not met)` : 'claim does not hold here');

  const rows: (string | number)[][] = [];
  for (const m of models) {
    for (const c of concurrencies) {
      const p = find(m.model, c);
      if (p === undefined) {
        const s = skipped.find((x) => x.model === m.model && x.concurrency === c);
        rows.push([m.label, c, s?.reason ?? 'not run', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—']);
        continue;
      }
      rows.push([
        p.label, p.concurrency, servedBy(p), up(p), fmtMs(p.windowMs), p.rps, fmtUs(p.latency.p50), fmtUs(p.latency.p99), cpu(p), `${p.peakRssMiB} MiB`, p.peakProcesses, p.concurrency - nServed(p),
        `${p.errors.connect}/${p.errors.reset}/${p.errors.timeout}/${p.errors.status}`,
      ]);
    }
  }
  const notes = [
    `each point has two phases: start-up — every connection opened at once, until each had its first response (for a model that serves at most K connections at once — ${spec.maxChildren} processes, ${spec.maxThreads} threads, the pool's ${spec.poolSize} — until K had), bounded at ${startupMaxMs / 1000} s (past the bound the connections that never answered are closed and the point is measured with those that did) — then ${settleMs} ms to settle and a window of ${durationMs / 1000} s and at least one round (as many responses as connections up, so a model whose requests take seconds — a process per request, ${spec.maxChildren} at once — shows its rate, not an empty window; at most ${windowMaxMs / 1000} s): req/s, latency, CPU per request and RSS are steady state, start-up is reported apart`,
    `the process-per-connection child answers one request and closes (Connection: close), so every request pays a process start (node, ${spec.maxChildren} at once at most): its "start-up" is only its first ${spec.maxChildren} requests, and its steady state is process creation; past ${spec.maxChildren} connections the others wait their turn in the backlog (at ~15 req/s, longer than the window: "conns never served"); the other models keep connections alive`,
    `a thread here is a Node Worker (its own V8 isolate: ~10 MB and ~80–120 ms of CPU to start, bundled plain JS + koffi, without tsx), not a bare pthread; at most ${spec.maxThreads} at once, later connections wait in the backlog ("${spec.maxThreads} threads for N connections")`,
    `the fixed pool's ${spec.poolSize} threads each serve one keep-alive connection at a time: beyond ${spec.poolSize} connections the rest wait for the whole window — "conns never served" counts them (a bounded pool starves keep-alive clients past its size); its threads start with the server (${fmtMs(serverStartMs.pool!)} from spawn to listening, vs ${fmtMs(serverStartMs.evloop!)} for the event loop)`,
    ...skipped.map((s) => `${models.find((m) => m.model === s.model)!.label} at ${s.concurrency} connections ${s.reason}`),
    ...points.filter((p) => p.roundCut).map((p) => `${p.label} at ${p.concurrency} connections: the window ended at its ${windowMaxMs / 1000} s bound before one round of responses`),
    ...points.filter((p) => p.startupBoundHit).map((p) => `${p.label} at ${p.concurrency} connections: start-up bound hit — ${p.up} of ${Math.min(p.concurrency, cap(p))} connections answered within ${startupMaxMs / 1000} s; measured with those ${p.up}`),
    pinned ? `with ${cores} cores the server tree gets ${serverCores} core(s): the reactor-per-core model runs ${spec.reactors} reactors on them` : 'one core: nothing pinned',
    '"needs synchronization" is not measured here (experiment 6 measures shared state); RSS is summed over the tree\'s processes (shared pages count once per process)',
  ];

  return {
    figures: {
      concurrencies, durationMs, settleMs, startupMaxMs, windowMaxMs, upstreamDelayMs: delayMs, cores, serverCpus: serverCpus ?? 'all', loadCpus: loadCpus ?? 'all', limits: spec,
      serverStartMs, referenceConcurrency: ref, rpsGapLoopOverProcess: round(rpsGap, 1), cpuGapProcessOverLoop: Number.isFinite(cpuGap) ? round(cpuGap, 1) : null, checks, points, skipped,
      thresholds: { processGapMin: PROCESS_GAP_MIN, loopVsThreadsMin: LOOP_VS_THREADS_MIN, threadStartupBudgetMs: THREAD_STARTUP_BUDGET_MS },
    },
    tables: [
      {
        title: `the same handler (one ${delayMs} ms request to a slow server); start-up until every connection answered once, then ≥ ${durationMs / 1000} s of steady state per point (window); server on CPU ${serverCpus ?? 'any'}, load on CPU ${loadCpus ?? 'any'}`,
        head: ['model', 'conns', 'served by', 'start-up', 'window', 'req/s', 'p50', 'p99', 'CPU / req', 'peak RSS', 'procs', 'conns never served', 'errors (conn/reset/timeout/status)'],
        rows,
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'rps',
        title: 'Requests per second vs concurrent connections (steady state)',
        caption: `Closed-loop clients, measured after every connection answered once; every request waits ${delayMs} ms on a slow server. Log scale on x.` +
          (skipped.length > 0 ? ` Not run: ${skipped.map((s) => `${models.find((m) => m.model === s.model)!.label} at ${s.concurrency}`).join(', ')} (start-up over budget).` : ''),
        config: {
          type: 'line',
          data: { datasets: models.map((m) => ({ label: m.label, data: points.filter((p) => p.model === m.model).map((p) => ({ x: p.concurrency, y: p.rps })) })) },
          options: { scales: { x: { type: 'logarithmic', title: { display: true, text: 'connections' } }, y: { min: 0, title: { display: true, text: 'req/s' } } } },
        },
      },
      {
        kind: 'chart',
        id: 'startup',
        title: 'Start-up: time until every connection answered once',
        caption: `From opening all connections to the last first response (a model that serves at most K connections at once: until K answered). ` +
          `Server start before that (spawn to listening): ${models.map((m) => `${m.label} ${fmtMs(serverStartMs[m.model]!)}`).join(', ')}. Log scales.`,
        config: {
          type: 'line',
          data: { datasets: models.map((m) => ({ label: m.label, data: points.filter((p) => p.model === m.model).map((p) => ({ x: p.concurrency, y: Math.max(1, p.startupMs) })) })) },
          options: { scales: { x: { type: 'logarithmic', title: { display: true, text: 'connections' } }, y: { type: 'logarithmic', title: { display: true, text: 'ms until every connection answered' } } } },
        },
      },
      {
        kind: 'chart',
        id: 'cpu',
        title: 'Server CPU per request vs concurrent connections (steady state)',
        caption: 'utime+stime of the server process tree (children included) per response; log scales.',
        config: {
          type: 'line',
          data: { datasets: models.map((m) => ({ label: m.label, data: points.filter((p) => p.model === m.model && p.cpuUsPerRequest !== null).map((p) => ({ x: p.concurrency, y: p.cpuUsPerRequest })) })) },
          options: { scales: { x: { type: 'logarithmic', title: { display: true, text: 'connections' } }, y: { type: 'logarithmic', title: { display: true, text: 'µs of CPU per request' } } } },
        },
      },
    ],
    verdict: { holds, text },
    notes,
  };
}

/** ms as a short human string ("12 ms", "9.1 s"). */
function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

interface RunningServer {
  pid: number;
  port: number;
  close(): Promise<void>;
}

async function startServer(ctx: LabContext, spec: ServerSpec, cpus: string | undefined): Promise<RunningServer> {
  const args = [...nodeArgsFor(SERVER), SERVER.pathname, JSON.stringify(spec)];
  const child = spawnNode(args, cpus, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  ctx.cleanup.trackChild(child, `${spec.model} server`);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  const port = await waitForPort(child, `${spec.model} server`, 30_000, () => err);
  return {
    pid: child.pid!,
    port,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid!, 'SIGTERM'); // the whole group: per-connection children too
      } catch {
        child.kill('SIGTERM');
      }
      await gone;
    },
  };
}

export const experiment: Experiment = {
  name: 'server-models',
  title: 'process / thread per connection, thread pool, event loop',
  claim: 'A process per request is slow because creating processes is costly; a thread per request needs synchronization; one event loop with non-blocking I/O is what most network servers use.',
  requires: ['taskset'],
  run,
};
