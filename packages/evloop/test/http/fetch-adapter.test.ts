import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { stream, streamText } from 'hono/streaming';
import { fetchHandler } from '../../src/http/fetch-adapter.js';
import { raw, withServer } from './server-helpers.js';

function app(): Hono {
  const a = new Hono();
  a.onError((err, c) => c.text(`error: ${err.message}`, 500));
  a.get('/', (c) => c.text('Hello, Hono!'));
  a.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null }));
  a.post('/json', async (c) => c.json({ got: await c.req.json(), type: c.req.header('content-type') }, 201));
  a.post('/count', async (c) => {
    let n = 0;
    const reader = c.req.raw.body!.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) n += r.value.length;
    return c.text(`bytes=${n}`);
  });
  a.get('/stream', (c) =>
    streamText(c, async (s) => {
      for (let i = 0; i < 5; i++) {
        await s.write(`part${i};`);
        await s.sleep(5);
      }
    }));
  a.get('/big', (c) =>
    stream(c, async (s) => {
      const chunk = new Uint8Array(256 * 1024).fill(0x7a);
      for (let i = 0; i < 40; i++) await s.write(chunk);
    }));
  a.get('/cookie', (c) => {
    c.header('Set-Cookie', 'a=1', { append: true });
    c.header('Set-Cookie', 'b=2', { append: true });
    return c.body(null, 204);
  });
  a.get('/boom', () => {
    throw new Error('route failed');
  });
  return a;
}

describe('fetch adapter', () => {
  it('serves a Hono app: text with a Content-Length, route params and query as JSON', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const base = `http://127.0.0.1:${port}`;
      const r = await fetch(`${base}/`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-length'), '12', 'an in-memory body goes out with a Content-Length');
      assert.equal(await r.text(), 'Hello, Hono!');
      const u = await fetch(`${base}/users/42?q=x`);
      assert.match(u.headers.get('content-type')!, /application\/json/);
      assert.deepEqual(await u.json(), { id: '42', q: 'x' });
      const nf = await fetch(`${base}/nope`);
      assert.equal(nf.status, 404);
      await nf.arrayBuffer();
    });
  });

  it('passes a JSON request body in and a status other than 200 out', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const r = await fetch(`http://127.0.0.1:${port}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: [1, 2] }) });
      assert.equal(r.status, 201);
      assert.deepEqual(await r.json(), { got: { a: [1, 2] }, type: 'application/json' });
    });
  });

  it('streams a large request body into the app as a ReadableStream', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const size = 8 * 1024 * 1024;
      const r = await fetch(`http://127.0.0.1:${port}/count`, { method: 'POST', body: new Uint8Array(size) });
      assert.equal(await r.text(), `bytes=${size}`);
    });
  });

  it('streams a response body out chunked as the app produces it', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const r = await raw(port, ['GET /stream HTTP/1.1\r\nHost: x\r\n\r\n'], { until: (t) => t.endsWith('0\r\n\r\n') });
      assert.match(r.text, /Transfer-Encoding: chunked/i);
      const body = r.text.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/[0-9a-f]+\r\n|\r\n/g, '');
      assert.equal(body, 'part0;part1;part2;part3;part4;');
      assert.ok(r.reads.length >= 2, 'the parts arrived as they were written, not all at the end');
    });
  });

  it('streams a 10 MB response with backpressure to a fetch client', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const r = await fetch(`http://127.0.0.1:${port}/big`);
      const b = new Uint8Array(await r.arrayBuffer());
      assert.equal(b.length, 40 * 256 * 1024);
      assert.ok(b.every((x) => x === 0x7a));
    });
  });

  it('sends each Set-Cookie as its own field and no body for 204', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const r = await raw(port, ['GET /cookie HTTP/1.1\r\nHost: x\r\n\r\n'], { until: (t) => t.includes('\r\n\r\n') });
      assert.match(r.text, /^HTTP\/1\.1 204 /);
      assert.equal([...r.text.matchAll(/set-cookie: /gi)].length, 2);
      assert.doesNotMatch(r.text, /Content-Length|Transfer-Encoding/i);
    });
  });

  it('builds the URL from the validated host and path: Host, absolute-form (own scheme), OPTIONS *, HTTP/1.0 without Host', async () => {
    const urls: string[] = [];
    const handler = fetchHandler((r) => (urls.push(r.url), new Response('u')), { scheme: 'https' });
    await withServer(handler, {}, async ({ port, errors }) => {
      const r = await raw(
        port,
        [
          'GET /a?b=1 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n' +
            'GET http://target.example/p/q HTTP/1.1\r\nHost: ignored.example\r\n\r\n' +
            'OPTIONS * HTTP/1.1\r\nHost: opt.example\r\n\r\n' +
            'GET / HTTP/1.0\r\n\r\n',
        ],
        { timeoutMs: 5000 },
      );
      assert.equal([...r.text.matchAll(/ 200 OK\r\n/g)].length, 4, r.text);
      assert.deepEqual(urls, ['https://example.com:8443/a?b=1', 'http://target.example/p/q', 'https://opt.example/', 'https://localhost/']);
      assert.deepEqual(errors, []);
    });
  });

  it('never builds a URL from a Host the server refused (evil/.., userinfo), and answers 400 for a host the URL parser refuses', async () => {
    const urls: string[] = [];
    await withServer(fetchHandler((r) => (urls.push(r.url), new Response('u'))), {}, async ({ port, errors }) => {
      for (const host of ['evil/..', 'a@evil', 'evil?x']) {
        const r = await raw(port, [`GET /x HTTP/1.1\r\nHost: ${host}\r\n\r\n`]);
        assert.match(r.text, /^HTTP\/1\.1 400 /, host);
        assert.ok(r.closed, host);
      }
      // valid for RFC 3986, refused by the WHATWG URL parser: the app cannot be given it
      for (const host of ['999.1.1.1', 'a%2Fb', '[v1.x]']) {
        const r = await raw(port, [`GET /x HTTP/1.1\r\nHost: ${host}\r\n\r\n`], { until: (t) => t.includes('\r\n\r\n') });
        assert.match(r.text, /^HTTP\/1\.1 400 /, host);
      }
      assert.deepEqual(urls, []);
      assert.deepEqual(errors, []);
    });
  });

  it('turns an exception of the app into a 500 (Hono answers it itself) and a throwing fetch function into a 500', async () => {
    await withServer(fetchHandler(app().fetch), {}, async ({ port }) => {
      const r = await fetch(`http://127.0.0.1:${port}/boom`);
      assert.equal(r.status, 500);
      await r.arrayBuffer();
    });
    await withServer(fetchHandler(() => { throw new Error('no app'); }), {}, async ({ port, errors }) => {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(r.status, 500);
      await r.arrayBuffer();
      assert.deepEqual(errors.map((e) => (e as Error).message), ['no app']);
    });
  });
});
