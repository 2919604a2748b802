// Property tests of the HTTP client on real sockets (fast-check), against a scripted raw server
// that parses each request (with the project's parser) and answers with a generated response:
// any status, 1xx interim responses, Content-Length, chunked (extensions, trailers) or
// close-delimited bodies, keep-alive or close, HEAD, 204/304, or a malformed response — its bytes
// cut into random writes with random small delays. Requests: random methods, byte or streamed
// bodies, sent one after another or all at once. Invariants: each request reaches the server
// exactly once, in order, body intact; each well-formed response is returned exactly as scripted;
// a malformed one fails its request with a coded error (never a hang) and the connection is not
// reused; connections are reused exactly when the responses allow it; no exception escapes; fds,
// watchers and handles are back to baseline.
// EVLOOP_PROP_RUNS sets the number of runs (default 100); EVLOOP_PROP_SEED (and
// EVLOOP_PROP_PATH) replay the seed (and path) a failure prints.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client } from '../../src/http/client/index.js';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import { HttpParser } from '../../src/http/parser.js';
import { trackFds } from '../net/helpers.js';
import { splitAt } from './collect.js';
import { backToBaseline, bodyBytes, payload, rarely, sleep, stableBaseline, type Baseline } from './fault-helpers.js';

const numRuns = Number(process.env.EVLOOP_PROP_RUNS ?? 100);
const seed = process.env.EVLOOP_PROP_SEED === undefined ? undefined : Number(process.env.EVLOOP_PROP_SEED);
/** With the seed, the failure's path replays its shrunk counterexample at once. */
const path = seed === undefined ? undefined : process.env.EVLOOP_PROP_PATH;

/** Responses the client must refuse (each fails its request, none may hang it). */
const MALFORMED = [
  'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n',
  'HTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n',
];

type Resp =
  | { kind: 'ok'; status: number; info: number; framing: 'length' | 'chunked' | 'close'; close: boolean; body: Buffer; chunks: number[]; ext: boolean; trailer: boolean }
  | { kind: 'bad'; bytes: string };

interface Exchange {
  method: string;
  body: { data: Buffer; streamed: boolean } | null;
  resp: Resp;
  cuts: number[];
  delays: number[];
}

const okResp: fc.Arbitrary<Resp> = fc.record({
  status: fc.constantFrom(200, 200, 200, 201, 204, 304, 404, 500),
  info: fc.constantFrom(0, 0, 0, 0, 100, 103),
  framing: fc.constantFrom('length', 'length', 'chunked', 'chunked', 'close'),
  close: rarely(6),
  body: bodyBytes(30_000),
  chunks: fc.array(fc.nat({ max: 30_000 }), { maxLength: 5 }),
  ext: fc.boolean(),
  trailer: fc.boolean(),
}).map((r) => ({ kind: 'ok' as const, ...r }));

const exchange: fc.Arbitrary<Exchange> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE'),
  body: fc.option(fc.record({ data: bodyBytes(30_000), streamed: fc.boolean() }), { nil: null }),
  resp: fc.oneof({ weight: 10, arbitrary: okResp }, { weight: 1, arbitrary: fc.constantFrom(...MALFORMED).map((bytes) => ({ kind: 'bad' as const, bytes })) }),
  cuts: fc.array(fc.nat({ max: 40_000 }), { maxLength: 6 }),
  delays: fc.array(fc.nat({ max: 3 }), { minLength: 7, maxLength: 7 }),
}).map((e) => ({
  ...e,
  body: e.method === 'POST' || e.method === 'PUT' ? e.body : null,
  // a HEAD response ends with its head: a bad body after it would be stray bytes, not a bad response
  resp: e.method === 'HEAD' && e.resp.kind === 'bad' ? { kind: 'ok' as const, status: 200, info: 0, framing: 'length' as const, close: false, body: Buffer.alloc(0), chunks: [], ext: false, trailer: false } : e.resp,
}));

/** Whether the response may carry a body at all (RFC 9110 §6.4.1). */
const bodyAllowed = (method: string, status: number) => method !== 'HEAD' && status !== 204 && status !== 304;

/** The response bytes for exchange `i`, and whether the server closes the connection after them. */
function responseBytes(e: Exchange, i: number): { bytes: Buffer; closes: boolean } {
  const r = e.resp;
  if (r.kind === 'bad') return { bytes: Buffer.from(r.bytes, 'latin1'), closes: false };
  const parts: Buffer[] = [];
  if (r.info === 100) parts.push(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'));
  if (r.info === 103) parts.push(Buffer.from('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n'));
  const allowed = bodyAllowed(e.method, r.status);
  const noFraming = r.status === 204 || r.status === 304;
  let head = `HTTP/1.1 ${r.status} Whatever\r\nX-Exchange: ${i}\r\n`;
  if (r.close) head += 'Connection: close\r\n';
  if (!noFraming && r.framing === 'length') head += `Content-Length: ${r.body.length}\r\n`;
  if (!noFraming && r.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  parts.push(Buffer.from(`${head}\r\n`, 'latin1'));
  if (allowed) {
    if (r.framing === 'chunked') {
      for (const piece of splitAt(r.body, r.chunks)) {
        if (piece.length > 0) parts.push(Buffer.from(`${piece.length.toString(16)}${r.ext ? ';e="x y"' : ''}\r\n`), piece, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from(r.trailer ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'));
    } else parts.push(r.body);
  }
  return { bytes: Buffer.concat(parts), closes: r.close || (allowed && !noFraming && r.framing === 'close') };
}

/** A request that arrived at the scripted server. */
interface Arrival {
  target: string;
  method: string;
  body: Buffer;
}

/** The scripted server: answers `/x/<run>/<i>` with exchange i of the current run. */
class ScriptedServer {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  script: Exchange[] = [];
  run = 0;
  arrivals: Arrival[] = [];
  accepted = 0;

  constructor() {
    this.server = net.createServer((s) => this.#serve(s));
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  #serve(s: net.Socket): void {
    this.accepted++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    let cur: Arrival | null = null;
    const parts: Buffer[] = [];
    const parser = new HttpParser('request', {
      onHeadersComplete: (head) => {
        cur = { target: head.target, method: head.method, body: Buffer.alloc(0) };
        parts.length = 0;
      },
      onBody: (chunk) => void parts.push(Buffer.from(chunk)),
      onMessageComplete: () => {
        const a = cur!;
        a.body = Buffer.concat(parts);
        this.arrivals.push(a);
        void this.#answer(s, a);
      },
    });
    s.on('data', (d: Buffer) => {
      try {
        parser.feed(d);
      } catch {
        s.destroy(); // the client sent something unparsable: the invariants will say so
      }
    });
  }

  async #answer(s: net.Socket, a: Arrival): Promise<void> {
    const [, , run, idx] = a.target.split('/');
    const e = this.script[Number(idx)];
    if (Number(run) !== this.run || e === undefined) return void s.destroy();
    const { bytes, closes } = responseBytes(e, Number(idx));
    const pieces = splitAt(bytes, e.cuts);
    for (let i = 0; i < pieces.length && !s.destroyed; i++) {
      s.write(pieces[i]!);
      const d = e.delays[i % e.delays.length]!;
      if (d > 0) await sleep(d);
    }
    if (closes && !s.destroyed) s.end();
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function* streamOf(data: Buffer): AsyncGenerator<Buffer> {
  const step = Math.max(1, Math.ceil(data.length / 3));
  for (let off = 0; off < data.length; off += step) {
    await new Promise((r) => setImmediate(r));
    yield data.subarray(off, off + step);
  }
}

type Outcome = { ok: true; status: number; exchange: string | null; body: Buffer } | { ok: false; code: string };

const TIMEOUT_CODES = new Set(['ERR_HEADERS_TIMEOUT', 'ERR_BODY_TIMEOUT', 'ERR_CONNECT_TIMEOUT']);

describe('HTTP client properties', () => {
  let loop: Loop;
  let base: Baseline;
  let doneFds: () => Promise<void>;
  let port: number;
  const srv = new ScriptedServer();
  const loopErrors: string[] = [];
  const escaped: unknown[] = [];
  const onEscape = (e: unknown): void => void escaped.push(e);
  const stats = { runs: 0, requests: 0, malformed: 0 };

  async function one(client: Client, e: Exchange, i: number): Promise<Outcome> {
    try {
      const res = await client.request({
        url: `http://127.0.0.1:${port}/x/${srv.run}/${i}`,
        method: e.method,
        body: e.body === null ? undefined : e.body.streamed ? streamOf(e.body.data) : e.body.data,
      });
      return { ok: true, status: res.status, exchange: res.headers.get('x-exchange'), body: await res.body.bytes() };
    } catch (err) {
      return { ok: false, code: String((err as { code?: unknown }).code) };
    }
  }

  before(async () => {
    doneFds = await trackFds();
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    port = await srv.listen();
    loop = createLoop({ onError: (err, what) => loopErrors.push(`${what}: ${String(err)}`) });
    const warm = new Client({ loop });
    srv.script = [{ method: 'GET', body: null, resp: { kind: 'ok', status: 200, info: 0, framing: 'length', close: true, body: Buffer.from('hi'), chunks: [], ext: false, trailer: false }, cuts: [], delays: [0] }];
    assert.deepEqual(await one(warm, srv.script[0]!, 0), { ok: true, status: 200, exchange: '0', body: Buffer.from('hi') });
    warm.close();
    base = await stableBaseline(loop);
  });

  after(async () => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    loop.close();
    await srv.close();
    await doneFds();
  });

  it('returns every response exactly as sent, fails malformed ones with a code, reuses connections exactly when allowed; nothing leaks', async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(exchange, { minLength: 1, maxLength: 8 }), fc.boolean(), async (script, burst) => {
        loopErrors.length = escaped.length = 0;
        srv.run++;
        srv.script = script;
        srv.arrivals = [];
        const acceptedBefore = srv.accepted;
        const client = new Client({ loop, maxSocketsPerOrigin: 1, timeouts: { headers: 5000, body: 5000 } });
        let outcomes: Outcome[];
        try {
          if (burst) outcomes = await Promise.all(script.map((e, i) => one(client, e, i)));
          else {
            outcomes = [];
            for (let i = 0; i < script.length; i++) outcomes.push(await one(client, script[i]!, i));
          }
        } finally {
          client.close();
        }
        stats.runs++;
        stats.requests += script.length;
        // each request reached the server once, in order, with its body intact
        assert.deepEqual(srv.arrivals.map((a) => a.target), script.map((_e, i) => `/x/${srv.run}/${i}`), 'each request arrived once, in order');
        srv.arrivals.forEach((a, i) => {
          assert.equal(a.method, script[i]!.method);
          assert.ok(a.body.equals(script[i]!.body?.data ?? Buffer.alloc(0)), `request ${i}: body intact (${a.body.length} bytes)`);
        });
        let connections = 1;
        script.forEach((e, i) => {
          const got = outcomes[i]!;
          if (e.resp.kind === 'bad') {
            stats.malformed++;
            assert.equal(got.ok, false, `response ${i} (malformed) fails its request`);
            if (!got.ok) assert.ok(got.code !== 'undefined' && !TIMEOUT_CODES.has(got.code), `with a parse error code, not a hang (got ${got.code})`);
          } else {
            const want = bodyAllowed(e.method, e.resp.status) ? e.resp.body : Buffer.alloc(0);
            assert.deepEqual(got.ok ? { status: got.status, exchange: got.exchange } : got, { status: e.resp.status, exchange: String(i) }, `response ${i}`);
            assert.ok(got.ok && got.body.equals(want), `response ${i}: every body byte (${got.ok ? got.body.length : -1} of ${want.length})`);
          }
          if (i < script.length - 1 && (e.resp.kind === 'bad' || responseBytes(e, i).closes)) connections++;
        });
        assert.equal(srv.accepted - acceptedBefore, connections, 'a new connection exactly after each response that ended one');
        assert.deepEqual(loopErrors, [], 'no exception reached the loop');
        assert.deepEqual(escaped, [], 'no exception escaped');
        for (let i = 0; i < 200 && srv.sockets.size > 0; i++) await sleep(5);
        await backToBaseline(loop, base, 'after the exchanges');
      }),
      // a failure is reported with its seed within the time limit, shrunk as far as it got
      { numRuns, seed, path, timeout: 30_000, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true },
    );
    t.diagnostic(`${stats.runs} runs, ${stats.requests} requests, ${stats.malformed} malformed responses`);
  });
});
