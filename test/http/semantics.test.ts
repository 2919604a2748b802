// Request semantics the server enforces on a well-framed head (src/http/semantics.ts): the parser
// frames `GET *` and `Transfer-Encoding: gzip, chunked`; the server refuses them like a parse
// error, and none of their bytes is ever read as a next request.
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { HttpParser, type HttpMessageHead } from '../../src/http/parser.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { requestSemanticsError } from '../../src/http/semantics.js';
import { raw, statuses, withServer } from './server-helpers.js';

function head(s: string): HttpMessageHead {
  let h: HttpMessageHead | null = null;
  new HttpParser('request', { onHeadersComplete: (x) => void (h = x) }).feed(Buffer.from(s, 'latin1'));
  assert.ok(h !== null, 'the head parsed');
  return h;
}

describe('requestSemanticsError', () => {
  test('asterisk-form with a method other than OPTIONS: 400 HPE_INVALID_URL', () => {
    for (const m of ['GET', 'M-SEARCH', 'POST']) {
      const e = requestSemanticsError(head(`${m} * HTTP/1.1\r\nHost: x\r\n\r\n`));
      assert.equal(e?.status, 400, m);
      assert.equal(e?.code, 'HPE_INVALID_URL');
      assert.match(e!.message, /only for OPTIONS/);
    }
    assert.equal(requestSemanticsError(head('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')), null);
  });

  test('transfer codings other than chunked: 501 HPE_UNSUPPORTED_TRANSFER_ENCODING', () => {
    for (const te of ['gzip, chunked', 'deflate\r\nTransfer-Encoding: chunked', 'x-custom;q=1 , chunked']) {
      const e = requestSemanticsError(head(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n`));
      assert.equal(e?.status, 501, te);
      assert.equal(e?.code, 'HPE_UNSUPPORTED_TRANSFER_ENCODING');
      assert.equal(e?.offset, -1);
    }
  });

  test('ordinary requests pass', () => {
    for (const s of [
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n',
      'MKCOL /d HTTP/1.1\r\nHost: x\r\n\r\n',
    ]) {
      assert.equal(requestSemanticsError(head(s)), null, s);
    }
  });
});

describe('HTTP server: request semantics', () => {
  /** A handler that counts its calls and answers with the target. */
  function counting(): { calls: string[]; handler: (req: ServerRequest, res: ServerResponse) => void } {
    const calls: string[] = [];
    return { calls, handler: (req, res) => void (calls.push(`${req.method} ${req.target}`), res.end(req.target)) };
  }

  for (const [name, request, status] of [
    ['GET *', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['M-SEARCH * (SSDP)', 'M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n\r\n', 400],
    ['Transfer-Encoding: gzip, chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 501],
    ['Transfer-Encoding: deflate then chunked on two lines', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501],
    ['PRI * HTTP/1.1 (HTTP/2 preface look-alike)', 'PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n', 400],
  ] as const) {
    it(`answers ${name} with ${status}, Connection: close, and closes without calling the handler`, async () => {
      const { calls, handler } = counting();
      await withServer(handler, {}, async ({ port, errors }) => {
        const r = await raw(port, [request]);
        assert.deepEqual(statuses(r.text), [status], r.text);
        assert.match(r.text, /\r\nConnection: close\r\n/);
        assert.match(r.text, /\r\nContent-Length: 0\r\n\r\n$/);
        assert.ok(r.closed, 'the server closed the connection');
        assert.deepEqual(calls, [], 'no handler ran');
        assert.deepEqual(errors, []);
      });
    });
  }

  it('OPTIONS * still reaches the handler, and the connection stays open', async () => {
    const { calls, handler } = counting();
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'], { until: (t) => t.endsWith('*') });
      assert.deepEqual(statuses(r.text), [200]);
      assert.equal(r.closed, false);
      assert.deepEqual(calls, ['OPTIONS *']);
    });
  });

  const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  // No smuggling: the body of a refused request is framed (chunked), but a request hidden in it,
  // or sent after it on the same connection, is never parsed or answered.
  for (const [name, parts] of [
    [
      'a request inside the chunked body of a gzip, chunked request',
      [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`],
    ],
    [
      'a request after a gzip, chunked request (same packet)',
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
    ],
    [
      'a request after a gzip, chunked request (next packet)',
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', '5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
    ],
    [
      'a request that would start where a gzip-decoder would see the body end',
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
    ],
    ['a request pipelined after GET *', ['GET * HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n']],
  ] as const) {
    it(`no smuggling: ${name} is never answered`, async () => {
      const { calls, handler } = counting();
      await withServer(handler, {}, async ({ port, errors }) => {
        const r = await raw(port, [...parts], { gapMs: 20 });
        assert.equal(statuses(r.text).length, 1, r.text);
        assert.ok(statuses(r.text)[0] === 400 || statuses(r.text)[0] === 501, r.text);
        assert.doesNotMatch(r.text, /smuggled/);
        assert.ok(r.closed, 'the server closed the connection');
        assert.deepEqual(calls, [], 'no handler ran');
        assert.deepEqual(errors, []);
      });
    });
  }
});
