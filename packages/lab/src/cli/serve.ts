/**
 * `evloop serve [--port 8080] [--host 127.0.0.1] [--workers N] [--poller epoll|poll|select]`:
 * the demo HTTP server (GET / → Hello, World!, POST /echo, GET /stats). Prints its address,
 * runs until SIGINT/SIGTERM, then closes gracefully. With --workers N > 1 it runs N worker
 * processes sharing the port with SO_REUSEPORT; the signal is passed on and no worker is left.
 * An error in one connection or callback is logged to stderr; it never ends the server.
 */
import { serveCluster, siblingModule } from 'evloop';
import { createDemoHandler } from './demo-app.js';
import { HttpServer } from 'evloop';
import { createLoop } from 'evloop';
import type { PollerName } from 'evloop';
import { formatSocketAddress } from 'evloop/sys';

export interface ServeOptions {
  port?: number;
  host?: string;
  workers?: number;
  poller?: PollerName | 'auto' | string;
  /** Where the "listening" line goes. Default: console.log. */
  print?: (line: string) => void;
  /** Stops the server when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/**
 * Runs the demo server until a signal; resolves to the exit code.
 *
 * @example
 * process.exitCode = await runServe({ port: 8080, host: '127.0.0.1', workers: 2 });
 */
export async function runServe(opts: ServeOptions = {}): Promise<number> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8080;
  const workers = opts.workers ?? 1;
  const poller = (opts.poller ?? 'auto') as PollerName | 'auto';
  if (workers > 1) {
    const cluster = await serveCluster({
      module: siblingModule(import.meta.url, './demo-worker').href,
      workers, host, port, poller,
      onWorkerExit: (i, code, sig) => console.error(`evloop serve: worker ${i} exited (code ${code}, signal ${sig})`),
    });
    print(`evloop serve listening on http://${host.includes(':') ? `[${host}]` : host}:${cluster.port} (${workers} workers, pids ${cluster.pids.join(' ')})`);
    await untilStopped(opts.signal);
    await cluster.close();
    return 0;
  }
  // a callback that throws (a timer, a connection) is logged, never an uncaught exception that ends the server
  const loop = createLoop({ poller, onError: (err, what) => console.error(`evloop serve: ${what} failed:`, err) });
  let server: HttpServer | null = null;
  const handler = createDemoHandler(() => ({ loop: loop.stats(), server: server?.stats() }));
  server = new HttpServer(handler, { host, port, loop });
  try {
    const addr = await server.listen();
    print(`evloop serve listening on http://${formatSocketAddress(addr)} (poller ${loop.poller.name})`);
    await untilStopped(opts.signal);
  } finally {
    await server.close({ timeoutMs: 5000 });
    loop.close();
  }
  return 0;
}

function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
}
