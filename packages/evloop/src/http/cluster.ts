/**
 * Multi-core serving: N worker processes (`node cluster-worker.js`), each with its
 * own reactor, all listening on the same port with SO_REUSEPORT so the kernel spreads
 * connections across them. For port 0 the first worker binds a free port and reports it; the
 * others join that port. Closing (or a worker failing to start) stops every worker: no child is
 * left behind.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isTypeScript, nodeArgsFor, siblingModule } from '../process/entry.js';
import type { PollerName } from '../poller/poller.js';
import type { WorkerConfig } from './cluster-worker.js';
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';

export interface ClusterOptions {
  /** Module (path or file URL) exporting `createHandler(ctx)` (see cluster-worker.ts). */
  module: string;
  workers: number;
  host?: string;
  port?: number;
  poller?: PollerName | 'auto';
  /** Graceful-close budget of each worker. Default 5 s. */
  closeTimeoutMs?: number;
  /** A worker exited on its own (not through close()). */
  onWorkerExit?: (index: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** A running multi-core server. */
export interface Cluster {
  readonly host: string;
  readonly port: number;
  readonly pids: number[];
  /** Stops every worker (gracefully, then SIGKILL after the budget); resolves when all exited. */
  close(): Promise<void>;
}

const WORKER = siblingModule(import.meta.url, './cluster-worker');

/**
 * @example
 * const c = await serveCluster({ module: new URL('./app.ts', import.meta.url).href, workers: 4, port: 8080 });
 * console.log(`listening on ${c.host}:${c.port} with pids ${c.pids}`);
 * await c.close();
 */
export async function serveCluster(options: ClusterOptions): Promise<Cluster> {
  const n = options.workers;
  if (!Number.isInteger(n) || n < 1) throw httpError('ERR_INVALID_ARG', `workers must be a positive integer, got ${String(n)}`);
  const host = options.host ?? '127.0.0.1';
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  const children: ChildProcess[] = [];
  const exited: Promise<void>[] = [];
  let closing = false;

  const start = (index: number, port: number): Promise<number> => {
    const config: WorkerConfig = { module: options.module, host, port, poller: options.poller, index, closeTimeoutMs };
    const child = fork(fileURLToPath(WORKER), [], {
      // A TypeScript app module needs the loader even when evloop itself is built.
      execArgv: nodeArgsFor(isTypeScript(options.module) ? options.module : WORKER),
      env: { ...process.env, EVLOOP_HTTP_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    exited.push(new Promise((resolve) => child.once('exit', (code, signal) => {
      if (!closing) options.onWorkerExit?.(index, code, signal);
      resolve();
    })));
    return new Promise((resolve, reject) => {
      const onMessage = (m: { type?: string; port?: number }): void => {
        if (m?.type !== 'listening') return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve(m.port!);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        reject(httpError(HTTP_SERVER_CODES.WORKER_FAILED, `worker ${index} exited before listening (code ${code}, signal ${signal})`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  };

  const close = async (): Promise<void> => {
    closing = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, closeTimeoutMs + 1000);
    await Promise.all(exited);
    clearTimeout(timer);
  };

  try {
    const port = await start(0, options.port ?? 0);
    const rest: Promise<number>[] = [];
    for (let i = 1; i < n; i++) rest.push(start(i, port));
    await Promise.all(rest);
    return { host, port, pids: children.map((c) => c.pid!), close };
  } catch (err) {
    await close();
    throw err;
  }
}
