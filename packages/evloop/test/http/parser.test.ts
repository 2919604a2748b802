import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpParseError } from '../../src/http/errors.js';
import { HttpParser } from '../../src/http/parser.js';
import { collect, everyByte, splitAt, type CollectOptions } from './collect.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function parseRequest(s: string, opts?: CollectOptions) {
  return collect('request', [b(s)], opts);
}

/** The same result whole, byte by byte, and split in two at every position. */
function assertSplitInvariant(kind: 'request' | 'response', s: string, opts: CollectOptions = {}): void {
  const input = b(s);
  const whole = collect(kind, [input], opts);
  assert.deepStrictEqual(collect(kind, everyByte(input), opts), whole, 'byte at a time');
  for (let cut = 1; cut < input.length; cut++) {
    assert.deepStrictEqual(collect(kind, splitAt(input, [cut]), opts), whole, `split at ${cut}`);
  }
}

describe('HttpParser requests', () => {
  test('a small GET yields method, target, version and raw-case fields with OWS trimmed', () => {
    const r = parseRequest('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Pad: \t v  \t\r\nEmpty:\r\n\r\n');
    assert.equal(r.error, null);
    assert.equal(r.messages.length, 1);
    const h = r.messages[0]!.head!;
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a?b=1');
    assert.deepEqual([h.versionMajor, h.versionMinor], [1, 1]);
    assert.deepEqual(h.headers, ['Host', 'x', 'X-Pad', 'v', 'Empty', '']);
    assert.equal(h.contentLength, -1);
    assert.equal(h.keepAlive, true);
    assert.equal(r.messages[0]!.complete, true);
  });

  test('any token method is accepted, known ones included', () => {
    for (const m of ['GET', 'PATCH', 'PROPFIND', 'X-CUSTOM!']) {
      assert.equal(parseRequest(`${m} / HTTP/1.1\r\n\r\n`).messages[0]!.head!.method, m);
    }
  });

  test('request-target forms: origin, absolute, authority for CONNECT, asterisk', () => {
    assert.equal(parseRequest('GET http://x.org/p HTTP/1.1\r\n\r\n').error, null);
    assert.equal(parseRequest('OPTIONS * HTTP/1.1\r\n\r\n').error, null);
    // The asterisk-form with another method is well framed: the server answers it 400 (semantics.ts).
    for (const m of ['GET', 'M-SEARCH']) {
      const r = parseRequest(`${m} * HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n`);
      assert.equal(r.error, null);
      assert.deepEqual(r.messages.map((x) => [x.head!.method, x.head!.target, x.complete]), [[m, '*', true], ['GET', '/', true]]);
    }
    const c = parseRequest('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\ntunnel bytes');
    assert.equal(c.error, null);
    assert.equal(c.messages[0]!.head!.upgrade, true);
    assert.equal(c.upgraded, true);
    // The tunnel bytes are left to the caller.
    assert.equal(c.consumed, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'.length);
  });

  test('body by Content-Length, then the next pipelined request', () => {
    const r = parseRequest('POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\n\r\nGET /c HTTP/1.0\r\n\r\n');
    assert.equal(r.error, null);
    assert.deepEqual(
      r.messages.map((m) => [m.head!.target, m.body, m.complete]),
      [
        ['/a', 'hello', true],
        ['/b', '', true],
        ['/c', '', true],
      ],
    );
    assert.equal(r.messages[2]!.head!.keepAlive, false);
  });

  test('chunked body with extensions and trailers', () => {
    const r = parseRequest(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value;q="a \\" b"\r\nhello\r\n1 ;x\r\n!\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n',
    );
    assert.equal(r.error, null);
    const m = r.messages[0]!;
    assert.equal(m.head!.chunked, true);
    assert.equal(m.body, 'hello!');
    assert.deepEqual(m.trailers, ['Expires', 'never', 'X-Sum', '1']);
  });

  test('other transfer codings before a final chunked: framed as chunked, reported in otherCodings', () => {
    for (const te of ['gzip, chunked', 'deflate\r\nTransfer-Encoding: chunked']) {
      const input = `POST / HTTP/1.1\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n`;
      const r = parseRequest(input);
      assert.equal(r.error, null);
      const h = r.messages[0]!.head!;
      assert.deepEqual([h.chunked, h.otherCodings, h.contentLength], [true, true, -1]);
      assert.equal(r.messages[0]!.body, 'hello');
      assert.deepEqual(r.messages.map((x) => [x.head!.target, x.complete]), [['/', true], ['/next', true]]);
      assertSplitInvariant('request', input);
    }
    const plain = parseRequest('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n').messages[0]!.head!;
    assert.deepEqual([plain.chunked, plain.otherCodings], [true, false]);
    assert.equal(parseRequest('GET / HTTP/1.1\r\n\r\n').messages[0]!.head!.otherCodings, false);
  });

  test('keep-alive follows the version and the Connection options', () => {
    const ka = (s: string) => parseRequest(s).messages[0]!.head!.keepAlive;
    assert.equal(ka('GET / HTTP/1.1\r\n\r\n'), true);
    assert.equal(ka('GET / HTTP/1.1\r\nConnection: Close\r\n\r\n'), false);
    assert.equal(ka('GET / HTTP/1.0\r\n\r\n'), false);
    assert.equal(ka('GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n'), true);
  });

  test('Upgrade with Connection: upgrade is flagged and stops the parser after the message', () => {
    const r = parseRequest('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00');
    assert.equal(r.messages[0]!.head!.upgrade, true);
    assert.equal(r.upgraded, true);
    assert.equal(r.consumed, b('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n').length);
    assert.equal(parseRequest('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n').messages[0]!.head!.upgrade, false);
  });

  test('Upgrade in an HTTP/1.0 request is ignored (RFC 9110 §7.8): not flagged, the next request is parsed', () => {
    const r = parseRequest('GET /ws HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.0\r\n\r\n');
    assert.equal(r.error, null);
    assert.equal(r.upgraded, false);
    assert.deepEqual(r.messages.map((m) => [m.head!.target, m.head!.upgrade, m.head!.keepAlive]), [['/ws', false, true], ['/next', false, false]]);
  });

  test('leading empty lines before a request are skipped', () => {
    assert.equal(parseRequest('\r\n\r\nGET / HTTP/1.1\r\n\r\n').messages.length, 1);
  });

  const rejections: [string, string, string, number][] = [
    ['invalid method char', 'G(T / HTTP/1.1\r\n\r\n', 'HPE_INVALID_METHOD', 400],
    ['space in target', 'GET /a b HTTP/1.1\r\n\r\n', 'HPE_INVALID_VERSION', 400],
    ['control char in target', 'GET /a\x01 HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['non-ASCII in target', 'GET /\xe9 HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['asterisk with a longer target', 'GET *x HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['asterisk with OPTIONS and a longer target', 'OPTIONS */a HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['the HTTP/2 preface look-alike PRI * HTTP/1.1', 'PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n', 'HPE_INVALID_METHOD', 400],
    ['the HTTP/2 connection preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'HPE_INVALID_METHOD', 400],
    ['CONNECT without port', 'CONNECT example.com HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['relative target', 'GET a/b HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    // RFC 9112 §3.2.3: the authority-form is only for CONNECT; `example.com` is not a scheme here.
    ['authority-form without CONNECT', 'GET example.com:80 HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['scheme without "//"', 'GET http:/a HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['scheme and ":" only', 'GET mailto:a@b HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL', 400],
    ['HTTP/0.9', 'GET /\r\n\r\n', 'HPE_INVALID_VERSION', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 'HPE_UNSUPPORTED_VERSION', 505],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 'HPE_UNSUPPORTED_VERSION', 505],
    ['malformed version', 'GET / HTTP/1.x\r\n\r\n', 'HPE_INVALID_VERSION', 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
    ['invalid name char', 'GET / HTTP/1.1\r\nHo{st: x\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
    ['empty name', 'GET / HTTP/1.1\r\n: x\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', 400],
    ['control char in value', 'GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n', 'HPE_INVALID_HEADER_VALUE', 400],
    ['NUL in value', 'GET / HTTP/1.1\r\nA: b\x00\r\n\r\n', 'HPE_INVALID_HEADER_VALUE', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 'HPE_OBS_FOLD', 400],
    ['space after start line', 'GET / HTTP/1.1\r\n A: b\r\n\r\n', 'HPE_UNEXPECTED_SPACE', 400],
    ['bare LF in header', 'GET / HTTP/1.1\r\nA: b\nB: c\r\n\r\n', 'HPE_CR_EXPECTED', 400],
    ['bare LF ending head', 'GET / HTTP/1.1\r\nA: b\r\n\n', 'HPE_CR_EXPECTED', 400],
    ['bare CR in header', 'GET / HTTP/1.1\r\nA: b\rB: c\r\n\r\n', 'HPE_LF_EXPECTED', 400],
    ['bare CR after start line', 'GET / HTTP/1.1\rA: b\r\n\r\n', 'HPE_LF_EXPECTED', 400],
    ['bare LF before request', '\nGET / HTTP/1.1\r\n\r\n', 'HPE_CR_EXPECTED', 400],
    ['CL not digits', 'POST / HTTP/1.1\r\nContent-Length: 1a\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH', 400],
    ['CL signed', 'POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH', 400],
    ['CL list', 'POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH', 400],
    ['CL empty', 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH', 400],
    ['CL overflow', 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH', 400],
    ['CL duplicates differ', 'POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH', 400],
    ['CL + TE', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH', 400],
    ['TE + CL', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH', 400],
    ['chunked not last', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['unknown coding only', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['other coding after chunked, on another line', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['empty TE', 'POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING', 400],
    ['bad chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n', 'HPE_INVALID_CHUNK_SIZE', 400],
    ['empty chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE', 400],
    ['chunk size overflow', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n', 'HPE_INVALID_CHUNK_SIZE', 400],
    ['space after chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\n', 'HPE_INVALID_CHUNK_EXTENSIONS', 400],
    ['chunk ext without name', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\n', 'HPE_INVALID_CHUNK_EXTENSIONS', 400],
    ['unterminated quoted ext', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\n', 'HPE_INVALID_CHUNK_EXTENSIONS', 400],
    ['chunk data without CRLF', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n', 'HPE_CR_EXPECTED', 400],
    ['bare LF after chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\r\n', 'HPE_LF_EXPECTED', 400],
    ['data after Connection: close', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n', 'HPE_CLOSED_CONNECTION', 400],
  ];
  for (const [name, input, code, status] of rejections) {
    test(`rejects ${name} with ${code} (${status}), however split`, () => {
      const r = parseRequest(input);
      assert.equal(r.error?.code, code, JSON.stringify(r.error));
      assert.equal(r.error?.status, status);
      assert.deepStrictEqual(collect('request', everyByte(b(input))), r);
    });
  }

  test('an error carries code, status and stream offset, and is rethrown on later input', () => {
    const p = new HttpParser('request', { onHeadersComplete() {} });
    p.feed(b('GET / HTTP/1.1\r\n'));
    let err: unknown;
    try {
      p.feed(b('Bad Name: x\r\n'));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof HttpParseError);
    assert.equal(err.code, 'HPE_INVALID_HEADER_TOKEN');
    assert.equal(err.status, 400);
    assert.equal(err.offset, 16 + 3);
    assert.throws(() => p.feed(b('x')), (e) => e === err);
    assert.throws(() => p.finish(), (e) => e === err);
  });
});

describe('HttpParser limits', () => {
  test('a header section over maxHeaderBytes is 431, whole or split', () => {
    const head = `GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}\r\n\r\n`;
    const limits = { maxHeaderBytes: head.length };
    assert.equal(parseRequest(head, { limits }).error, null);
    const over = { maxHeaderBytes: head.length - 1 };
    assert.equal(parseRequest(head, { limits: over }).error?.code, 'HPE_HEADER_OVERFLOW');
    assert.equal(parseRequest(head, { limits: over }).error?.status, 431);
    assertSplitInvariant('request', head, { limits: over });
  });

  test('a request-target that passes maxHeaderBytes is 414 HPE_URI_TOO_LONG (RFC 9112 §3), whole or split; past the target it is 431', () => {
    const head = `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const limits = { maxHeaderBytes: 50 };
    const r = parseRequest(head, { limits });
    assert.deepEqual([r.error?.code, r.error?.status], ['HPE_URI_TOO_LONG', 414]);
    assertSplitInvariant('request', head, { limits });
    // the limit passed in the version or the fields: still 431
    const past = parseRequest(head, { limits: { maxHeaderBytes: 110 } });
    assert.deepEqual([past.error?.code, past.error?.status], ['HPE_HEADER_OVERFLOW', 431]);
    const endless = collect('request', [b('GET /'), b('a'.repeat(20_000))]);
    assert.equal(endless.error?.code, 'HPE_URI_TOO_LONG');
  });

  test('an endless header section fails at the limit without waiting for its end', () => {
    const r = collect('request', [b('GET / HTTP/1.1\r\nX: '), b('a'.repeat(20_000))]);
    assert.equal(r.error?.code, 'HPE_HEADER_OVERFLOW');
    assert.equal(r.error?.offset, 16 * 1024);
  });

  test('more than maxHeaderCount fields is 431', () => {
    const head = `GET / HTTP/1.1\r\n${'A: b\r\n'.repeat(4)}\r\n`;
    assert.equal(parseRequest(head, { limits: { maxHeaderCount: 4 } }).error, null);
    const r = parseRequest(head, { limits: { maxHeaderCount: 3 } });
    assert.equal(r.error?.code, 'HPE_TOO_MANY_HEADERS');
    assert.equal(r.error?.status, 431);
  });

  test('bodies over maxBodyBytes are 413 (Content-Length, chunked, until EOF)', () => {
    const limits = { maxBodyBytes: 4 };
    assert.equal(parseRequest('POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd', { limits }).error, null);
    const cl = parseRequest('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde', { limits });
    assert.deepEqual([cl.error?.code, cl.error?.status, cl.messages[0]!.head], ['HPE_BODY_TOO_LARGE', 413, null]);
    const ch = parseRequest('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', { limits });
    assert.deepEqual([ch.error?.code, ch.messages[0]!.body], ['HPE_BODY_TOO_LARGE', 'abc']);
    const eof = collect('response', [b('HTTP/1.1 200 OK\r\n\r\nabc'), b('def')], { limits });
    assert.deepEqual([eof.error?.code, eof.messages[0]!.body], ['HPE_BODY_TOO_LARGE', 'abcd']);
  });
});

describe('HttpParser pause and resume', () => {
  test('pausing after each message makes feed return the bytes consumed so far', () => {
    const input = b('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n');
    const seen: string[] = [];
    const p: HttpParser = new HttpParser('request', {
      onHeadersComplete: (h) => seen.push(h.target),
      onMessageComplete: () => p.pause(),
    });
    assert.equal(p.feed(input), 19);
    assert.equal(p.paused, true);
    assert.equal(p.feed(input.subarray(19)), 0, 'a paused parser consumes nothing');
    assert.deepEqual(seen, ['/1']);
    p.resume();
    assert.equal(p.feed(input.subarray(19)), 19);
    p.resume();
    assert.equal(p.feed(input.subarray(38)), 19);
    assert.deepEqual(seen, ['/1', '/2', '/3']);
  });

  test('pausing during a body stops after that piece of body', () => {
    const bodies: string[] = [];
    const p: HttpParser = new HttpParser('request', {
      onHeadersComplete() {},
      onBody: (c) => {
        bodies.push(c.toString());
        p.pause();
      },
    });
    const input = b('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n');
    const n = p.feed(input);
    assert.ok(n < input.length);
    p.resume();
    p.feed(input.subarray(n));
    assert.deepEqual(bodies, ['ab', 'cd']);
  });

  test('pausing every message gives the same events as not pausing', () => {
    const s = 'GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\n\r\n';
    const plain = collect('request', [b(s)]);
    assert.deepStrictEqual(collect('request', [b(s)], { pauseEachMessage: true }), plain);
    assert.deepStrictEqual(collect('request', everyByte(b(s)), { pauseEachMessage: true }), plain);
  });
});

describe('HttpParser responses', () => {
  const parseResponse = (s: string, opts?: CollectOptions) => collect('response', [b(s)], opts);

  test('status line, reason phrase and Content-Length body', () => {
    const r = parseResponse('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnopHTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(
      r.messages.map((m) => [m.head!.statusCode, m.head!.statusText, m.body, m.complete]),
      [
        [404, 'Not Found', 'nop', true],
        [200, '', '', true],
      ],
    );
  });

  test('1xx, 204 and 304 have no body; 1xx is followed by the final response', () => {
    const r = parseResponse(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
    );
    assert.equal(r.error, null);
    assert.deepEqual(
      r.messages.map((m) => [m.head!.statusCode, m.body, m.complete]),
      [
        [100, '', true],
        [204, '', true],
        [304, '', true],
        [200, 'x', true],
      ],
    );
  });

  test('responses to HEAD have no body, matched in request order', () => {
    const s = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
    const r = parseResponse(s, { requestMethods: ['HEAD', 'GET'] });
    assert.deepEqual(
      r.messages.map((m) => [m.body, m.complete]),
      [
        ['', true],
        ['hi', true],
      ],
    );
  });

  test('a body without length runs until finish(), and the connection is not kept alive', () => {
    const r = collect('response', [b('HTTP/1.1 200 OK\r\n\r\nab'), b('cd')], { finish: true });
    assert.equal(r.error, null);
    assert.deepEqual([r.messages[0]!.body, r.messages[0]!.complete, r.messages[0]!.head!.keepAlive], ['abcd', true, false]);
    const unfinished = collect('response', [b('HTTP/1.1 200 OK\r\n\r\nab')]);
    assert.equal(unfinished.messages[0]!.complete, false);
  });

  test('finish() in the middle of a message is HPE_INVALID_EOF_STATE', () => {
    for (const s of ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', 'HTTP/1.1 200 O']) {
      assert.equal(parseResponse(s, { finish: true }).error?.code, 'HPE_INVALID_EOF_STATE', s);
    }
    assert.equal(parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab', { finish: true }).error, null);
  });

  test('a chunked response whose final coding is not chunked is read until EOF', () => {
    const r = parseResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw', { finish: true });
    assert.deepEqual([r.error, r.messages[0]!.body, r.messages[0]!.head!.chunked], [null, 'raw', false]);
  });

  test('101 and 2xx to CONNECT switch protocols', () => {
    const r = parseResponse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes');
    assert.equal(r.upgraded, true);
    assert.equal(r.messages[0]!.head!.upgrade, true);
    const c = parseResponse('HTTP/1.1 200 OK\r\n\r\ntunnel', { requestMethods: ['CONNECT'] });
    assert.deepEqual([c.upgraded, c.messages[0]!.body], [true, '']);
  });

  test('malformed status lines are rejected', () => {
    assert.equal(parseResponse('HTTP/1.1 20 OK\r\n\r\n').error?.code, 'HPE_INVALID_STATUS');
    assert.equal(parseResponse('HTTP/1.1 099 OK\r\n\r\n').error?.code, 'HPE_INVALID_STATUS');
    assert.equal(parseResponse('HTTP/1.1 200 O\x00K\r\n\r\n').error?.code, 'HPE_INVALID_STATUS');
    assert.equal(parseResponse('HTTPS/1.1 200 OK\r\n\r\n').error?.code, 'HPE_INVALID_VERSION');
  });
});

describe('HttpParser split invariance', () => {
  const messages: ['request' | 'response', string][] = [
    ['request', 'GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n'],
    ['request', '\r\nPOST /u HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'],
    ['request', 'PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a="\\"x"\r\nabc\r\n0\r\nT: 1\r\n\r\n'],
    ['request', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n'],
    ['response', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.0 200 OK\r\n\r\nuntil eof'],
  ];
  for (const [kind, s] of messages) {
    test(`${kind} ${JSON.stringify(s.slice(0, 24))}… parses identically at every split`, () => {
      assertSplitInvariant(kind, s, { finish: true });
    });
  }
});
