import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareHeaders } from '../../src/http/headers.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { open, raw, statuses, tick, withServer, type RawResult } from './server-helpers.js';

const GET = (path = '/', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const hello = (_req: ServerRequest, res: ServerResponse): void => res.end('Hello, World!', prepareHeaders({ 'Content-Type': 'text/plain' }));

describe('HTTP server', () => {
  it('answers a GET with Content-Length and a Date header in IMF-fixdate format', async () => {
    await withServer(hello, {}, async ({ port }) => {
      const r = await raw(port, [GET()], { until: (t) => t.endsWith('Hello, World!') });
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(r.text, /\r\nContent-Length: 13\r\n/);
      assert.match(r.text, /\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n/);
      const date = Date.parse(/Date: ([^\r]+)/.exec(r.text)![1]!);
      assert.ok(Math.abs(date - Date.now()) < 3000, 'the Date is the current time');
      assert.equal(r.closed, false, 'HTTP/1.1 keeps the connection open');
    });
  });

  it('serves several requests one after another on one keep-alive connection', async () => {
    await withServer((req, res) => res.end(req.target), {}, async ({ port, server }) => {
      const sock = await open(port);
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString()));
      for (const p of ['/a', '/b', '/c']) {
        sock.write(GET(p));
        while (!text.endsWith(p)) await tick(5);
      }
      assert.deepEqual(statuses(text), [200, 200, 200]);
      assert.equal(server.stats().accepted, 1, 'one connection served all three');
      sock.destroy();
    });
  });

  it('answers 16 pipelined requests sent in one packet in order, in one write', async () => {
    await withServer((req, res) => res.end(req.target), {}, async ({ port }) => {
      const reqs = Array.from({ length: 16 }, (_, i) => GET(`/r${i}`)).join('');
      const r = await raw(port, [reqs], { until: (t) => t.endsWith('/r15') });
      const bodies = [...r.text.matchAll(/\r\n\r\n(\/r\d+)/g)].map((m) => m[1]);
      assert.deepEqual(bodies, Array.from({ length: 16 }, (_, i) => `/r${i}`));
      assert.equal(r.reads.length, 1, `all 16 responses arrived in one read (got reads of ${r.reads.join(', ')} bytes)`);
    });
  });

  it('keeps pipelined responses in request order when an earlier handler answers later', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      if (req.target === '/slow') await tick(50);
      res.end(req.target);
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [GET('/slow') + GET('/fast') + GET('/slow') + GET('/last')], { until: (t) => t.endsWith('/last') });
      const bodies = [...r.text.matchAll(/\r\n\r\n(\/[a-z]+)/g)].map((m) => m[1]);
      assert.deepEqual(bodies, ['/slow', '/fast', '/slow', '/last']);
    });
  });

  it('de-chunks a chunked request body and streams a response without Content-Length as chunked', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      const body = await req.text();
      res.write('got:');
      res.write(body);
      res.end();
    };
    await withServer(handler, {}, async ({ port }) => {
      const req = 'POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n';
      const r = await raw(port, [req], { until: (t) => t.endsWith('0\r\n\r\n') });
      assert.match(r.text, /\r\nTransfer-Encoding: chunked\r\n/);
      assert.doesNotMatch(r.text, /Content-Length/);
      assert.ok(r.text.endsWith('\r\n\r\n4\r\ngot:\r\nb\r\nhello world\r\n0\r\n\r\n'), r.text);
    });
  });

  it('sends 100 Continue when the handler reads a body the client holds back, then the response', async () => {
    await withServer(async (req, res) => res.end(`len=${(await req.body()).length}`), {}, async ({ port }) => {
      const sock = await open(port);
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString()));
      sock.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
      while (!text.includes('\r\n\r\n')) await tick(5);
      assert.equal(text, 'HTTP/1.1 100 Continue\r\n\r\n');
      sock.write('abcde');
      while (!text.endsWith('len=5')) await tick(5);
      assert.match(text, /HTTP\/1\.1 200 OK/);
      sock.destroy();
    });
  });

  it('answers HEAD with the Content-Length of the GET body and no body', async () => {
    await withServer(hello, {}, async ({ port }) => {
      const r = await raw(port, [`HEAD / HTTP/1.1\r\nHost: x\r\n\r\n${GET('/')}`], { until: (t) => t.endsWith('Hello, World!') });
      const [head, second] = r.text.split(/(?=HTTP\/1\.1 )/);
      assert.match(head!, /Content-Length: 13\r\n/);
      assert.ok(head!.endsWith('\r\n\r\n'), 'the HEAD response has no body');
      assert.match(second!, /^HTTP\/1\.1 200 OK/);
    });
  });

  for (const [name, request, status, opts] of [
    ['a malformed request line', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 400, {}],
    ['a bare LF in the head', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400, {}],
    ['an oversized header section', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`, 431, { maxHeaderBytes: 1024 }],
    ['too many header fields', `GET / HTTP/1.1\r\n${Array.from({ length: 12 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, 431, { maxHeaderCount: 10 }],
    ['a Content-Length over the body limit', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n', 413, { maxBodyBytes: 1000 }],
    ['a chunked body over the body limit', `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'a'.repeat(1024)}\r\n400\r\n${'a'.repeat(1024)}\r\n0\r\n\r\n`, 413, { maxBodyBytes: 1500 }],
    ['an unknown transfer coding', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501, {}],
    ['an unsupported HTTP version', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505, {}],
  ] as const) {
    it(`answers ${name} with ${status} and closes the connection`, async () => {
      const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
        await req.body().catch(() => {});
        if (!res.closed) res.end('ok');
      };
      await withServer(handler, opts, async ({ port, errors }) => {
        const r = await raw(port, [request]);
        assert.deepEqual(statuses(r.text), [status], r.text);
        assert.match(r.text, /Connection: close\r\n/);
        assert.ok(r.closed, 'the server closed the connection');
        assert.deepEqual(errors, []);
      });
    });
  }

  it('rejects Content-Length with Transfer-Encoding: the smuggled request is never answered', async () => {
    let calls = 0;
    await withServer((_req, res) => void (calls++, res.end('ok')), {}, async ({ port }) => {
      const smuggle = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n';
      const r = await raw(port, [smuggle]);
      assert.deepEqual(statuses(r.text), [400]);
      assert.ok(r.closed);
      assert.equal(calls, 0, 'no handler ran');
    });
  });

  it('rejects two different Content-Length values with 400', async () => {
    let calls = 0;
    await withServer((_req, res) => void (calls++, res.end('ok')), {}, async ({ port }) => {
      const r = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabcGET / HTTP/1.1\r\n\r\n']);
      assert.deepEqual(statuses(r.text), [400]);
      assert.ok(r.closed);
      assert.equal(calls, 0);
    });
  });

  it('cuts off a slowloris client with 408 once the header timeout passes', async () => {
    await withServer(hello, { headersTimeoutMs: 200 }, async ({ port }) => {
      // 90 lines 25 ms apart: a client that would keep the head open for 2250 ms
      const parts = ['GET / HTTP/1.1\r\n', ...Array.from({ length: 90 }, (_, i) => `X-${i}: a\r\n`)];
      const r = await raw(port, parts, { gapMs: 25, timeoutMs: 5000 });
      assert.ok(r.closed, 'closed');
      assert.deepEqual(statuses(r.text), [408]);
      // a timeout re-armed by each line (the bug: an idle timeout, not a deadline for the whole
      // head) closes only after the last line, past 2250 ms; the deadline closes near 200-250 ms
      assert.ok(r.ms < 1800, `closed after ${r.ms.toFixed(0)} ms, the timeout is 200 ms`);
    });
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    await withServer(hello, { keepAliveTimeoutMs: 150 }, async ({ port, server }) => {
      const r = await raw(port, [GET()], { timeoutMs: 3000 });
      assert.deepEqual(statuses(r.text), [200]);
      assert.ok(r.closed, 'closed while idle');
      // not before the timeout; a keep-alive timer that is not armed (the bug) leaves it open
      // until raw() gives up at 3000 ms: the upper bound only has to be below that
      assert.ok(r.ms >= 140 && r.ms < 2500, `closed after ${r.ms.toFixed(0)} ms`);
      assert.equal(server.connections, 0);
    });
  });

  it('closes gracefully: finishes an in-flight slow response, closes idle connections, accepts no more', async () => {
    let slowStarted = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      if (req.target === '/slow') {
        slowStarted = true;
        await gate;
      }
      res.end(`done ${req.target}`);
    };
    await withServer(handler, {}, async ({ port, server }) => {
      const idle = await raw(port, [GET('/idle')], { until: (t) => t.endsWith('done /idle') });
      assert.equal(idle.closed, false);
      const idleSock = await open(port);
      let idleClosed = false;
      idleSock.on('close', () => (idleClosed = true));
      const slow = raw(port, [GET('/slow')], { timeoutMs: 5000 });
      for (let i = 0; i < 300 && !slowStarted; i++) await tick(10);
      assert.ok(slowStarted, 'the slow request reached its handler');
      const closing = server.close({ timeoutMs: 5000 });
      // "at once": while the in-flight response is still held back by the test, not after it
      // (the bug would be closing idle connections only once in-flight work is done)
      for (let i = 0; i < 300 && !idleClosed; i++) await tick(10);
      assert.ok(idleClosed, 'the idle keep-alive connection was closed while a response was still in flight');
      await assert.rejects(open(port), /ECONNREFUSED/);
      release();
      const r = await slow;
      assert.match(r.text, /HTTP\/1\.1 200 OK/);
      assert.match(r.text, /Connection: close\r\n/);
      assert.ok(r.text.endsWith('done /slow'));
      assert.ok(r.closed);
      await closing;
      assert.equal(server.connections, 0);
    });
  });

  it('streams a response with backpressure: write returns false and drain waits for a slow reader', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const total = 256;
    let sawFalse = false;
    const handler = async (_req: ServerRequest, res: ServerResponse): Promise<void> => {
      res.setHeader('Content-Length', String(chunk.length * total));
      for (let i = 0; i < total; i++) {
        if (!res.write(chunk)) {
          sawFalse = true;
          await res.drain();
        }
      }
      res.end();
    };
    await withServer(handler, {}, async ({ port }) => {
      const sock = await open(port);
      sock.pause();
      sock.write(GET());
      for (let i = 0; i < 300 && !sawFalse; i++) await tick(10);
      assert.ok(sawFalse, 'write() said stop while the client did not read');
      let got = 0;
      const headEnd = new Promise<void>((resolve) => {
        sock.on('data', (d: Buffer) => {
          got += d.length;
          if (got >= chunk.length * total) resolve();
        });
      });
      sock.resume();
      await headEnd;
      sock.destroy();
    });
  });

  it('streams a request body with backpressure: the socket is not read while the handler lags', async () => {
    const size = 32 * 1024 * 1024;
    let received = -1;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      await gate;
      let n = 0;
      for await (const c of req) n += c.length;
      received = n;
      res.end(`n=${n}`);
    };
    await withServer(handler, {}, async ({ port }) => {
      const sock = await open(port);
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString()));
      sock.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
      sock.write(Buffer.alloc(size, 0x62));
      await tick(300);
      assert.ok(sock.writableLength > 0, `the upload is held back by TCP (${sock.writableLength} bytes still queued by the client)`);
      release();
      while (!text.endsWith(`n=${size}`)) await tick(10);
      assert.equal(received, size);
      sock.destroy();
    });
  });

  it('answers 500 and closes when a handler throws, and keeps serving other connections', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      if (req.target === '/throw') throw new Error('boom');
      if (req.target === '/reject') {
        await tick(5);
        throw new Error('async boom');
      }
      res.end('fine');
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      for (const path of ['/throw', '/reject']) {
        const r = await raw(port, [GET(path)]);
        assert.deepEqual(statuses(r.text), [500]);
        assert.ok(r.closed);
      }
      assert.deepEqual(errors.map((e) => (e as Error).message), ['boom', 'async boom']);
      const ok = await raw(port, [GET('/')], { until: (t) => t.endsWith('fine') });
      assert.deepEqual(statuses(ok.text), [200]);
    });
  });

  it('answers an HTTP/1.0 request and closes, or keeps it open when it asks for keep-alive', async () => {
    await withServer(hello, {}, async ({ port }) => {
      const r = await raw(port, ['GET / HTTP/1.0\r\n\r\n']);
      assert.ok(r.closed);
      assert.match(r.text, /Connection: close/);
      const k = await raw(port, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], { until: (t) => t.endsWith('World!') });
      assert.match(k.text, /Connection: keep-alive/);
      assert.equal(k.closed, false);
    });
  });

  it('refuses header values that would split the response', async () => {
    await withServer((_req, res) => {
      assert.throws(() => res.setHeader('X-Evil', 'a\r\nSet-Cookie: x=1'), { code: 'ERR_HTTP_INVALID_HEADER' });
      assert.throws(() => res.setHeader('Bad Name', 'v'), { code: 'ERR_HTTP_INVALID_HEADER' });
      res.end('ok');
    }, {}, async ({ port }) => {
      const r = await raw(port, [GET()], { until: (t) => t.endsWith('ok') });
      assert.doesNotMatch(r.text, /Set-Cookie/);
    });
  });
  it('survives hostile input: mutated and random requests never crash it, hang past the timeout or get a handler call for garbage', async () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const valid = 'POST /p?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const mutated: Buffer[] = [];
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(valid, 'latin1');
      for (let k = 0, m = 1 + rand(4); k < m; k++) b[rand(b.length)] = rand(256);
      mutated.push(b);
    }
    // random bytes never form a request line + Host (the seed is fixed, so this holds every run)
    const random = Array.from({ length: 50 }, () => Buffer.from(Array.from({ length: 1 + rand(300) }, () => rand(256))));
    const calls: ServerRequest[] = [];
    let answered = 0;
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      calls.push(req);
      await req.body().catch(() => {});
      if (!res.closed) {
        answered++;
        res.end('ok');
      }
    };
    const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
    await withServer(handler, { headersTimeoutMs: 300, bodyTimeoutMs: 300, keepAliveTimeoutMs: 300 }, async ({ port, errors }) => {
      const check = (results: RawResult[]): number[] => {
        const all: number[] = [];
        for (const r of results) {
          assert.ok(r.closed, 'every connection ends by the timeouts at the latest');
          for (const st of statuses(r.text)) assert.ok([200, 400, 408, 413, 417, 431, 501, 505].includes(st), `status ${st}`);
          all.push(...statuses(r.text));
        }
        return all;
      };
      const fromRandom = check(await Promise.all(random.map((b) => raw(port, [b], { timeoutMs: 3000 }))));
      assert.equal(calls.length, 0, `no handler call for random bytes (got ${calls.map((r) => JSON.stringify(r.method)).join(', ')})`);
      assert.ok(!fromRandom.includes(200));

      const fromMutated = check(await Promise.all(mutated.map((b) => raw(port, [b], { timeoutMs: 3000 }))));
      // the handler sees only requests that parsed: a method token, a target without controls
      // or spaces, HTTP/1.0 or 1.1, token field names
      for (const req of calls) {
        assert.match(req.method, TOKEN);
        assert.ok(req.target.length > 0 && !/[\x00-\x20\x7f]/.test(req.target), `target ${JSON.stringify(req.target)}`);
        assert.ok(req.versionMinor === 0 || req.versionMinor === 1);
        for (let i = 0; i < req.headers.length; i += 2) assert.match(req.headers[i]!, TOKEN);
      }
      assert.equal(fromMutated.filter((st) => st === 200).length, answered, 'each 200 came from one handler call');
      assert.ok(calls.length < mutated.length, 'some mutations broke the head and reached no handler');
      assert.deepEqual(errors, [], 'no handler failed');
      const ok = await raw(port, [GET()], { until: (t) => t.endsWith('ok') });
      assert.deepEqual(statuses(ok.text), [200]);
    });
  });
  it('aborts a connection whose client stops reading a streamed response once the send timeout passes', async () => {
    let outcome = '';
    const handler = async (_req: ServerRequest, res: ServerResponse): Promise<void> => {
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) if (!res.write(chunk)) await res.drain();
      } catch (err) {
        outcome = (err as { code?: string }).code ?? String(err);
      }
    };
    await withServer(handler, { sendTimeoutMs: 200 }, async ({ port, server }) => {
      const sock = await open(port);
      sock.pause();
      sock.on('error', () => {});
      sock.write(GET());
      const start = performance.now();
      while (outcome === '' && performance.now() - start < 5000) await tick(20);
      const ms = performance.now() - start;
      assert.equal(outcome, 'ERR_HTTP_CONNECTION_CLOSED', 'the handler learns that the client is gone');
      // the timeout is 200 ms; without one (the bug) the handler would still be writing at 5000 ms
      assert.ok(ms < 3000, `aborted after ${ms.toFixed(0)} ms`);
      for (let i = 0; i < 100 && server.connections > 0; i++) await tick(10);
      assert.equal(server.connections, 0);
      sock.destroy();
    });
  });
  it('keeps framing with pipelined bodies: a body read later, and a body the handler never reads', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      if (req.target === '/read') {
        await tick(20);
        return res.end(`read:${await req.text()}`);
      }
      res.end(`skip:${req.target}`); // answers without reading the body: it is discarded
    };
    await withServer(handler, {}, async ({ port }) => {
      const body = 'x'.repeat(100_000);
      const reqs =
        `POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc` +
        `POST /skip HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        `POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n` +
        GET('/last');
      const r = await raw(port, [reqs], { until: (t) => t.endsWith('skip:/last') });
      const bodies = [...r.text.matchAll(/\r\n\r\n([a-z]+:[a-z/]+)/g)].map((m) => m[1]);
      assert.deepEqual(bodies, ['read:abc', 'skip:/skip', 'read:de', 'skip:/last']);
      assert.equal(r.closed, false);
    });
  });
});

describe('HTTP server connection cap', () => {
  it('closes a connection past maxConnections at once, unanswered, counts it in stats().rejected, and serves again below the cap', async () => {
    await withServer(hello, { maxConnections: 1 }, async ({ port, server }) => {
      const held = await open(port);
      let got = '';
      held.on('data', (d: Buffer) => (got += d.toString()));
      held.write(GET());
      for (let i = 0; i < 2000 && !got.endsWith('Hello, World!'); i++) await tick(5);
      assert.ok(got.endsWith('Hello, World!'), 'the held connection is served');
      const over = await raw(port, [GET()], { timeoutMs: 10_000 });
      assert.deepEqual({ text: over.text, closed: over.closed }, { text: '', closed: true }, 'closed at once without an answer');
      assert.equal(server.stats().rejected, 1);
      assert.equal(server.stats().accepted, 1);
      held.destroy();
      for (let i = 0; i < 2000 && server.connections > 0; i++) await tick(5);
      assert.equal(server.connections, 0, 'the held connection closed');
      const again = await raw(port, [GET()], { until: (t) => t.endsWith('Hello, World!'), timeoutMs: 10_000 });
      assert.match(again.text, /^HTTP\/1\.1 200 OK\r\n/);
    });
  });
});
