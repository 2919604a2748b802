// Request bodies on the wire: the head's framing fields, chunked streaming against Node's http
// server, and backpressure on writing (the source is not read faster than the server reads).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../../src/http/client/index.js';
import { prepareBody, serializeHead, type PreparedBody } from '../../src/http/client/request-writer.js';
import { sleep, waitFor } from '../net/helpers.js';
import { noFdLeak, readAll, rejection, startNodeServer } from './client-helpers.js';

function head(method: string, body: PreparedBody, fields: string[] = [], keepAlive = true): string {
  return serializeHead({ method, target: '/t', host: 'h:1', fields, body, keepAlive }).head.toString('latin1');
}

describe('the request head', () => {
  it('a GET without a body has no framing field', () => {
    assert.equal(head('GET', prepareBody(undefined)), 'GET /t HTTP/1.1\r\nHost: h:1\r\n\r\n');
  });

  it('a POST without a body says Content-Length: 0', () => {
    assert.match(head('POST', prepareBody(null)), /\r\nContent-Length: 0\r\n\r\n$/);
  });

  it('a byte body has its Content-Length; a stream is chunked', () => {
    assert.match(head('PUT', prepareBody('héllo')), /\r\nContent-Length: 6\r\n/);
    const stream = prepareBody((async function* () {})());
    assert.match(head('POST', stream), /\r\nTransfer-Encoding: chunked\r\n/);
  });

  it("the caller's Host and Content-Length are kept; a stream with a Content-Length is not chunked", () => {
    const h = serializeHead({ method: 'POST', target: '/', host: 'h', fields: ['Host', 'other', 'Content-Length', '3'], body: prepareBody((async function* () {})()), keepAlive: true });
    assert.equal(h.chunked, false);
    assert.equal(h.fixedLength, 3);
    assert.equal(h.head.toString(), 'POST / HTTP/1.1\r\nHost: other\r\nContent-Length: 3\r\n\r\n');
  });

  it('a Content-Length that disagrees with a byte body is refused', () => {
    assert.throws(() => head('POST', prepareBody('abc'), ['Content-Length', '4']), { code: 'ERR_BODY_LENGTH_MISMATCH' });
    assert.throws(() => head('POST', prepareBody('abc'), ['Transfer-Encoding', 'chunked']), { code: 'ERR_INVALID_HEADER' });
  });

  it('keepAlive false sends Connection: close; a caller asking for close is noted', () => {
    assert.match(head('GET', prepareBody(undefined), [], false), /\r\nConnection: close\r\n/);
    assert.equal(serializeHead({ method: 'GET', target: '/', host: 'h', fields: ['Connection', 'close'], body: { kind: 'none' }, keepAlive: true }).close, true);
  });

  it('the start-line and Host are checked at the last gate: a bad target or Host gives ERR_INVALID_URL, a bad method ERR_INVALID_ARG', () => {
    const at = (method: string, target: string, host: string) => () => serializeHead({ method, target, host, fields: [], body: { kind: 'none' }, keepAlive: true });
    for (const t of ['/a b', '/a\r\nX-Injected: 1', '/a\nb', '/\u010d\u010aX: 1', '/\u00e9', '/\x7f', '']) assert.throws(at('GET', t, 'h'), { code: 'ERR_INVALID_URL' }, JSON.stringify(t));
    for (const h of ['h\r\nX-Injected: 1', 'h h', 'h\u010a', '']) assert.throws(at('GET', '/', h), { code: 'ERR_INVALID_URL' }, JSON.stringify(h));
    for (const m of ['GET / HTTP/1.1\r\nX: y\r\n', 'G\u0100T', '']) assert.throws(at(m, '/', 'h'), { code: 'ERR_INVALID_ARG' }, JSON.stringify(m));
    assert.equal(at('GET', '/a%20b?q=%C3%A9', '[::1]:8080')().head.toString('latin1'), 'GET /a%20b?q=%C3%A9 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n');
  });

  it('a URL with spaces, CR/LF and non-ASCII reaches the server percent-encoded on one request line, no injected field', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((req, res) => res.end(JSON.stringify({ url: req.url, injected: req.headers['x-injected'] ?? null })));
      const client = use(new Client());
      const res = await client.request(`${srv.url('/a b')}\r\nX-Injected: 1\u010d\u010a?é`);
      assert.deepEqual(await res.json(), { url: '/a%20bX-Injected:%201%C4%8D%C4%8A?%C3%A9', injected: null });
      client.close();
      await srv.close();
    }));

  it('unsupported body types are refused with ERR_INVALID_ARG', () => {
    assert.throws(() => prepareBody(42 as never), { code: 'ERR_INVALID_ARG' });
  });
});

describe('request bodies against Node http', () => {
  const echo = () =>
    startNodeServer(async (req, res) => {
      const body = await readAll(req).catch(() => null); // a client that gives up mid-body
      if (body === null) return;
      res.end(JSON.stringify({ te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null, len: body.length, text: body.length < 100 ? body.toString() : '' }));
    });

  it('an async iterable body is sent chunked and arrives whole', () =>
    noFdLeak(async (use) => {
      const srv = await echo();
      const client = use(new Client());
      async function* gen() {
        yield 'hello ';
        yield new Uint8Array(0); // skipped: an empty chunk would end the body
        yield Buffer.from('chunked ');
        yield 'world';
      }
      const res = await client.request({ url: srv.url(), method: 'POST', body: gen() });
      assert.deepEqual(await res.json(), { te: 'chunked', cl: null, len: 19, text: 'hello chunked world' });
      // the connection is still good for the next request
      assert.equal(((await (await client.request({ url: srv.url(), method: 'POST', body: 'x' })).json()) as { len: number }).len, 1);
      assert.equal(srv.connections, 1);
    }));

  it('a web ReadableStream body is sent chunked', () =>
    noFdLeak(async (use) => {
      const srv = await echo();
      const client = use(new Client());
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('from '));
          c.enqueue(new TextEncoder().encode('a stream'));
          c.close();
        },
      });
      const res = await client.request({ url: srv.url(), method: 'PUT', body: stream });
      assert.deepEqual(await res.json(), { te: 'chunked', cl: null, len: 13, text: 'from a stream' });
    }));

  it('a streamed body with a fixed Content-Length is sent raw; a short one is an error', () =>
    noFdLeak(async (use) => {
      const srv = await echo();
      const client = use(new Client());
      async function* gen() {
        yield 'ab';
        yield 'c';
      }
      const res = await client.request({ url: srv.url(), method: 'POST', body: gen(), headers: { 'content-length': '3' } });
      assert.deepEqual(await res.json(), { te: null, cl: '3', len: 3, text: 'abc' });
      const err = await rejection(client.request({ url: srv.url(), method: 'POST', body: gen(), headers: { 'content-length': '5' } }));
      assert.equal(err.code, 'ERR_BODY_LENGTH_MISMATCH');
    }));

  it('a body source that throws fails the request with its error and closes the connection', () =>
    noFdLeak(async (use) => {
      const srv = await echo();
      const client = use(new Client());
      async function* bad() {
        yield 'a';
        throw Object.assign(new Error('source broke'), { code: 'E_SOURCE' });
      }
      const err = await rejection(client.request({ url: srv.url(), method: 'POST', body: bad() }));
      assert.equal(err.code, 'E_SOURCE');
      await waitFor(() => Object.values(client.stats())[0]!.open === 0, 'the connection to close');
    }));

  it('a large upload to a slow server is produced only as fast as the server reads (drain)', () =>
    noFdLeak(async (use) => {
      const total = 64 * 1024 * 1024;
      const piece = Buffer.alloc(64 * 1024, 7);
      let produced = 0;
      let received = 0;
      let producedWhileStalled = -1;
      const srv = await startNodeServer((req, res) => {
        req.once('data', (d: Buffer) => {
          received += d.length;
          req.pause();
          setTimeout(() => {
            producedWhileStalled = produced;
            req.on('data', (x: Buffer) => (received += x.length));
            req.resume();
          }, 300);
        });
        req.on('end', () => res.end(String(received)));
      });
      const client = use(new Client());
      async function* gen() {
        while (produced < total) {
          produced += piece.length;
          yield piece;
        }
      }
      const res = await client.request({ url: srv.url(), method: 'POST', body: gen() });
      assert.equal(await res.text(), String(total));
      // Only socket buffers (a few MB at most) may be ahead of a server that stopped reading.
      assert.ok(producedWhileStalled > 0 && producedWhileStalled < 16 * 1024 * 1024, `produced ${producedWhileStalled} bytes while the server read none`);
    }));

  it('a server answering before reading the body ends the exchange; the connection is closed', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => {
        res.statusCode = 413;
        res.end('too big');
      });
      const client = use(new Client());
      async function* slow() {
        yield 'a';
        await sleep(50);
        yield 'b';
      }
      const res = await client.request({ url: srv.url(), method: 'POST', body: slow() });
      assert.equal(res.status, 413);
      assert.equal(await res.text(), 'too big');
    }));
});
