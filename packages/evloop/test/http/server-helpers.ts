/** Helpers of the HTTP server tests: a server on its own loop, raw-socket exchanges, fd checks. */
import { connect, type Socket } from 'node:net';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import type { HttpHandler } from '../../src/http/connection.js';
import { serve, type HttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { trackFds } from '../helpers/fds.js';

export interface Ctx {
  port: number;
  server: HttpServer;
  loop: Loop;
  errors: unknown[];
}

/** Runs `fn` against a fresh server on a fresh loop; closes both and checks no fd leaked. */
export async function withServer(handler: HttpHandler, opts: HttpServerOptions, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const done = trackFds();
  const loop = createLoop();
  const errors: unknown[] = [];
  const server = await serve(handler, { onError: (e) => errors.push(e), ...opts, loop, port: 0 });
  const addr = server.address();
  const port = 'port' in addr ? addr.port : 0;
  try {
    await fn({ port, server, loop, errors });
  } finally {
    await server.close({ timeoutMs: 1000 });
    await tick(20);
    loop.close();
  }
  await tick(20); // node sockets finish closing
  done();
}

export function tick(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface RawResult {
  /** Everything received, as latin1. */
  text: string;
  /** The sizes of the 'data' events, in order (one send usually arrives as one event on loopback). */
  reads: number[];
  /** True when the server closed the connection. */
  closed: boolean;
  /** ms from the first write to the close (or to the end of waiting). */
  ms: number;
}

/**
 * Opens a socket, writes each part (in order, `gapMs` apart), and collects what comes back until
 * the server closes or `until(text)` holds, or `timeoutMs` passes.
 */
export async function raw(
  port: number,
  parts: (string | Buffer)[],
  opts: { until?: (text: string) => boolean; timeoutMs?: number; gapMs?: number; end?: boolean } = {},
): Promise<RawResult> {
  const sock = await open(port);
  const start = performance.now();
  let text = '';
  const reads: number[] = [];
  let closed = false;
  const finished = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, opts.timeoutMs ?? 3000);
    sock.on('data', (d: Buffer) => {
      reads.push(d.length);
      text += d.toString('latin1');
      if (opts.until?.(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
    sock.on('error', () => {});
  });
  for (const p of parts) {
    if (sock.destroyed) break;
    sock.write(p);
    if (opts.gapMs) await tick(opts.gapMs);
  }
  if (opts.end) sock.end();
  await finished;
  const ms = performance.now() - start;
  sock.destroy();
  return { text, reads, closed, ms };
}

export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Splits a stream of responses into status codes (heads only; bodies with Content-Length skipped). */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** Counts complete responses (heads) in `text`. */
export const countResponses = (text: string): number => statuses(text).length;
