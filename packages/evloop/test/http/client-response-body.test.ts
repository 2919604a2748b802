// Response bodies: chunked and until-EOF framing, bodiless responses, and backpressure: a slow
// consumer pauses the socket, so memory stays bounded however fast the server writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../../src/http/client/index.js';
import { ResponseBody } from '../../src/http/client/response-body.js';
import { sleep, waitFor } from '../net/helpers.js';
import { noFdLeak, rejection, startNodeServer, startRawServer } from './client-helpers.js';

describe('ResponseBody', () => {
  it('asks its source to pause above the high-water mark and to resume below a quarter of it', async () => {
    const calls: string[] = [];
    const body = new ResponseBody({ pause: () => calls.push('pause'), resume: () => calls.push('resume'), cancel: () => calls.push('cancel') }, 100);
    for (let i = 0; i < 4; i++) body.push(Buffer.alloc(30));
    assert.deepEqual(calls, ['pause']);
    const it = body[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    await it.next();
    assert.deepEqual(calls, ['pause'], '30 bytes left: above 100 / 4');
    await it.next();
    assert.deepEqual(calls, ['pause', 'resume']);
    body.end();
    assert.equal((await it.next()).done, true);
  });

  it('can be read only once: a second reader gets ERR_BODY_USED', async () => {
    const body = ResponseBody.empty();
    assert.equal(await body.text(), '');
    assert.equal((await rejection(body.text())).code, 'ERR_BODY_USED');
  });

  it('an error reaches a reader waiting for data', async () => {
    const body = new ResponseBody(null);
    const p = body.text();
    body.error(Object.assign(new Error('x'), { code: 'E_X' }));
    assert.equal((await rejection(p)).code, 'E_X');
  });
});

describe('response bodies against Node http', () => {
  it('a chunked response arrives whole, trailers ignored', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer(async (_req, res) => {
        res.setHeader('Trailer', 'X-Sum');
        for (const part of ['one ', 'two ', 'three']) {
          res.write(part);
          await sleep(5);
        }
        res.addTrailers({ 'X-Sum': '3' });
        res.end();
      });
      const client = use(new Client());
      const res = await client.request(srv.url());
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const chunks: string[] = [];
      for await (const c of res.body) chunks.push(c.toString());
      assert.equal(chunks.join(''), 'one two three');
      assert.ok(chunks.length >= 2, 'the body streamed in pieces');
      assert.equal(await (await client.request(srv.url())).text(), 'one two three');
      assert.equal(srv.connections, 1);
    }));

  it('a large body with a slow consumer stays bounded in memory and pushes back on the server', () =>
    noFdLeak(async (use) => {
      const total = 32 * 1024 * 1024;
      let serverBlocked = false;
      const srv = await startNodeServer((_req, res) => {
        const piece = Buffer.alloc(256 * 1024, 1);
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += piece.length;
            if (!res.write(piece)) {
              serverBlocked = true;
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      });
      const client = use(new Client({ bodyHighWaterMark: 64 * 1024 }));
      const res = await client.request(srv.url());
      let got = 0;
      let maxBuffered = 0;
      let n = 0;
      for await (const c of res.body) {
        got += c.length;
        maxBuffered = Math.max(maxBuffered, res.body.bufferedBytes);
        if (++n % 64 === 0) await sleep(1); // slow consumer
      }
      assert.equal(got, total);
      assert.ok(serverBlocked, "the server's writes were pushed back");
      assert.ok(maxBuffered <= 64 * 1024 + 1024 * 1024, `at most ${maxBuffered} bytes waited unread`);
    }));

  it('HEAD, 204 and 304 responses have no body and leave the connection reusable', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((req, res) => {
        if (req.url === '/204') res.statusCode = 204;
        else if (req.url === '/304') res.statusCode = 304;
        else res.setHeader('Content-Length', '1000');
        res.end(req.method === 'HEAD' || req.url !== '/' ? undefined : 'x'.repeat(1000));
      });
      const client = use(new Client());
      const head = await client.request({ url: srv.url(), method: 'HEAD' });
      assert.equal(head.headers.get('content-length'), '1000');
      assert.equal(await head.text(), '');
      for (const path of ['/204', '/304']) {
        const res = await client.request(srv.url(path));
        assert.equal(res.status, Number(path.slice(1)));
        assert.equal(await res.text(), '');
      }
      assert.equal((await (await client.request(srv.url())).text()).length, 1000);
      assert.equal(srv.connections, 1);
    }));

  it('a body without length ends when the server closes; that connection is not reused', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
        setTimeout(() => s.end('the end'), 10);
      }));
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'until the end');
      assert.equal(await (await client.request(srv.url())).text(), 'until the end');
      assert.equal(srv.connections, 2);
    }));

  it('a 100 Continue before the response is skipped', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok')));
      const client = use(new Client());
      const res = await client.request({ url: srv.url(), method: 'POST', body: 'x' });
      assert.equal(res.status, 201);
      assert.equal(await res.text(), 'ok');
    }));

  it('leaving a for-await loop early closes the connection', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer(async (_req, res) => {
        for (let i = 0; i < 100 && !res.destroyed; i++) {
          res.write('x'.repeat(1000));
          await sleep(2);
        }
        res.end();
      });
      const client = use(new Client());
      const res = await client.request(srv.url());
      for await (const _ of res.body) break;
      await waitFor(() => srv.openSockets === 0, 'the server to see the close');
      assert.equal(Object.values(client.stats())[0]!.open, 0);
    }));

  it('json() and arrayBuffer() read the whole body', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => res.end('{"a":[1,2]}'));
      const client = use(new Client());
      assert.deepEqual(await (await client.request(srv.url())).json(), { a: [1, 2] });
      const ab = await (await client.request(srv.url())).arrayBuffer();
      assert.equal(Buffer.from(ab).toString(), '{"a":[1,2]}');
    }));
});
