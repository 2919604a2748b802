// Property tests of the HTTP server on real sockets (fast-check): random conversations on 1–3
// concurrent connections — methods, bodies with Content-Length or chunked, keep-alive or close,
// HTTP/1.0, handlers that throw, malformed requests — sent pipelined or in lockstep, the byte
// stream cut into random writes with random small delays. Invariants: every well-formed request
// is answered exactly once, in order, byte for byte; a malformed one gets a 4xx and a close
// without touching the other connections; nothing after a closing request is answered; handler
// errors are counted; no exception escapes; fds, loop watchers and handles are back to baseline.
// EVLOOP_PROP_RUNS sets the number of runs (default 100); EVLOOP_PROP_SEED (and
// EVLOOP_PROP_PATH) replay the seed (and path) a failure prints.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import { serve, type HttpServer } from '../../src/http/server.js';
import { trackFds } from '../net/helpers.js';
import { splitAt } from './collect.js';
import {
  app, backToBaseline, bodyBytes, bodyOf, expectedBody, RawPeer, rarely, responses, sleep, stableBaseline, type Baseline,
} from './fault-helpers.js';

const numRuns = Number(process.env.EVLOOP_PROP_RUNS ?? 100);
const seed = process.env.EVLOOP_PROP_SEED === undefined ? undefined : Number(process.env.EVLOOP_PROP_SEED);
/** With the seed, the failure's path replays its shrunk counterexample at once. */
const path = seed === undefined ? undefined : process.env.EVLOOP_PROP_PATH;

/** One request of a conversation: well-formed (what the app answers is known) or malformed. */
type Req =
  | { kind: 'ok'; method: string; path: string; body: Buffer | null; chunks: number[] | null; close: boolean; v10: boolean; keepAlive10: boolean }
  | { kind: 'bad'; bytes: string };

/** Requests the parser or the semantics must refuse with 400 (each a whole message, or what starts one). */
const MALFORMED = [
  'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET / HTTP/1.1\nHost: x\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab',
  'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\n Folded: v\r\n\r\n',
  'GET /text/1 HTTP/1.1\r\n\r\n', // no Host (RFC 9112 §3.2)
  'GET /text/1 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
];

const route = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 99 }).map((n) => `/text/${n}`) },
  { weight: 3, arbitrary: fc.tuple(fc.oneof(fc.nat({ max: 200 }), fc.nat({ max: 70_000 })), fc.nat({ max: 999 })).map(([n, s]) => `/fixed/${n}/${s}`) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat({ max: 20_000 }), fc.nat({ max: 999 })).map(([p, n, s]) => `/stream/${p}/${n}/${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('/throw/sync', '/throw/async', '/nowhere', '/nowhere') },
);

const okReq: fc.Arbitrary<Req> = fc.oneof(
  fc.record({ method: fc.constantFrom('GET', 'GET', 'HEAD', 'DELETE'), path: route, close: rarely(8), v10: rarely(6), keepAlive10: fc.boolean() })
    // HTTP/1.0 has no chunked coding: its streamed body would end with the connection
    .map((r) => ({ kind: 'ok' as const, ...r, v10: r.v10 && !r.path.startsWith('/stream'), body: null, chunks: null })),
  fc.record({
    method: fc.constantFrom('POST', 'PUT'), body: bodyBytes(20_000), chunked: fc.boolean(), cuts: fc.array(fc.nat({ max: 20_000 }), { maxLength: 4 }),
    close: rarely(8),
  }).map((r) => ({ kind: 'ok' as const, method: r.method, path: '/echo', body: r.body, chunks: r.chunked ? r.cuts : null, close: r.close, v10: false, keepAlive10: false })),
);

const req: fc.Arbitrary<Req> = fc.oneof(
  { weight: 12, arbitrary: okReq },
  { weight: 1, arbitrary: fc.constantFrom(...MALFORMED).map((bytes) => ({ kind: 'bad' as const, bytes })) },
);

// close, HTTP/1.0, throw and malformed end a conversation early: rare enough that most run a while
const conversation = fc.record({
  reqs: fc.array(req, { minLength: 1, maxLength: 8 }),
  lockstep: fc.boolean(),
  cuts: fc.array(fc.nat({ max: 100_000 }), { maxLength: 8 }),
  delays: fc.array(fc.nat({ max: 3 }), { minLength: 9, maxLength: 9 }),
});
type Conversation = typeof conversation extends fc.Arbitrary<infer T> ? T : never;

function serialize(r: Req): Buffer {
  if (r.kind === 'bad') return Buffer.from(r.bytes, 'latin1');
  let head = `${r.method} ${r.path} HTTP/1.${r.v10 ? 0 : 1}\r\nHost: x\r\n`;
  if (r.close) head += 'Connection: close\r\n';
  else if (r.v10 && r.keepAlive10) head += 'Connection: keep-alive\r\n';
  if (r.body === null) return Buffer.from(`${head}\r\n`, 'latin1');
  if (r.chunks === null) return Buffer.concat([Buffer.from(`${head}Content-Length: ${r.body.length}\r\n\r\n`, 'latin1'), r.body]);
  const parts: Buffer[] = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`, 'latin1')];
  for (const piece of splitAt(r.body, r.chunks)) {
    if (piece.length > 0) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

interface Expected {
  method: string;
  status: number | 'bad';
  body: Buffer | null;
}

/** What the server must answer: every request up to and including the first one that ends the connection. */
function expectations(reqs: Req[]): { answered: Expected[]; closes: boolean } {
  const answered: Expected[] = [];
  for (const r of reqs) {
    if (r.kind === 'bad') return { answered: [...answered, { method: 'GET', status: 'bad', body: null }], closes: true };
    const throws = r.path.startsWith('/throw');
    const status = throws ? 500 : r.path === '/nowhere' ? 404 : 200;
    const body = throws || r.method === 'HEAD' ? Buffer.alloc(0) : expectedBody(r.path, r.body ?? undefined);
    answered.push({ method: r.method, status, body });
    if (r.close || throws || (r.v10 && !r.keepAlive10)) return { answered, closes: true };
  }
  return { answered, closes: false };
}

/** A server silent this long while answers are due has stopped answering (loose: a loaded machine stalls for less). */
const QUIET_MS = 2000;

/** Requests the runs expected an answer to (reported, to see the generator reaches deep conversations). */
let answeredTotal = 0;

const completeCount = (p: RawPeer, methods: string[]) => responses(p.data, methods).messages.filter((m) => m.complete).length;

/** Sends `bytes` cut at `cuts`, a random 0–3 ms apart; stops if the server closed. */
async function send(peer: RawPeer, bytes: Buffer, cuts: number[], delays: number[]): Promise<void> {
  const pieces = splitAt(bytes, cuts);
  for (let i = 0; i < pieces.length && !peer.closed; i++) {
    peer.sock.write(pieces[i]!);
    const d = delays[i % delays.length]!;
    if (d > 0) await sleep(d);
  }
}

/** Runs one conversation and checks what came back; returns the /throw requests the server answered. */
async function converse(port: number, c: Conversation): Promise<number> {
  const { answered, closes } = expectations(c.reqs);
  answeredTotal += answered.length;
  const methods = answered.map((e) => e.method);
  const peer = await RawPeer.open(port);
  try {
    if (c.lockstep) {
      for (let i = 0; i < c.reqs.length && !peer.closed; i++) {
        await send(peer, serialize(c.reqs[i]!), c.cuts.map((x) => x % 2000), c.delays);
        if (i < answered.length) await peer.until((p) => completeCount(p, methods) > i, 10_000, QUIET_MS);
      }
    } else {
      await send(peer, Buffer.concat(c.reqs.map(serialize)), c.cuts, c.delays);
    }
    await peer.until((p) => completeCount(p, methods) >= answered.length, 10_000, QUIET_MS);
    if (closes) assert.equal(await peer.closedWithin(5_000), true, 'the server closed the connection after a closing request');
    else await sleep(5); // a spurious extra answer would have come with the others
    const { messages } = responses(peer.data, methods);
    assert.equal(messages.filter((m) => m.complete).length, answered.length, `answered ${answered.length} requests exactly once`);
    assert.equal(messages.length, answered.length, 'no extra or partial response');
    answered.forEach((e, i) => {
      const m = messages[i]!;
      if (e.status === 'bad') {
        const s = m.head!.statusCode;
        assert.ok(s >= 400 && s < 500, `a malformed request got a 4xx (got ${s})`);
        assert.ok(m.head!.headers.some((h, j) => j % 2 === 0 && h.toLowerCase() === 'connection' && m.head!.headers[j + 1] === 'close'), 'with Connection: close');
      } else {
        assert.equal(m.head!.statusCode, e.status, `response ${i}: status`);
        assert.ok(bodyOf(m).equals(e.body!), `response ${i}: every body byte, in order (${m.body.length} bytes, ${e.body!.length} expected)`);
      }
    });
    if (!closes) assert.equal(peer.closed, false, 'a keep-alive conversation stays open');
  } finally {
    peer.destroy();
  }
  return answered.filter((e) => e.status === 500).length;
}

describe('HTTP server properties', () => {
  let loop: Loop;
  let base: Baseline;
  let doneFds: () => Promise<void>;
  const loopErrors: string[] = [];
  const escaped: unknown[] = [];
  const onEscape = (e: unknown): void => void escaped.push(e);
  const stats = { runs: 0, requests: 0 };

  /** A fresh server per run: a failed run cannot leave state that fails the next ones (and mislead shrinking). */
  async function withServer(fn: (server: HttpServer, port: number, handlerErrors: unknown[]) => Promise<void>): Promise<void> {
    const handlerErrors: unknown[] = [];
    const server = await serve(app, { loop, port: 0, onError: (e) => handlerErrors.push(e), keepAliveTimeoutMs: 30_000 });
    const addr = server.address();
    try {
      await fn(server, 'port' in addr ? addr.port : 0, handlerErrors);
    } finally {
      await server.close({ timeoutMs: 500 });
    }
  }

  before(async () => {
    doneFds = await trackFds();
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    loop = createLoop({ onError: (err, what) => loopErrors.push(`${what}: ${String(err)}`) });
    // one server first: the loop's own fds and the Date cache's timer exist before the baseline
    await withServer((_s, port) =>
      converse(port, { reqs: [{ kind: 'ok', method: 'GET', path: '/text/0', body: null, chunks: null, close: true, v10: false, keepAlive10: false }], lockstep: true, cuts: [], delays: [0] }).then(() => {}));
    base = await stableBaseline(loop);
  });

  after(async () => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    loop.close();
    await doneFds();
  });

  it('answers every well-formed request once, in order, byte for byte; malformed ones get a 4xx and a close; nothing leaks', async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(conversation, { minLength: 1, maxLength: 3 }), async (convs) => {
        loopErrors.length = escaped.length = 0;
        await withServer(async (server, port, handlerErrors) => {
          const thrown = (await Promise.all(convs.map((c) => converse(port, c)))).reduce((a, b) => a + b, 0);
          stats.runs++;
          stats.requests += convs.reduce((a, c) => a + c.reqs.length, 0);
          assert.equal(server.stats().handlerErrors, thrown, 'each handler that threw is counted once');
          assert.equal(handlerErrors.length, thrown, 'and reported to onError once');
          for (let i = 0; i < 200 && server.connections > 0; i++) await sleep(5);
          assert.equal(server.connections, 0, 'the server closed its end of every connection');
        });
        assert.deepEqual(loopErrors, [], 'no exception reached the loop');
        assert.deepEqual(escaped, [], 'no exception escaped');
        await backToBaseline(loop, base, 'after the conversations');
      }),
      // a failure is reported with its seed within the time limit, shrunk as far as it got
      { numRuns, seed, path, timeout: 30_000, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true },
    );
    t.diagnostic(`${stats.runs} runs, ${stats.requests} requests sent, ${answeredTotal} answered`);
  });
});
