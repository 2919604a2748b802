/**
 * The entry of one worker process of a multi-core server (see cluster.ts): its own loop and an
 * HttpServer listening with SO_REUSEPORT. Reports `{ type: 'listening', port }` over IPC; closes
 * gracefully on SIGTERM/SIGINT, on a `{ type: 'close' }` message, or when the parent goes away.
 *
 * Configuration comes in EVLOOP_HTTP_WORKER (JSON of WorkerConfig).
 */
import { createLoop } from '../loop/loop.js';
import type { PollerName } from '../poller/poller.js';
import type { HttpHandler } from './connection.js';
import { HttpServer } from './server.js';

/** What the parent tells each worker. */
export interface WorkerConfig {
  /** Module whose `createHandler(ctx)` export makes the handler. */
  module: string;
  host: string;
  port: number;
  poller?: PollerName | 'auto';
  index: number;
  closeTimeoutMs: number;
}

/** What a handler module exports for workers. */
export type HandlerFactory = (ctx: { stats: () => Record<string, unknown>; worker: number }) => HttpHandler | Promise<HttpHandler>;

const config = JSON.parse(process.env.EVLOOP_HTTP_WORKER ?? 'null') as WorkerConfig | null;
if (config === null) throw new Error('cluster-worker: EVLOOP_HTTP_WORKER is not set');

// a callback that throws is logged, never an uncaught exception that ends the worker
const loop = createLoop({ poller: config.poller ?? 'auto', onError: (err, what) => console.error(`evloop worker ${config.index}: ${what} failed:`, err) });
let server: HttpServer | null = null;
const mod = (await import(config.module)) as { createHandler: HandlerFactory };
const handler = await mod.createHandler({
  worker: config.index,
  stats: () => ({ worker: config.index, loop: loop.stats(), server: server?.stats() }),
});
server = new HttpServer(handler, { host: config.host, port: config.port, reusePort: true, loop });
const addr = await server.listen();

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server!.close({ timeoutMs: config!.closeTimeoutMs });
  loop.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('disconnect', () => void stop()); // the parent is gone: leave nothing behind
process.on('message', (m: { type?: string }) => {
  if (m?.type === 'close') void stop();
});
process.send?.({ type: 'listening', port: 'port' in addr ? addr.port : 0, pid: process.pid });
