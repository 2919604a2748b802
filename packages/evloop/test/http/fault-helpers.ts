/**
 * Helpers of the HTTP fault-injection and property suites: an app whose every response is
 * predictable byte for byte, well-behaved clients that check every byte they get, raw peers, the
 * fds of one connection (to scope a fault plan to it), and the "back to baseline" check (process
 * fds, loop watchers and handles).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import type { Client } from '../../src/http/client/index.js';
import type { Loop } from '../../src/loop/loop.js';
import { forEachTransport } from '../../src/net/stream-transport.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { localAddress, remoteAddress } from '../../src/sys/index.js';
import { fdCount } from '../helpers/fds.js';
import { collect, type CollectedMessage } from './collect.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `size` bytes that depend on `seed` and on their position (a misplaced or lost byte shows). */
export function payload(seed: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/**
 * The app under test. Routes (every response body is a function of the path, or of the request body):
 * - `GET /fixed/<size>/<seed>`: `end(payload)` with Content-Length (corked when small, direct when large);
 * - `GET /text/<n>`: `end('hello <n>')`, a string (the cached-head path);
 * - `GET /stream/<parts>/<size>/<seed>`: the payload in `parts` `res.write` calls a turn apart (chunked);
 * - `POST /echo`: the request body back;
 * - `GET /throw/sync` and `/throw/async`: the handler throws (the server answers 500 and closes).
 */
export async function app(req: ServerRequest, res: ServerResponse): Promise<void> {
  const [, kind, a, b, c] = req.target.split('/');
  if (kind === 'fixed') return res.end(payload(Number(b), Number(a)));
  if (kind === 'text') return res.end(`hello ${a}`);
  if (kind === 'echo') return res.end(await req.body());
  if (kind === 'throw') {
    if (a === 'async') await new Promise((r) => setImmediate(r));
    throw new Error(`thrown by ${req.target}`);
  }
  if (kind === 'stream') {
    const parts = Number(a);
    const size = Number(b);
    const whole = payload(Number(c), size);
    const step = Math.ceil(size / parts);
    for (let off = 0; off < size; off += step) {
      // a naive handler: it neither catches drain() rejecting nor checks res.closed
      if (!res.write(whole.subarray(off, off + step))) await res.drain();
      await new Promise((r) => setImmediate(r));
    }
    return res.end();
  }
  res.writeHead(404).end('no such route');
}

/** The body `app` answers `path` (and `body`, for /echo) with. */
export function expectedBody(path: string, body?: Buffer): Buffer {
  const [, kind, a, b, c] = path.split('/');
  if (kind === 'fixed') return payload(Number(b), Number(a));
  if (kind === 'text') return Buffer.from(`hello ${a}`);
  if (kind === 'echo') return body ?? Buffer.alloc(0);
  if (kind === 'stream') return payload(Number(c), Number(b));
  return Buffer.from('no such route');
}

/** Process fds, and the loop's watched fds and active handles. */
export interface Baseline {
  fds: number;
  watchedFds: number;
  activeHandles: number;
}

export function baseline(loop: Loop): Baseline {
  const s = loop.stats();
  return { fds: fdCount(), watchedFds: s.watchedFds, activeHandles: s.activeHandles };
}

/** The baseline once it holds still for 50 ms (Node's sockets of a previous exchange finish closing). */
export async function stableBaseline(loop: Loop): Promise<Baseline> {
  let last = baseline(loop);
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const now = baseline(loop);
    if (same(now, last)) return now;
    last = now;
  }
  return last;
}

/** Waits (bounded) until fds, watchers and handles are back to `base`, then asserts they are. */
export async function backToBaseline(loop: Loop, base: Baseline, what: string): Promise<void> {
  for (let i = 0; i < 200 && !same(baseline(loop), base); i++) await sleep(10);
  assert.deepEqual(baseline(loop), base, `${what}: fds, loop watchers and handles are back to their baseline`);
}

function same(a: Baseline, b: Baseline): boolean {
  return a.fds === b.fds && a.watchedFds === b.watchedFds && a.activeHandles === b.activeHandles;
}

/** The fd of the evloop transport whose peer is 127.0.0.1:`peerPort` (the server's end of a client's socket). */
export function transportFdByPeer(peerPort: number): number {
  let found = -1;
  forEachTransport((t) => {
    if (t.fd < 0) return;
    const r = t.remoteAddress;
    if ('port' in r && r.port === peerPort) found = t.fd;
  });
  return found;
}

/** Waits until the server accepted the connection of a client bound to `clientPort`; returns its fd there. */
export async function serverFdFor(clientPort: number): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const fd = transportFdByPeer(clientPort);
    if (fd >= 0) return fd;
    await sleep(2);
  }
  throw new Error(`the server never accepted the connection from port ${clientPort}`);
}

/** fds of evloop stream transports open now (client and server ends). */
export function transportFds(): Set<number> {
  const fds = new Set<number>();
  forEachTransport((t) => {
    if (t.fd >= 0) fds.add(t.fd);
  });
  return fds;
}

/** The listening socket bound to `port` (found in /proc/self/fd: a socket with that local port and no peer). */
export function listenerFd(port: number): number {
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    try {
      const l = localAddress(fd);
      if (!('port' in l) || l.port !== port) continue;
    } catch {
      continue; // not a socket, or the directory handle itself
    }
    try {
      remoteAddress(fd);
    } catch {
      return fd; // ENOTCONN: the listener
    }
  }
  throw new Error(`no listening socket on port ${port}`);
}

/** A raw Node socket: writes what the test says, keeps every byte it reads, knows when it closed. */
export class RawPeer {
  readonly sock: net.Socket;
  chunks: Buffer[] = [];
  received = 0;
  closed = false;
  error: (Error & { code?: string }) | null = null;
  readonly done: Promise<void>;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.received += d.length;
    });
    sock.on('error', (e) => (this.error = e));
    this.done = new Promise((r) => sock.on('close', () => {
      this.closed = true;
      r();
    }));
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.off('error', reject);
        resolve(new RawPeer(s));
      });
      s.once('error', reject);
    });
  }

  get localPort(): number {
    return this.sock.localPort!;
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /**
   * Waits until `cond` holds or the socket closed, at most `ms`, and (with `idleMs`) at most that
   * long after the last byte arrived: a server that stopped sending is not waited for to the end.
   */
  async until(cond: (p: RawPeer) => boolean, ms = 10_000, idleMs = Infinity): Promise<void> {
    const end = Date.now() + ms;
    let seen = this.received;
    let quietSince = Date.now();
    while (!cond(this) && !this.closed && Date.now() < end) {
      await sleep(2);
      if (this.received !== seen) {
        seen = this.received;
        quietSince = Date.now();
      } else if (Date.now() - quietSince > idleMs) return;
    }
  }

  /** Waits for the close (at most `ms`). */
  async closedWithin(ms = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    return this.closed;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** Parses what a peer received as HTTP responses to `methods` (in order). */
export function responses(data: Buffer, methods: string[]): { messages: CollectedMessage[]; error: string | null } {
  const r = collect('response', [data], { requestMethods: methods });
  return { messages: r.messages, error: r.error?.code ?? null };
}

/** The body of a collected message as bytes. */
export const bodyOf = (m: CollectedMessage): Buffer => Buffer.from(m.body, 'latin1');

/** A GET (or a POST with Content-Length) as raw bytes. */
export function rawRequest(path: string, body?: Buffer, extra = ''): Buffer {
  if (body === undefined) return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`, 'latin1');
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n`, 'latin1'), body]);
}

/** The routes well-behaved clients cycle through: small and large fixed bodies, strings, streams, echoes. */
export const GOOD_PATHS = ['/fixed/100/1', '/text/7', '/fixed/40000/2', '/stream/4/3000/3', '/echo', '/fixed/70000/4', '/text/8'];

export interface GoodTraffic {
  /** Stops after the current requests and resolves with what happened. */
  stop(): Promise<{ served: number; failures: string[] }>;
  /** Requests answered with exactly the expected bytes so far. */
  readonly served: number;
}

/** One well-behaved client: sends a request, returns status and whole body; `close` frees its connection. */
export interface Fetcher {
  fetch(path: string, body?: Buffer): Promise<{ status: number; body: Buffer }>;
  close(): void;
}

/** Fetchers on Node's http client, each with its own keep-alive connection to 127.0.0.1:`port`. */
export const nodeFetchers = (port: number) => (): Fetcher => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return { fetch: (path, body) => httpGet(port, path, agent, body), close: () => agent.destroy() };
};

/** Fetchers sharing one evloop `Client` (give it `maxSocketsPerOrigin` = the number of fetchers). */
export const clientFetchers = (client: Client, port: number) => (): Fetcher => ({
  fetch: async (path, body) => {
    const res = await client.request({ url: `http://127.0.0.1:${port}${path}`, method: body === undefined ? 'GET' : 'POST', body });
    return { status: res.status, body: await res.body.bytes() };
  },
  close: () => {},
});

/**
 * `clients` well-behaved clients (from `make`), each sending requests one after another (at least
 * `min`, at most `max`) until stopped, checking every body byte for byte.
 */
export function goodTraffic(make: (c: number) => Fetcher, opts: { clients?: number; min?: number; max?: number } = {}): GoodTraffic {
  const clients = opts.clients ?? 2;
  const min = opts.min ?? 4;
  const max = opts.max ?? 400;
  let stopping = false;
  let served = 0;
  const failures: string[] = [];
  const one = async (c: number): Promise<void> => {
    const f = make(c);
    for (let i = 0; i < max && (i < min || !stopping); i++) {
      const path = GOOD_PATHS[(c * 3 + i) % GOOD_PATHS.length]!;
      const body = path === '/echo' ? payload(1000 * c + i, 1 + ((i * 7919) % 30000)) : undefined;
      try {
        const got = await f.fetch(path, body);
        if (got.status !== 200) failures.push(`client ${c} #${i} ${path}: status ${got.status}`);
        else if (!got.body.equals(expectedBody(path, body))) failures.push(`client ${c} #${i} ${path}: body differs (${got.body.length} bytes)`);
        else served++;
      } catch (err) {
        failures.push(`client ${c} #${i} ${path}: ${(err as Error).message}`);
      }
    }
    f.close();
  };
  const running = Promise.all(Array.from({ length: clients }, (_, c) => one(c)));
  return {
    get served() {
      return served;
    },
    async stop() {
      stopping = true;
      await running;
      return { served, failures };
    },
  };
}

/** `app` for Node's http server (the client suites' peer): the same routes, the same bytes. */
export function nodeApp(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = req.url ?? '';
  const [, kind, a] = path.split('/');
  if (kind === 'echo') {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => res.end(Buffer.concat(parts)));
    return;
  }
  req.resume();
  if (kind === 'stream') {
    const whole = expectedBody(path);
    const step = Math.ceil(whole.length / Number(a));
    let off = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (off >= whole.length) return void res.end();
      res.write(whole.subarray(off, (off += step)));
      setImmediate(next);
    };
    return next();
  }
  if (kind !== 'fixed' && kind !== 'text') res.statusCode = 404;
  res.end(expectedBody(path));
}

/** One request with Node's http client; resolves with the status and the whole body. */
export function httpGet(port: number, path: string, agent: http.Agent | false, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, method: body === undefined ? 'GET' : 'POST', timeout: 15_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

// ---- generators of the property suites -------------------------------------------------------

/** true about once in `n` draws. */
export const rarely = (n: number): fc.Arbitrary<boolean> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

/** A body: mostly small (up to 300 bytes), sometimes up to `max`, of `payload` bytes. */
export const bodyBytes = (max: number): fc.Arbitrary<Buffer> =>
  fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 300 }) }, { weight: 1, arbitrary: fc.nat({ max }) }).chain((n) => fc.nat().map((s) => payload(s, n)));
