/**
 * `evloop echo [--port 7000] [--host 127.0.0.1] [--poller epoll|poll|select]`: a TCP echo server
 * on the reactor. Prints its address, runs until SIGINT/SIGTERM, then closes the listener and
 * every connection.
 */
import { createLoop } from 'evloop';
import type { PollerName } from 'evloop';
import { EchoProtocol } from 'evloop';
import { createServer } from 'evloop';
import { formatSocketAddress } from 'evloop/sys';

export interface EchoOptions {
  port?: number;
  host?: string;
  poller?: PollerName | 'auto';
  /** Where the "listening" line goes. Default: console.log. */
  print?: (line: string) => void;
  /** Stops the server when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/**
 * Runs the echo server; resolves once it has stopped.
 *
 * @example
 * await runEcho({ port: 7000, host: '127.0.0.1', poller: 'epoll' });
 */
export async function runEcho(opts: EchoOptions = {}): Promise<void> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const loop = createLoop({ poller: opts.poller ?? 'auto' });
  const server = createServer(() => new EchoProtocol(), { host: opts.host ?? '127.0.0.1', port: opts.port ?? 7000, loop });
  try {
    const addr = await server.listen();
    print(`evloop echo listening on ${formatSocketAddress(addr)} (poller ${loop.poller.name})`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        opts.signal?.removeEventListener('abort', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (opts.signal?.aborted) stop();
      else opts.signal?.addEventListener('abort', stop, { once: true });
    });
  } finally {
    server.close();
    server.closeConnections(true);
    // let the connectionLost callbacks run, then release the poller
    await new Promise((r) => setImmediate(r));
    loop.close();
  }
}
