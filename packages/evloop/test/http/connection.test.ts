/**
 * The connection's flow control and deadlines (src/http/connection.ts), over real sockets: a client
 * that pipelines and never reads, clients that stop reading while the connection closes, bodies
 * trickled or held back by the server itself, a graceful close in the middle of a header section.
 * Timings are loose on purpose (a shared 2-core machine): each bound is one only the bug crosses.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import type { HttpServer } from '../../src/http/server.js';
import { open, raw, statuses, tick, withServer } from './server-helpers.js';

const GET = (path = '/', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const MiB = 1024 * 1024;

/** A 4 MiB body with a pattern, so a misplaced or lost byte shows. */
const BIG = Buffer.alloc(4 * MiB);
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(i, i);

/** Answers every request with BIG, its path in X-Seq. */
function bigHandler(counter?: { calls: number }) {
  return (req: ServerRequest, res: ServerResponse): void => {
    if (counter) counter.calls++;
    res.setHeader('X-Seq', req.target.slice(1));
    res.end(BIG);
  };
}

/** Waits until `cond()` holds (checked every 10 ms), at most `ms`; returns whether it held. */
async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) return false;
    await tick(10);
  }
  return true;
}

/** A socket whose reading is paused from the start: the client that never reads. */
async function nonReader(port: number): Promise<Socket> {
  const sock = await open(port);
  sock.pause();
  sock.on('error', () => {});
  return sock;
}

interface ParsedResponse {
  status: number;
  seq: string | undefined;
  length: number;
  /** Every body byte equal to BIG's at the same offset. */
  intact: boolean;
}

/**
 * Reads Content-Length-framed responses off `sock` until `count` arrived, the socket closes, or
 * `timeoutMs` passes. Bodies are compared with BIG piece by piece (never held whole).
 */
function readResponses(sock: Socket, count: number, timeoutMs: number): Promise<ParsedResponse[]> {
  return new Promise((resolve) => {
    const out: ParsedResponse[] = [];
    let head = Buffer.alloc(0);
    let cur: ParsedResponse | null = null;
    let left = 0;
    const finish = (): void => {
      clearTimeout(timer);
      sock.removeListener('data', onData);
      resolve(out);
    };
    const timer = setTimeout(finish, timeoutMs);
    const onData = (d: Buffer): void => {
      let i = 0;
      while (i < d.length) {
        if (cur === null) {
          head = Buffer.concat([head, d.subarray(i)]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const text = head.subarray(0, end).toString('latin1');
          const rest = head.subarray(end + 4);
          head = Buffer.alloc(0);
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? 0);
          cur = { status: Number(text.slice(9, 12)), seq: /\r\nx-seq: ([^\r]*)/i.exec(text)?.[1], length, intact: true };
          left = length;
          d = rest;
          i = 0;
        }
        const n = Math.min(left, d.length - i);
        const off = cur.length - left;
        if (n > 0 && !d.subarray(i, i + n).equals(BIG.subarray(off, off + n))) cur.intact = false;
        left -= n;
        i += n;
        if (left === 0) {
          out.push(cur);
          cur = null;
          if (out.length === count) return finish();
        }
      }
    };
    sock.on('data', onData);
    sock.once('close', finish);
    sock.resume();
  });
}

describe('HTTP connection: pipelining while the client does not read', () => {
  it('dispatches no further pipelined request while the write buffer is over its high-water mark, then answers all in order', async () => {
    const counter = { calls: 0 };
    const N = 32;
    await withServer(bigHandler(counter), {}, async ({ port }) => {
      const sock = await nonReader(port);
      let burst = '';
      for (let i = 1; i <= N; i++) burst += GET(`/${i}`);
      sock.write(burst); // ≈ 1 KiB: one read on the server
      await waitUntil(() => counter.calls > 0, 3000);
      await tick(300); // time for the server to run whatever it would
      // Before the fix all 32 handlers ran in that one read, each queuing 4 MiB (128 MiB).
      assert.ok(counter.calls <= 3, `handler calls while the client reads nothing: ${counter.calls} of ${N}`);
      const got = await readResponses(sock, N, 30_000);
      assert.equal(got.length, N, 'every response arrived');
      assert.deepEqual(got.map((r) => r.seq), Array.from({ length: N }, (_, i) => String(i + 1)), 'in request order');
      for (const r of got) {
        assert.equal(r.status, 200);
        assert.equal(r.length, BIG.length);
        assert.ok(r.intact, `response ${r.seq ?? '?'} is intact`);
      }
      assert.equal(counter.calls, N, 'each request reached the handler once');
      sock.destroy();
    });
  });
});

/** Sends `request` and never reads; true once the server closed the connection within `ms`. */
async function closedWhileUnread(server: HttpServer, port: number, request: string, ms: number, then?: () => void): Promise<boolean> {
  const sock = await nonReader(port);
  sock.write(request);
  await waitUntil(() => server.connections === 1 && server.stats().requests === 1, 3000);
  then?.();
  const closed = await waitUntil(() => server.connections === 0, ms);
  sock.destroy();
  return closed;
}

describe('HTTP connection: the send timeout holds in every state', () => {
  // sendTimeoutMs 300: the fd must be closed well before the 4 s of waiting (before the fix: never).
  it('aborts a Connection: close response the client never reads once the send timeout passes', async () => {
    await withServer(bigHandler(), { sendTimeoutMs: 300 }, async ({ port, server }) => {
      assert.ok(await closedWhileUnread(server, port, GET('/1', 'Connection: close\r\n'), 4000), 'the fd was closed');
    });
  });
  it('aborts an HTTP/1.0 response the client never reads once the send timeout passes', async () => {
    await withServer(bigHandler(), { sendTimeoutMs: 300 }, async ({ port, server }) => {
      assert.ok(await closedWhileUnread(server, port, 'GET /1 HTTP/1.0\r\n\r\n', 4000), 'the fd was closed');
    });
  });
  it('aborts an unread response after the keep-alive timeout expired first', async () => {
    await withServer(bigHandler(), { sendTimeoutMs: 300, keepAliveTimeoutMs: 50 }, async ({ port, server }) => {
      assert.ok(await closedWhileUnread(server, port, GET('/1'), 4000), 'the fd was closed');
    });
  });
  it('aborts an unread response during a graceful close long before its timeout', async () => {
    await withServer(bigHandler(), { sendTimeoutMs: 300 }, async ({ port, server }) => {
      let closing: Promise<void> | null = null;
      const closed = await closedWhileUnread(server, port, GET('/1'), 4000, () => {
        closing = server.close({ timeoutMs: 60_000 });
      });
      assert.ok(closed, 'the fd was closed by the send timeout, not by the 60 s close timeout');
      await closing;
    });
  });
  it('does not cut off a slow client that keeps taking bytes, keep-alive or closing', async () => {
    // 16 MiB read 1 MiB per 200 ms: far longer than the 1 s send timeout, but always progressing
    // (before the fix a keep-alive connection had to drain to the low-water mark within it)
    const body = Buffer.alloc(16 * MiB, 7);
    await withServer((_req, res) => res.end(body), { sendTimeoutMs: 1000 }, async ({ port }) => {
      for (const extra of ['', 'Connection: close\r\n']) {
        const sock = await nonReader(port);
        sock.write(GET('/', extra));
        let n = 0;
        let sinceBreak = 0;
        let closed = false;
        sock.on('close', () => (closed = true));
        sock.on('data', (d: Buffer) => {
          n += d.length;
          sinceBreak += d.length;
          if (sinceBreak >= MiB) {
            sinceBreak = 0;
            sock.pause();
            setTimeout(() => sock.resume(), 200);
          }
        });
        sock.resume();
        await waitUntil(() => n >= body.length || closed, 20_000);
        assert.ok(n >= body.length, `${extra || 'keep-alive'}: got ${n} of ${body.length} bytes (closed: ${closed})`);
        sock.destroy();
      }
    });
  });
});

describe('HTTP connection: request deadlines', () => {
  it('ends a body trickled at one byte per 50 ms with 408 once requestTimeoutMs passes', async () => {
    let handlerSaw = '';
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      try {
        res.end(`got ${(await req.body()).length}`);
      } catch (err) {
        handlerSaw = (err as { code?: string }).code ?? String(err);
      }
    };
    // each byte comes well within the body timeout: only the total deadline can end it
    await withServer(handler, { bodyTimeoutMs: 2000, requestTimeoutMs: 500 }, async ({ port }) => {
      const parts = ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n', ...Array.from({ length: 80 }, () => 'a')];
      const r = await raw(port, parts, { gapMs: 50, timeoutMs: 6000 });
      assert.deepEqual(statuses(r.text), [408]);
      assert.ok(r.closed, 'closed');
      assert.ok(r.ms < 3500, `closed after ${r.ms.toFixed(0)} ms, the request timeout is 500 ms (the trickle takes 4 s)`);
      assert.equal(handlerSaw, 'ERR_HTTP_BODY_ABORTED', 'the handler saw the body cut off');
    });
  });
  it('ends a header section trickled within the headers timeout once requestTimeoutMs passes', async () => {
    await withServer((_req, res) => res.end('ok'), { headersTimeoutMs: 5000, requestTimeoutMs: 400 }, async ({ port }) => {
      const parts = ['GET / HTTP/1.1\r\n', ...Array.from({ length: 60 }, (_, i) => `X-${i}: a\r\n`)];
      const r = await raw(port, parts, { gapMs: 50, timeoutMs: 6000 });
      assert.deepEqual(statuses(r.text), [408]);
      assert.ok(r.closed && r.ms < 2500, `closed after ${r.ms.toFixed(0)} ms`);
    });
  });
  it('does not time out a body the server itself has not read yet (the handler waits 800 ms, bodyTimeoutMs 300)', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      await tick(800);
      res.end(`got ${(await req.body()).length}`);
    };
    await withServer(handler, { bodyTimeoutMs: 300, requestTimeoutMs: 500 }, async ({ port }) => {
      const n = 512 * 1024; // more than the 64 KiB the request buffers before reading pauses
      const r = await raw(port, [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\n\r\n`, Buffer.alloc(n, 1)], {
        until: (t) => t.endsWith(`got ${n}`),
        timeoutMs: 5000,
      });
      assert.deepEqual(statuses(r.text), [200]);
      assert.ok(r.text.endsWith(`got ${n}`), 'the whole body reached the handler');
      assert.equal(r.closed, false);
    });
  });
  it('runs the body timeout again once the server reads: a body that then stalls gets 408', async () => {
    let handlerSaw = '';
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      await tick(800);
      try {
        res.end(`got ${(await req.body()).length}`);
      } catch (err) {
        handlerSaw = (err as { code?: string }).code ?? String(err);
      }
    };
    await withServer(handler, { bodyTimeoutMs: 300 }, async ({ port }) => {
      // half of the body at once (reading pauses after 64 KiB), then nothing
      const r = await raw(port, [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024}\r\n\r\n`, Buffer.alloc(512 * 1024, 1)], {
        timeoutMs: 5000,
      });
      assert.deepEqual(statuses(r.text), [408]);
      assert.ok(r.closed && r.ms > 800 && r.ms < 4000, `closed after ${r.ms.toFixed(0)} ms: not while the handler waited, and not never`);
      assert.equal(handlerSaw, 'ERR_HTTP_BODY_ABORTED');
    });
  });
  it('answers an Expect other than 100-continue with 417 and closes, without calling the handler', async () => {
    let calls = 0;
    await withServer((_req, res) => void (calls++, res.end('ok')), {}, async ({ port }) => {
      const r = await raw(port, [GET('/', 'Expect: something-else\r\n') + GET('/after')], { timeoutMs: 3000 });
      assert.deepEqual(statuses(r.text), [417]);
      assert.match(r.text, /\r\nConnection: close\r\n/);
      assert.ok(r.closed, 'closed');
      assert.equal(calls, 0);
    });
  });
});

/**
 * A client that had /first answered and sent part of a second head in the same write (so in the
 * same read: once /first is answered, the server has parsed that part too).
 */
async function midHeadClient(port: number): Promise<{ sock: Socket; text: () => string; closed: () => boolean }> {
  const sock = await open(port);
  let text = '';
  let closed = false;
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  sock.write(GET('/first') + 'GET / HTTP/1.1\r\nHost: x\r\n');
  await waitUntil(() => text.endsWith('ok'), 3000);
  return { sock, text: () => text, closed: () => closed };
}

describe('HTTP connection: graceful close', () => {
  it('lets a connection in the middle of its header section finish it, then answers with Connection: close', async () => {
    await withServer((_req, res) => res.end('ok'), {}, async ({ port, server }) => {
      const c = await midHeadClient(port);
      const closing = server.close({ timeoutMs: 5000 });
      await tick(100);
      assert.equal(c.closed(), false, 'not dropped as idle');
      c.sock.write('\r\n');
      await waitUntil(c.closed, 3000);
      assert.deepEqual(statuses(c.text()), [200, 200]);
      const second = c.text().slice(c.text().indexOf('ok') + 2);
      assert.match(second, /\r\nConnection: close\r\n/);
      assert.ok(second.endsWith('\r\n\r\nok'), 'the second response is complete');
      assert.ok(c.closed(), 'closed after the response');
      await closing;
      c.sock.destroy();
    });
  });
  it('gives a connection in the middle of its header section its headers timeout (408), not the close timeout', async () => {
    await withServer((_req, res) => res.end('ok'), { headersTimeoutMs: 300 }, async ({ port, server }) => {
      const c = await midHeadClient(port);
      const closing = server.close({ timeoutMs: 60_000 });
      assert.ok(await waitUntil(c.closed, 4000), 'closed by the headers timeout');
      assert.deepEqual(statuses(c.text()), [200, 408]);
      await closing;
      c.sock.destroy();
    });
  });
});
