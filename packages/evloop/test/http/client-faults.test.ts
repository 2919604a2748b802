// The HTTP client under injected system-call faults (src/sys/fault.ts), against Node's own http
// server. Each fault is scoped to the fd of ONE client connection (its keep-alive connection,
// opened first) while a second Client on other connections keeps requesting and checks every
// byte. Afterwards the process fds and the loop's watchers and handles are back to baseline and
// the faulted client still works. Benign faults (short writes, EAGAIN, EINTR, short reads) lose
// no byte; fatal ones fail only the request under way, with the errno as its code; a reset
// before any response byte on a reused connection is retried once (idempotent requests only).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Client } from '../../src/http/client/index.js';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import { injectFaults, type FaultHandle, type FaultPlan, type FaultStep } from '../../src/sys/index.js';
import { trackFds } from '../net/helpers.js';
import {
  backToBaseline, clientFetchers, expectedBody, goodTraffic, nodeApp, payload, sleep, stableBaseline, transportFds, type Baseline,
} from './fault-helpers.js';

interface Ctx {
  port: number;
  loop: Loop;
  base: Baseline;
}

/** Node's http server running `nodeApp` and a fresh loop for the clients; no loop error and no leak at the end. */
async function withPeer(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const done = await trackFds();
  const loopErrors: string[] = [];
  const loop = createLoop({ onError: (err, what) => loopErrors.push(`${what}: ${String(err)}`) });
  const server = http.createServer(nodeApp);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    // one exchange first: the loop's own fds and timers exist before the baseline
    const warm = new Client({ loop });
    assert.equal(await (await warm.request(`http://127.0.0.1:${port}/text/0`)).text(), 'hello 0');
    warm.close();
    await fn({ port, loop, base: await stableBaseline(loop) });
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    loop.close();
  }
  assert.deepEqual(loopErrors, [], 'no exception reached the loop');
  await done();
}

/** One request on `client`; resolves with the status and body, or rejects with the request's or the body's error. */
async function fetchBytes(client: Client, port: number, path: string, body?: Buffer | AsyncIterable<Buffer>): Promise<Buffer> {
  const res = await client.request({ url: `http://127.0.0.1:${port}${path}`, method: body === undefined ? 'GET' : 'POST', body });
  assert.equal(res.status, 200, `${path}: status`);
  return res.body.bytes();
}

/** A streamed (chunked) request body: `parts` pieces of `payload(seed, size)`, a turn apart. */
async function* streamed(seed: number, size: number, parts: number): AsyncGenerator<Buffer> {
  const whole = payload(seed, size);
  const step = Math.ceil(size / parts);
  for (let off = 0; off < size; off += step) {
    await new Promise((r) => setImmediate(r));
    yield whole.subarray(off, off + step);
  }
}

/**
 * Opens the faulted client's keep-alive connection, starts well-behaved traffic on another Client,
 * injects `plan` on the faulted connection's fd and runs `body`. Then: the good traffic saw no
 * failure, the faulted client still gets every byte, and after closing both everything is back to
 * baseline.
 */
async function faulted(ctx: Ctx, plan: (fd: number) => FaultPlan, body: (bad: Client, faults: FaultHandle) => Promise<void>, what: string): Promise<void> {
  const bad = new Client({ loop: ctx.loop, maxSocketsPerOrigin: 1 });
  const goodClient = new Client({ loop: ctx.loop, maxSocketsPerOrigin: 2 });
  try {
    const before = transportFds();
    assert.ok((await fetchBytes(bad, ctx.port, '/text/1')).equals(expectedBody('/text/1')));
    const fds = [...transportFds()].filter((fd) => !before.has(fd));
    assert.equal(fds.length, 1, 'the faulted client has one connection');
    const good = goodTraffic(clientFetchers(goodClient, ctx.port), { clients: 2, min: 4 });
    for (let i = 0; i < 1000 && good.served < 2; i++) await sleep(5);
    const faults = injectFaults(plan(fds[0]!));
    try {
      await body(bad, faults);
    } finally {
      faults.restore(); // before the connection goes: its fd number may be reused by a good one
    }
    const r = await good.stop();
    assert.deepEqual(r.failures, [], `${what}: the well-behaved client saw no failure`);
    assert.ok(r.served >= 8, `${what}: the well-behaved client was served (${r.served})`);
    assert.ok((await fetchBytes(bad, ctx.port, '/fixed/5000/99')).equals(payload(99, 5000)), `${what}: the faulted client still works`);
  } finally {
    bad.close();
    goodClient.close();
  }
  await backToBaseline(ctx.loop, ctx.base, what);
}

const repeat = (fd: number, steps: FaultStep[]) => ({ steps, repeat: true, fd });

/** Requests the faulted client sends one after another, each checked byte for byte. */
async function exchanges(bad: Client, port: number): Promise<void> {
  const big = payload(41, 200_000);
  assert.ok((await fetchBytes(bad, port, '/echo', big)).equals(big), 'a 200 KB request body went out whole (head and body apart)');
  assert.ok((await fetchBytes(bad, port, '/echo', streamed(42, 60_000, 8))).equals(payload(42, 60_000)), 'a streamed chunked request body went out whole');
  for (const path of ['/fixed/100000/43', '/stream/10/30000/44', '/text/45']) {
    assert.ok((await fetchBytes(bad, port, path)).equals(expectedBody(path)), `${path}: every response byte`);
  }
}

const BENIGN: [string, (fd: number) => FaultPlan, (f: FaultHandle) => boolean][] = [
  [
    'short sends and writevs of request heads and bodies (fixed and streamed) lose no byte',
    (fd) => ({ send: repeat(fd, [{ short: 1 }, { short: 9 }, { short: 3000 }]), writev: repeat(fd, [{ short: 2 }, { short: 5000 }]) }),
    (f) => (f.injected.send?.short ?? 0) > 0 && (f.injected.writev?.short ?? 0) > 0,
  ],
  [
    'EAGAIN on send and on writev of the queued request lose no byte',
    (fd) => ({ send: repeat(fd, ['EAGAIN', { short: 100 }, 'pass']), writev: repeat(fd, ['EAGAIN', 'pass']) }),
    (f) => (f.injected.send?.EAGAIN ?? 0) > 0 && (f.injected.writev?.EAGAIN ?? 0) > 0,
  ],
  [
    'short reads of the response (1, 5, 999 bytes) still parse every head and body',
    (fd) => ({ recv: repeat(fd, [{ short: 1 }, { short: 5 }, { short: 999 }]) }),
    (f) => (f.injected.recv?.short ?? 0) > 100,
  ],
  [
    'EINTR on send, writev and recv is retried without losing a byte',
    (fd) => ({ send: repeat(fd, ['EINTR', 'pass']), writev: repeat(fd, ['EINTR', 'pass']), recv: repeat(fd, ['EINTR', 'pass']) }),
    (f) => (f.injected.send?.EINTR ?? 0) > 0 && (f.injected.recv?.EINTR ?? 0) > 0,
  ],
];

describe('HTTP client: benign faults on its connection lose no byte', () => {
  for (const [title, plan, injected] of BENIGN) {
    it(title, () =>
      withPeer((ctx) =>
        faulted(ctx, plan, async (bad, faults) => {
          await exchanges(bad, ctx.port);
          assert.ok(injected(faults), `the planned faults happened: ${JSON.stringify(faults.injected)}`);
          assert.equal(Object.values(bad.stats())[0]!.created, 1, 'the faulted connection was kept all along');
        }, title)));
  }
});

/** The error `p` rejects with (fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail('expected the request to fail');
}

describe('HTTP client: fatal faults fail only the request under way', () => {
  for (const code of ['ECONNRESET', 'EPIPE', 'ENOBUFS', 'ENOMEM'] as const) {
    it(`${code} on send of a POST fails it with code ${code}, not retried; the next request opens a new connection`, () =>
      withPeer((ctx) =>
        faulted(ctx, (fd) => ({ send: { steps: [code], fd } }), async (bad, faults) => {
          const err = await failure(fetchBytes(bad, ctx.port, '/echo', payload(50, 100)));
          assert.equal(err.code, code, err.message);
          assert.deepEqual(faults.injected.send, { [code]: 1 });
          assert.equal(Object.values(bad.stats())[0]!.open, 0, 'the failed connection is gone from the pool');
        }, `${code} on send`)));
  }

  for (const code of ['ECONNRESET', 'EPIPE'] as const) {
    it(`${code} on send of a GET on a reused connection is retried once on a fresh connection, every byte arrives`, () =>
      withPeer((ctx) =>
        faulted(ctx, (fd) => ({ send: { steps: [code], fd } }), async (bad, faults) => {
          assert.ok((await fetchBytes(bad, ctx.port, '/fixed/20000/51')).equals(payload(51, 20_000)));
          assert.deepEqual(faults.injected.send, { [code]: 1 }, 'the first attempt met the fault');
          assert.equal(Object.values(bad.stats())[0]!.created, 2, 'the retry used a new connection');
        }, `${code} on send of a GET`)));
  }

  it('ECONNRESET on recv before any response byte of a reused connection is retried once (GET)', () =>
    withPeer((ctx) =>
      faulted(ctx, (fd) => ({ recv: { steps: ['ECONNRESET'], fd } }), async (bad, faults) => {
        assert.ok((await fetchBytes(bad, ctx.port, '/text/52')).equals(expectedBody('/text/52')));
        assert.deepEqual(faults.injected.recv, { ECONNRESET: 1 });
        assert.equal(Object.values(bad.stats())[0]!.created, 2);
      }, 'ECONNRESET before the response')));

  it('ECONNRESET on recv in the middle of a response body fails the body read with ECONNRESET', () =>
    withPeer((ctx) =>
      faulted(ctx, (fd) => ({ recv: { steps: ['pass', 'ECONNRESET'], fd } }), async (bad, faults) => {
        const res = await bad.request(`http://127.0.0.1:${ctx.port}/fixed/300000/53`);
        assert.equal(res.status, 200, 'the head arrived before the reset');
        const err = await failure(res.body.bytes());
        assert.equal(err.code, 'ECONNRESET', err.message);
        assert.deepEqual(faults.injected.recv, { ECONNRESET: 1 });
      }, 'ECONNRESET mid-body')));

  for (const code of ['ENOBUFS', 'ENOMEM'] as const) {
    it(`${code} on recv fails the GET with code ${code} (no retry: not a stale connection)`, () =>
      withPeer((ctx) =>
        faulted(ctx, (fd) => ({ recv: { steps: [code], fd } }), async (bad, faults) => {
          const err = await failure(fetchBytes(bad, ctx.port, '/text/54'));
          assert.equal(err.code, code, err.message);
          assert.deepEqual(faults.injected.recv, { [code]: 1 });
        }, `${code} on recv`)));
  }
});

describe("HTTP client: socket() out of fds", () => {
  for (const code of ['EMFILE', 'ENFILE'] as const) {
    it(`${code} on socket() fails the request with code ${code}, leaks nothing, and frees the pool slot`, () =>
      withPeer(async (ctx) => {
        const goodClient = new Client({ loop: ctx.loop, maxSocketsPerOrigin: 2 });
        const bad = new Client({ loop: ctx.loop, maxSocketsPerOrigin: 1 });
        try {
          // the good client's connections are open before the fault: it needs no socket() meanwhile
          const good = goodTraffic(clientFetchers(goodClient, ctx.port), { clients: 2, min: 6 });
          for (let i = 0; i < 1000 && good.served < 2; i++) await sleep(5);
          const faults = injectFaults({ socket: [code] });
          try {
            const err = await failure(fetchBytes(bad, ctx.port, '/text/60'));
            assert.equal(err.code, code, err.message);
          } finally {
            faults.restore();
          }
          assert.deepEqual(faults.injected.socket, { [code]: 1 });
          assert.equal(Object.values(bad.stats())[0]!.open, 0, 'the failed connect gave its slot back');
          // maxSocketsPerOrigin 1: a slot still held would make this wait forever
          assert.ok((await fetchBytes(bad, ctx.port, '/fixed/3000/61')).equals(payload(61, 3000)), 'the next request is served');
          const r = await good.stop();
          assert.deepEqual(r.failures, []);
        } finally {
          bad.close();
          goodClient.close();
        }
        await backToBaseline(ctx.loop, ctx.base, `${code} on socket()`);
      }));
  }
});
