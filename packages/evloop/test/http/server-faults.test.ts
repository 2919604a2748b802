// The HTTP server under injected system-call faults (src/sys/fault.ts), on real sockets. Each
// fault is scoped to the server's fd of ONE connection (a raw peer) while well-behaved Node http
// clients on other connections keep requesting and check every byte. Afterwards the server's fds,
// its loop's watchers and handles are back to their baseline and a fresh connection is served.
// Benign faults (short writes, EAGAIN, EINTR, short reads) must not lose a byte even on the
// faulted connection; fatal ones (ECONNRESET, EPIPE, ENOMEM, ENOBUFS) close only that connection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import { serve, type HttpServer } from '../../src/http/server.js';
import { injectFaults, type FaultHandle, type FaultPlan, type FaultStep } from '../../src/sys/index.js';
import { trackFds } from '../net/helpers.js';
import {
  app, backToBaseline, baseline, bodyOf, expectedBody, goodTraffic, httpGet, listenerFd, nodeFetchers, payload, rawRequest, RawPeer, responses,
  serverFdFor, sleep, stableBaseline, type Baseline,
} from './fault-helpers.js';

interface Ctx {
  port: number;
  server: HttpServer;
  loop: Loop;
  base: Baseline;
}

/**
 * A fresh server running `app` on its own loop; asserts no handler error, no leak, and no error
 * reported to the loop except those matching `reported` (a failed accept() is logged by design).
 */
async function withApp(fn: (ctx: Ctx) => Promise<void>, reported?: RegExp): Promise<void> {
  const done = await trackFds();
  const loopErrors: string[] = [];
  const loop = createLoop({ onError: (err, what) => loopErrors.push(`${what}: ${String(err)}`) });
  const handlerErrors: unknown[] = [];
  const server = await serve(app, { loop, port: 0, onError: (e) => handlerErrors.push(e) });
  const addr = server.address();
  const port = 'port' in addr ? addr.port : 0;
  try {
    // one exchange first: the Date cache, sweep timer and the like exist before the baseline
    assert.equal((await httpGet(port, '/text/0', false)).status, 200);
    for (let i = 0; i < 200 && server.connections > 0; i++) await sleep(5);
    await fn({ port, server, loop, base: await stableBaseline(loop) });
  } finally {
    await server.close({ timeoutMs: 1000 });
    loop.close();
  }
  assert.deepEqual(handlerErrors, [], 'no handler error reached onError');
  assert.deepEqual(loopErrors.filter((e) => reported === undefined || !reported.test(e)), [], 'no exception reached the loop');
  await done();
}

/** Asserts the server still answers a new connection correctly, and everything is back to baseline. */
async function stillServing(ctx: Ctx, what: string): Promise<void> {
  const got = await httpGet(ctx.port, '/fixed/5000/99', false);
  assert.equal(got.status, 200, `${what}: a new connection is answered`);
  assert.ok(got.body.equals(payload(99, 5000)), `${what}: a new connection gets every byte`);
  await backToBaseline(ctx.loop, ctx.base, what);
  assert.equal(ctx.server.connections, 0, `${what}: no connection left open`);
}

interface Exchange {
  /** Requests the raw peer sends (in one write), as [method, path, body?]. */
  requests: [string, string, Buffer?][];
  /** The fault plan, given the server's fd of the peer's connection. */
  plan: (fd: number) => FaultPlan;
}

/**
 * Runs well-behaved traffic, opens the faulted peer, injects the plan on its server fd, sends the
 * requests, and calls `check` once the peer got everything (or closed). Then the good clients must
 * report no failure and the server be back to baseline.
 */
async function faulted(ctx: Ctx, ex: Exchange, check: (peer: RawPeer, faults: FaultHandle) => void | Promise<void>, what: string): Promise<void> {
  const good = goodTraffic(nodeFetchers(ctx.port), { clients: 2, min: 4 });
  for (let i = 0; i < 1000 && good.served < 2; i++) await sleep(5);
  const peer = await RawPeer.open(ctx.port);
  const fd = await serverFdFor(peer.localPort);
  const faults = injectFaults(ex.plan(fd));
  try {
    peer.sock.write(Buffer.concat(ex.requests.map(([, path, body]) => rawRequest(path, body))));
    const methods = ex.requests.map(([m]) => m);
    await peer.until((p) => responses(p.data, methods).messages.filter((m) => m.complete).length === methods.length, 15_000);
    await check(peer, faults);
  } finally {
    faults.restore(); // before the peer goes: its fd number may be reused by a good connection
    peer.destroy();
  }
  const r = await good.stop();
  assert.deepEqual(r.failures, [], `${what}: the well-behaved clients saw no failure`);
  assert.ok(r.served >= 8, `${what}: the well-behaved clients were served (${r.served})`);
  await stillServing(ctx, what);
}

/** The peer got exactly the expected responses, every body byte for byte. */
function gotEverything(ex: Exchange): (peer: RawPeer, faults: FaultHandle) => void {
  return (peer, faults) => {
    assert.ok(faults.total > 0, 'the plan injected faults');
    const { messages, error } = responses(peer.data, ex.requests.map(([m]) => m));
    assert.equal(error, null, 'the faulted connection got well-formed responses');
    assert.equal(messages.length, ex.requests.length, 'one response per request');
    ex.requests.forEach(([, path, body], i) => {
      const m = messages[i]!;
      assert.equal(m.head?.statusCode, 200, `${path}: status`);
      assert.equal(m.complete, true, `${path}: complete`);
      assert.ok(bodyOf(m).equals(expectedBody(path, body)), `${path}: every body byte (${m.body.length} bytes)`);
    });
  };
}

const repeat = (fd: number, steps: FaultStep[]) => ({ steps, repeat: true, fd });

/** Pipelined: small and large bodies, strings, a stream, an echo. */
const MIXED: [string, string, Buffer?][] = [
  ['GET', '/text/1'], ['GET', '/fixed/100/5'], ['GET', '/fixed/40000/6'], ['GET', '/text/2'], ['GET', '/fixed/3000/7'],
  ['GET', '/stream/3/5000/8'], ['POST', '/echo', payload(9, 20_000)], ['GET', '/text/3'],
];

/** [title, requests, plan, what must have been injected (checked by the test)] */
const BENIGN: [string, Exchange['requests'], Exchange['plan'], (f: FaultHandle) => boolean][] = [
  [
    'short sends and short writevs of the cork flush deliver all 8 pipelined responses whole', MIXED,
    (fd) => ({ send: repeat(fd, [{ short: 1 }, { short: 7 }, { short: 1500 }]), writev: repeat(fd, [{ short: 3 }, { short: 2000 }]) }),
    (f) => (f.injected.send?.short ?? 0) > 0 && (f.injected.writev?.short ?? 0) > 0,
  ],
  [
    'EAGAIN on the cork flush and on writev of the queued rest delivers every byte', MIXED,
    (fd) => ({ send: repeat(fd, ['EAGAIN', { short: 10 }, 'EAGAIN', 'pass']), writev: repeat(fd, ['EAGAIN', { short: 333 }]) }),
    (f) => (f.injected.writev?.EAGAIN ?? 0) > 0,
  ],
  [
    'EINTR on send, writev and recv is retried without losing a byte', MIXED,
    (fd) => ({ send: repeat(fd, ['EINTR', { short: 50 }]), writev: repeat(fd, ['EINTR', 'pass']), recv: repeat(fd, ['EINTR', { short: 4000 }]) }),
    (f) => (f.injected.recv?.EINTR ?? 0) > 0 && (f.injected.writev?.EINTR ?? 0) > 0,
  ],
  [
    'short reads of a few bytes at a time still parse pipelined requests with bodies',
    [['GET', '/text/4'], ['POST', '/echo', payload(21, 1500)], ['GET', '/fixed/200/22'], ['POST', '/echo', payload(23, 10)]],
    (fd) => ({ recv: repeat(fd, [{ short: 1 }, { short: 3 }, { short: 17 }]) }),
    (f) => (f.injected.recv?.short ?? 0) > 100,
  ],
  [
    'a streamed chunked response (res.write per part) survives short sends and EAGAIN on every part',
    [['GET', '/stream/20/60000/11'], ['GET', '/text/5']],
    (fd) => ({ send: repeat(fd, [{ short: 100 }, 'EAGAIN', { short: 5000 }]), writev: repeat(fd, ['EAGAIN', { short: 700 }]) }),
    (f) => (f.injected.send?.EAGAIN ?? 0) > 0 && (f.injected.writev?.short ?? 0) > 0,
  ],
];

describe('HTTP server: benign faults on one connection lose no byte anywhere', () => {
  for (const [title, requests, plan, injected] of BENIGN) {
    it(title, () =>
      withApp(async (ctx) => {
        const ex: Exchange = { requests, plan };
        await faulted(ctx, ex, (peer, faults) => {
          gotEverything(ex)(peer, faults);
          assert.ok(injected(faults), `the planned faults happened: ${JSON.stringify(faults.injected)}`);
        }, title);
      }));
  }
});

/** The peer's connection was closed by the server, and what arrived is no complete response. */
function closedEarly(requests: number): (peer: RawPeer) => Promise<void> {
  return async (peer) => {
    assert.equal(await peer.closedWithin(10_000), true, 'the server closed the faulted connection');
    const complete = responses(peer.data, Array(requests).fill('GET')).messages.filter((m) => m.complete).length;
    assert.ok(complete < requests, 'the faulted connection did not get all its responses');
  };
}

describe('HTTP server: fatal faults close only the faulted connection', () => {
  for (const code of ['ECONNRESET', 'EPIPE', 'ENOBUFS', 'ENOMEM'] as const) {
    it(`${code} on the cork flush (send) closes that connection at once, nothing sent`, () =>
      withApp(async (ctx) => {
        const ex: Exchange = {
          requests: [['GET', '/text/1'], ['GET', '/fixed/100/2'], ['GET', '/text/3']],
          plan: (fd) => ({ send: { steps: [code], fd } }),
        };
        await faulted(ctx, ex, async (peer, faults) => {
          await closedEarly(3)(peer);
          assert.deepEqual(faults.injected.send, { [code]: 1 });
          assert.equal(peer.received, 0, 'the failed send delivered nothing');
        }, `${code} on send`);
      }));
  }

  for (const code of ['ECONNRESET', 'EPIPE'] as const) {
    it(`${code} on writev of a queued response closes that connection`, () =>
      withApp(async (ctx) => {
        // send says EAGAIN until the queue holds head and body and goes out with one writev
        let writevSeen = false;
        const ex: Exchange = {
          requests: [['GET', '/fixed/40000/12']],
          plan: (fd) => ({
            send: (_n, args) => (args[0] === fd && !writevSeen ? 'EAGAIN' : 'pass'),
            writev: (_n, args) => {
              if (args[0] !== fd || writevSeen) return 'pass';
              writevSeen = true;
              return code;
            },
          }),
        };
        await faulted(ctx, ex, async (peer, faults) => {
          await closedEarly(1)(peer);
          assert.deepEqual(faults.injected.writev, { [code]: 1 }, 'the queued response failed on writev');
          assert.equal(peer.received, 0);
        }, `${code} on writev`);
      }));

    it(`${code} in the middle of a streamed chunked response closes that connection; the naive handler's failure is not a server error`, () =>
      withApp(async (ctx) => {
        const ex: Exchange = {
          requests: [['GET', '/stream/10/10000/13']],
          plan: (fd) => ({ send: { steps: ['pass', 'pass', code], fd }, writev: { steps: [code], fd } }),
        };
        await faulted(ctx, ex, async (peer, faults) => {
          await closedEarly(1)(peer);
          assert.equal(faults.total, 1, 'one fault ended the stream');
          const [m] = responses(peer.data, ['GET']).messages;
          assert.equal(m?.head?.statusCode, 200, 'the head and first parts had gone out');
          const got = bodyOf(m!);
          assert.ok(got.length > 0 && got.length < 10_000, `a strict prefix of the body arrived (${got.length} bytes)`);
          assert.ok(got.equals(payload(13, 10_000).subarray(0, got.length)), 'and it is the right prefix');
        }, `${code} while streaming`);
      }));
  }

  for (const code of ['ECONNRESET', 'ENOBUFS', 'ENOMEM'] as const) {
    it(`${code} on recv closes that connection without an answer`, () =>
      withApp(async (ctx) => {
        const ex: Exchange = { requests: [['GET', '/text/1']], plan: (fd) => ({ recv: { steps: [code], fd } }) };
        await faulted(ctx, ex, async (peer, faults) => {
          await closedEarly(1)(peer);
          assert.deepEqual(faults.injected.recv, { [code]: 1 });
          assert.equal(peer.received, 0);
        }, `${code} on recv`);
      }));
  }
});

describe('HTTP server: accept() out of fds or memory', () => {
  for (const [a, b] of [['EMFILE', 'ENFILE'], ['ENOBUFS', 'ENOMEM']] as const) {
    it(`${a} and ${b} on accept: open connections keep being served, the waiting one is served afterwards`, () =>
      withApp(async (ctx) => {
        const good = goodTraffic(nodeFetchers(ctx.port), { clients: 2, min: 6 });
        for (let i = 0; i < 1000 && good.served < 2; i++) await sleep(5);
        // accept fails (a, b, a, b …) at least 4 times and until the open connections got 3 more answers
        const lfd = listenerFd(ctx.port);
        const before = good.served;
        let failed = 0;
        const faults = injectFaults({
          accept4: (_n, args) => (args[0] === lfd && failed < 40 && (failed < 4 || good.served < before + 3) ? (failed++ % 2 === 0 ? a : b) : 'pass'),
        });
        let late: { status: number; body: Buffer };
        try {
          late = await httpGet(ctx.port, '/fixed/3000/31', false);
        } finally {
          faults.restore();
        }
        assert.ok(good.served >= before + 3, 'the open connections were served while accept failed');
        assert.ok((faults.injected.accept4?.[a] ?? 0) >= 2 && (faults.injected.accept4?.[b] ?? 0) >= 2, `both errors were injected: ${JSON.stringify(faults.injected.accept4)}`);
        assert.equal(late.status, 200);
        assert.ok(late.body.equals(payload(31, 3000)), 'the connection that waited in the backlog got every byte');
        const r = await good.stop();
        assert.deepEqual(r.failures, []);
        await stillServing(ctx, `${a}/${b} on accept`);
      }, new RegExp(`^accept: SysError: accept (${a}|${b}) `)));
  }
});
