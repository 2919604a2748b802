/** Peers for the client tests: Node's own http server and raw net servers, with fd accounting. */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { trackFds } from '../net/helpers.js';

export interface NodeServer {
  server: http.Server;
  port: number;
  url: (path?: string) => string;
  /** TCP connections the server accepted so far. */
  readonly connections: number;
  /** Server-side sockets currently open. */
  readonly openSockets: number;
  close(): Promise<void>;
}

/** Starts Node's http server on 127.0.0.1 (or `host`) with `handler`; `url()` always names 127.0.0.1. */
export async function startNodeServer(handler: http.RequestListener, host = '127.0.0.1'): Promise<NodeServer> {
  const server = http.createServer(handler);
  let connections = 0;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return registered({
    server,
    port,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    get connections() {
      return connections;
    },
    get openSockets() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

function registered<T extends Closable>(thing: T): T {
  opened?.push(thing);
  return thing;
}

export interface RawServer {
  port: number;
  url: (path?: string) => string;
  readonly connections: number;
  close(): Promise<void>;
}

/** A raw TCP server: `onConnection` writes whatever bytes the test wants. */
export async function startRawServer(onConnection: (s: net.Socket, index: number) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.resume(); // read, so that EOF (the client closing) is seen
    onConnection(s, connections++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return registered({
    port,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** Servers started inside the running noFdLeak body register here. */
let opened: Closable[] | null = null;

interface Closable {
  close(): unknown;
}

/**
 * Runs `body`, closes whatever it registered with `use` (even when it failed, so a failing test
 * leaves nothing open that would keep the process alive), then checks that no fd leaked.
 */
export async function noFdLeak(body: (use: <T extends Closable>(thing: T) => T) => Promise<void>): Promise<void> {
  const done = await trackFds();
  const things: Closable[] = [];
  opened = things;
  try {
    await body((thing) => {
      things.push(thing);
      return thing;
    });
  } finally {
    opened = null;
    for (const t of things.reverse()) await t.close();
  }
  await done();
}

/** Reads a Node request's body as a Buffer. */
export function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Resolves with the rejection of `p` (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
