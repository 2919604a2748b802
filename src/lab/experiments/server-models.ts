/**
 * Experiment 1, server models: "A process per request is slow because creating processes is
 * costly; a thread per request needs synchronization; one event loop with non-blocking I/O is
 * what most network servers use." The same handler (wait on a slow server, answer "ok") served
 * five ways (server-models.server.child.ts), each in its own process pinned away from the load
 * generator; a concurrency sweep per model measures req/s, latency, server CPU per request and
 * peak memory of the whole server process tree.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { EvloopError } from '../../errors.js';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { fmtUs, round, times, type LatencySummary } from '../stats.js';
import { startLoadGenerator } from './load.js';
import { CLK_TCK, nearest, startSampler } from './server-models.proc.js';
import type { ModelId, ServerSpec } from './server-models.server.child.js';
import { startSlowServer, TSX_IMPORT } from './slow-server.js';

const SERVER = new URL('./server-models.server.child.ts', import.meta.url);

/** The event loop must beat process-per-connection by this much in req/s and CPU per request… */
const PROCESS_GAP_MIN = 3;
/** …and reach this share of the best threaded model's req/s at the reference concurrency. */
const LOOP_VS_THREADS_MIN = 0.7;

export interface ServerPoint {
  model: ModelId;
  label: string;
  concurrency: number;
  rps: number;
  latency: LatencySummary;
  /** server CPU per response (µs), the whole process tree */
  cpuUsPerRequest: number | null;
  /** peak summed RSS of the server tree (MiB) */
  peakRssMiB: number;
  peakProcesses: number;
  errors: { connect: number; reset: number; timeout: number; status: number };
  /** connections not served at all inside the window (waiting since before it) */
  stalled: number;
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const cores = availableParallelism();
  const concurrencies = ctx.quick ? [1, 10] : [1, 10, 100, 1000];
  const durationMs = ctx.quick ? 400 : 1000;
  // long enough for per-connection threads and processes to start on a busy core
  const warmupMs = ctx.quick ? 300 : 700;
  const delayMs = 2;
  // the server gets every core but the last; the load generator and the slow server the last one
  const pinned = cores >= 2;
  const serverCpus = pinned ? (cores === 2 ? '0' : `0-${cores - 2}`) : undefined;
  const loadCpus = pinned ? String(cores - 1) : undefined;
  const serverCores = pinned ? cores - 1 : cores;
  const spec = { upstreamPort: 0, port: ctx.basePort === undefined ? 0 : ctx.basePort + 1, delayMs, maxChildren: 64, maxThreads: 128, poolSize: 16, reactors: Math.max(2, serverCores) };
  const models: { model: ModelId; label: string }[] = [
    { model: 'process', label: 'process per connection' },
    { model: 'thread', label: 'thread per connection' },
    { model: 'pool', label: `thread pool (${spec.poolSize})` },
    { model: 'evloop', label: 'one evloop reactor' },
    { model: 'per-core', label: `reactor per core (${spec.reactors}, SO_REUSEPORT)` },
  ];
  ctx.progress.setTotal(1 + models.length * concurrencies.length);
  ctx.progress.label('starting the slow server');
  const upstream = await startSlowServer(ctx, loadCpus);
  spec.upstreamPort = upstream.port;
  const loadgen = startLoadGenerator(ctx, loadCpus);
  ctx.progress.tick(1, 'slow server ready');

  const points: ServerPoint[] = [];
  for (const m of models) {
    ctx.signal.throwIfAborted();
    ctx.progress.label(`${m.label}: starting`);
    const server = await startServer(ctx, { ...spec, model: m.model }, serverCpus);
    try {
      for (const c of concurrencies) {
        ctx.signal.throwIfAborted();
        ctx.progress.label(`${m.label}, ${c} connections`);
        const sampler = startSampler(server.pid);
        const load = await loadgen.run({ port: server.port, connections: c, durationMs, warmupMs, timeoutMs: 10_000 });
        const samples = sampler.stop();
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
          rps: load.rps,
          latency: load.latency,
          cpuUsPerRequest: load.requests > 0 ? round((cpuMs * 1000 * (durationMs / Math.max(1, Number(b.t - a.t) / 1e6))) / load.requests, 1) : null,
          peakRssMiB: round(Math.max(...inWindow.map((s) => s.rss)) / 2 ** 20, 1),
          peakProcesses: Math.max(...inWindow.map((s) => s.processes)),
          errors: load.errors,
          stalled: load.stalled,
        });
        ctx.progress.tick(1, `${m.label}, ${c} connections: ${load.rps} req/s`);
        await new Promise((r) => setTimeout(r, 100)); // connections of the last point wind down
      }
    } finally {
      await server.close();
    }
  }
  await loadgen.close();
  await upstream.close();

  const ref = concurrencies.includes(100) ? 100 : concurrencies.at(-1)!;
  const at = (model: ModelId, c = ref): ServerPoint => points.find((p) => p.model === model && p.concurrency === c)!;
  const loop = at('evloop');
  const proc = at('process');
  const thread = at('thread');
  const pool = at('pool');
  const perCore = at('per-core');
  // throughput at the reference concurrency; CPU per request where every model answers (1 connection)
  const rpsGap = loop.rps / Math.max(1, proc.rps);
  const first = concurrencies[0]!;
  const cpuOf = (model: ModelId): number | null => at(model, first).cpuUsPerRequest;
  const cpuGap = (cpuOf('process') ?? Infinity) / Math.max(1, cpuOf('evloop') ?? Infinity);
  const bestThreaded = Math.max(thread.rps, pool.rps);
  const checks = {
    processIsSlow: rpsGap >= PROCESS_GAP_MIN,
    processCostsCpu: cpuGap >= PROCESS_GAP_MIN,
    loopKeepsUpWithThreads: loop.rps >= LOOP_VS_THREADS_MIN * bestThreaded,
  };
  const holds: boolean | 'partly' = Object.values(checks).every(Boolean) ? true : checks.processIsSlow || checks.loopKeepsUpWithThreads ? 'partly' : false;
  const errs = (p: ServerPoint): number => p.errors.connect + p.errors.reset + p.errors.timeout + p.errors.status;
  const served = (p: ServerPoint): string => `${p.rps} req/s (${p.concurrency - p.stalled} of ${p.concurrency} connections served${errs(p) > 0 ? `, ${errs(p)} errors` : ''})`;
  const cpu = (p: ServerPoint): string => (p.cpuUsPerRequest === null ? '—' : fmtUs(p.cpuUsPerRequest));
  const top = concurrencies.at(-1)!;
  const text =
    `at concurrency ${ref}: process per connection ${proc.rps} req/s${proc.rps === 0 ? ' (no response inside the window)' : ''}, ${times(rpsGap)} less than one event loop (${loop.rps} req/s); ` +
    `server CPU per request at ${first} connection${first === 1 ? '' : 's'}: ${cpu(at('process', first))} for a process vs ${cpu(at('evloop', first))} on the event loop (${Number.isFinite(cpuGap) ? times(cpuGap) : 'no data'}); ` +
    `thread per connection ${served(thread)} (peak RSS ${thread.peakRssMiB} MiB vs ${loop.peakRssMiB} MiB), thread pool ${served(pool)}, reactor per core ${perCore.rps} req/s` +
    (top !== ref ? `; at ${top} connections: event loop ${served(at('evloop', top))}, thread per connection ${served(at('thread', top))}, pool ${served(at('pool', top))}` : '') +
    ': ' + (holds === true ? 'claim holds' : holds === 'partly' ? `claim partly holds (${Object.entries(checks).filter(([, v]) => !v).map(([k]) => k).join(', ')} not met)` : 'claim does not hold here');

  return {
    figures: {
      concurrencies, durationMs, warmupMs, upstreamDelayMs: delayMs, cores, serverCpus: serverCpus ?? 'all', loadCpus: loadCpus ?? 'all', limits: spec,
      referenceConcurrency: ref, rpsGapLoopOverProcess: round(rpsGap, 1), cpuGapProcessOverLoop: round(cpuGap, 1), checks, points,
      thresholds: { processGapMin: PROCESS_GAP_MIN, loopVsThreadsMin: LOOP_VS_THREADS_MIN },
    },
    tables: [
      {
        title: `the same handler (one ${delayMs} ms request to a slow server), ${durationMs / 1000} s per point; server on CPU ${serverCpus ?? 'any'}, load on CPU ${loadCpus ?? 'any'}`,
        head: ['model', 'conns', 'req/s', 'p50', 'p99', 'CPU / req', 'peak RSS', 'procs', 'conns never served', 'errors (conn/reset/timeout/status)'],
        rows: points.map((p) => [
          p.label, p.concurrency, p.rps, fmtUs(p.latency.p50), fmtUs(p.latency.p99), cpu(p), `${p.peakRssMiB} MiB`, p.peakProcesses, p.stalled,
          `${p.errors.connect}/${p.errors.reset}/${p.errors.timeout}/${p.errors.status}`,
        ]),
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'rps',
        title: 'Requests per second vs concurrent connections',
        caption: 'Closed-loop clients; every request waits 2 ms on a slow server. Log scale on x.',
        config: {
          type: 'line',
          data: { datasets: models.map((m) => ({ label: m.label, data: points.filter((p) => p.model === m.model).map((p) => ({ x: p.concurrency, y: p.rps })) })) },
          options: { scales: { x: { type: 'logarithmic', title: { display: true, text: 'connections' } }, y: { min: 0, title: { display: true, text: 'req/s' } } } },
        },
      },
      {
        kind: 'chart',
        id: 'cpu',
        title: 'Server CPU per request vs concurrent connections',
        caption: 'utime+stime of the server process tree (children included) per response; log scales.',
        config: {
          type: 'line',
          data: { datasets: models.map((m) => ({ label: m.label, data: points.filter((p) => p.model === m.model && p.cpuUsPerRequest !== null).map((p) => ({ x: p.concurrency, y: p.cpuUsPerRequest })) })) },
          options: { scales: { x: { type: 'logarithmic', title: { display: true, text: 'connections' } }, y: { type: 'logarithmic', title: { display: true, text: 'µs of CPU per request' } } } },
        },
      },
    ],
    verdict: { holds, text },
    notes: [
      `the process-per-connection child answers one request and closes (Connection: close), so every request pays a process start (node, ${spec.maxChildren} at once at most); the others keep connections alive`,
      `a thread here is a Node Worker (its own V8 isolate: ~10 MB and ~100 ms of CPU to start, bundled plain JS + koffi), not a bare pthread; at most ${spec.maxThreads} at once, later connections wait in the backlog; "conns never served" counts connections that waited through the whole window (to be accepted, for a thread, or for a response)`,
      `the fixed pool's ${spec.poolSize} threads each serve one keep-alive connection at a time: beyond ${spec.poolSize} connections the rest wait ("never served")`,
      pinned ? `with ${cores} cores the server tree gets ${serverCores} core(s): the reactor-per-core model runs ${spec.reactors} reactors on them` : 'one core: nothing pinned',
      '"needs synchronization" is not measured here (experiment 6 measures shared state); RSS is summed over the tree\'s processes (shared pages count once per process)',
    ],
  };
}

interface RunningServer {
  pid: number;
  port: number;
  close(): Promise<void>;
}

async function startServer(ctx: LabContext, spec: ServerSpec, cpus: string | undefined): Promise<RunningServer> {
  const args = ['--import', TSX_IMPORT, SERVER.pathname, JSON.stringify(spec)];
  const child = cpus === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  ctx.cleanup.trackChild(child, `${spec.model} server`);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new EvloopError('ERR_LAB_CHILD', `the ${spec.model} server did not start within 30 s`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new EvloopError('ERR_LAB_CHILD', `the ${spec.model} server exited (code ${code}) before listening: ${err}`));
    });
  });
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
