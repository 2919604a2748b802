/**
 * The server of experiment 7 in a worker thread: one evloop reactor running the evloop HTTP
 * server. Each request does `cpuIters` of computing (on the loop's thread, or in the blocking-work
 * pool) and then waits `ioMs` on the slow server. A probe timer measures the loop's lag: how late
 * a timer due every PROBE_MS fires.
 */
import { createHttpServer, createLoop, createPool, jobRef, type HttpServer, type Loop, type WorkerPool, siblingModule } from 'evloop';
import { serveWorker } from '../worker-side.js';
import type * as Jobs from './cpu-vs-io.jobs.js';
import { burn, burnItersPerMs } from './programming-models.burn.js';
import { Upstream } from './upstream.js';

export type ServerParams =
  | { action: 'calibrate' }
  | { action: 'start'; cpuIters: number; ioMs: number; usePool: boolean; port: number }
  | { action: 'stop'; window: [string, string] }
  | { action: 'shutdown' };

export interface ServerResult {
  port?: number;
  itersPerMs?: number;
  /** lateness of the probe timer (ms): samples' p50/p99/max */
  lagMs?: { p50: number; p99: number; max: number; samples: number };
  /** loop.stats().maxLagMs of the point's loop */
  statsMaxLagMs?: number;
  requests?: number;
  handlerErrors?: number;
}

const PROBE_MS = 5;
const BURN = jobRef<typeof Jobs.burn>(siblingModule(import.meta.url, './cpu-vs-io.jobs'), 'burn');

serveWorker<{ upstreamPort: number; poolSize: number }, ServerParams, ServerResult>(({ upstreamPort, poolSize }) => {
  let pool: WorkerPool | null = null;
  let point: { loop: Loop; server: HttpServer; upstream: Upstream; lag: [bigint, number][]; stopProbe: () => void; errors: number } | null = null;
  burnItersPerMs(); // JIT warm-up
  return async (p) => {
    switch (p.action) {
      case 'calibrate':
        return { itersPerMs: burnItersPerMs() };
      case 'start': {
        if (p.usePool && pool === null) {
          pool = createPool({ size: poolSize });
          // start every worker now, not inside the measurement
          await Promise.all(Array.from({ length: poolSize }, () => pool!.run(BURN, [1])));
        }
        // uv-poll would attach to the main thread's libuv loop (uv_default_loop), not this worker's
        const loop = createLoop({ host: 'thread-wait' });
        const upstream = await Upstream.open(loop, upstreamPort);
        const usePool = p.usePool ? pool : null;
        const state = { errors: 0 };
        const server = createHttpServer(
          async (_req, res) => {
            if (p.cpuIters > 0) {
              if (usePool !== null) await usePool.run(BURN, [p.cpuIters]);
              else burn(p.cpuIters);
            }
            if (p.ioMs > 0) await upstream.request(p.ioMs);
            res.end('ok');
          },
          { loop, host: '127.0.0.1', port: p.port, onError: () => void state.errors++ },
        );
        const addr = await server.listen();
        const lag: [bigint, number][] = [];
        let due = performance.now() + PROBE_MS;
        let timer = loop.callLater(PROBE_MS, function probe() {
          const now = performance.now();
          lag.push([process.hrtime.bigint(), Math.max(0, now - due)]);
          due = now + PROBE_MS;
          timer = loop.callLater(PROBE_MS, probe);
        });
        point = { loop, server, upstream, lag, stopProbe: () => timer.cancel(), errors: 0 };
        Object.defineProperty(point, 'errors', { get: () => state.errors });
        return { port: addr.family === 'unix' ? 0 : addr.port };
      }
      case 'stop': {
        if (point === null) return {};
        const { loop, server, upstream, lag, stopProbe } = point;
        stopProbe();
        const stats = server.stats();
        const statsMaxLagMs = loop.stats().maxLagMs;
        await server.close({ timeoutMs: 200 });
        upstream.close();
        await new Promise((r) => setTimeout(r, 10));
        loop.close();
        const errors = point.errors;
        point = null;
        // only what happened while the load generator measured
        const [from, to] = p.window.map(BigInt) as [bigint, bigint];
        const s = lag.filter(([t]) => t >= from && t <= to).map(([, ms]) => ms).sort((a, b) => a - b);
        const q = (f: number): number => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(f * s.length))]!);
        return { lagMs: { p50: q(0.5), p99: q(0.99), max: s.at(-1) ?? 0, samples: s.length }, statsMaxLagMs, requests: stats.requests, handlerErrors: errors };
      }
      case 'shutdown':
        await pool?.close();
        pool = null;
        return {};
    }
  };
});
