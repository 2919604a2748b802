// Request semantics the server enforces on a well-framed head (src/http/semantics.ts): the parser
// frames `GET *` and `Transfer-Encoding: gzip, chunked`; the server refuses them like a parse
// error, and none of their bytes is ever read as a next request.
import assert from 'node:assert/strict';
import { isIPv6 as nodeIsIPv6 } from 'node:net';
import { describe, it, test } from 'node:test';
import fc from 'fast-check';
import { HttpParser, type HttpMessageHead } from '../../src/http/parser.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { isAuthority, isIPv6, requestSemanticsError } from '../../src/http/semantics.js';
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

  /** The code of the refusal of `s` (a head), or null. */
  const refusal = (s: string): string | null => requestSemanticsError(head(s))?.code ?? null;

  test('Host (RFC 9112 §3.2): HTTP/1.1 without it, two field lines, or an invalid value: 400 HPE_INVALID_HOST', () => {
    for (const s of [
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nX-Host: a\r\n\r\n',
      'GET http://a/b HTTP/1.1\r\n\r\n', // the absolute-form does not excuse a missing Host
      'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n',
      'GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n', // "any request message" with two
      'GET / HTTP/1.1\r\nHost:\r\nHost: a\r\n\r\n',
      ...['evil/..', 'a b', 'user@a', 'a:b', 'a:80:80', ':80', 'a:65536', 'a:123456', '[::1', '[::1]x', '[1:2]', '[fe80::1%eth0]', 'a%2', 'a%zz', 'a?b', 'a#b', '\xe9.com', 'a\\b', 'a,b c'].map(
        (v) => `GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`,
      ),
      'GET / HTTP/1.0\r\nHost: a/b\r\n\r\n', // an invalid value is refused in HTTP/1.0 too
    ]) {
      const e = requestSemanticsError(head(s));
      assert.equal(e?.code, 'HPE_INVALID_HOST', JSON.stringify(s));
      assert.equal(e?.status, 400);
    }
  });

  test('Host: reg-names, IPv4, [IPv6], [IPvFuture], ports up to 65535, an empty value, and HTTP/1.0 without Host pass', () => {
    for (const v of [
      '', 'a', 'example.com', 'EXAMPLE.com:8080', 'a:', 'a:0', 'a:65535', 'xn--nxasmq6b.com', 'home_0.netscape.com', "a!$&'()*+,;=~-._",
      'a%2Fb', '127.0.0.1:80', '[::1]', '[::1]:443', '[2001:db8::ff00:42:8329]', '[::ffff:192.0.2.1]:1', '[v7.a:b]',
    ]) {
      assert.equal(refusal(`GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`), null, v);
    }
    assert.equal(refusal('GET / HTTP/1.0\r\n\r\n'), null);
    assert.equal(refusal('GET / HTTP/1.1\r\nHOST: a\r\n\r\n'), null);
  });

  test('absolute-form (RFC 9112 §3.2.2): http with a host, no userinfo; https 421 (no TLS); anything else 400 HPE_INVALID_URL', () => {
    for (const t of ['https://a/b', 'HTTPS://a:8443']) {
      const e = requestSemanticsError(head(`GET ${t} HTTP/1.1\r\nHost: a\r\n\r\n`));
      assert.deepEqual([e?.code, e?.status], ['HPE_MISDIRECTED_REQUEST', 421], t);
    }
    for (const t of ['http://a/b', 'HTTP://a:8443', 'http://a?q', 'http://[::1]:80/x', 'http://a:/', 'Http://a#f']) {
      assert.equal(refusal(`GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`), null, t);
    }
    for (const t of ['http:///b', 'http://:80/b', 'http://u@a/b', 'http://u:p@a/b', 'http://a%12:b!&*$@hypnotoad.org:1234/toto', 'ftp://a/b', 'httpx://a/', 'h://a/', 'http://a:99999/', 'http://[::1/']) {
      assert.equal(refusal(`GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`), 'HPE_INVALID_URL', t);
    }
    assert.match(requestSemanticsError(head('GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n'))!.message, /userinfo/);
    // The Host header is ignored for the absolute-form's authority, but it must still be valid.
    assert.equal(refusal('GET http://a/b HTTP/1.1\r\nHost: other\r\n\r\n'), null);
    assert.equal(refusal('GET http://a/b HTTP/1.1\r\nHost: a/b\r\n\r\n'), 'HPE_INVALID_HOST');
  });

  test('CONNECT: the authority-form needs a valid host and a port ≤ 65535', () => {
    assert.equal(refusal('CONNECT a.b:443 HTTP/1.1\r\nHost: a.b:443\r\n\r\n'), null);
    assert.equal(refusal('CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n'), null);
    for (const t of ['a!b%:443', '[::1:443', 'a:70000', '[x]:1']) {
      assert.equal(refusal(`CONNECT ${t} HTTP/1.1\r\nHost: a\r\n\r\n`), 'HPE_INVALID_URL', t);
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

describe('authority syntax (RFC 3986 §3.2.2)', () => {
  const whole = (v: string, portRequired = false): boolean => isAuthority(v, 0, v.length, portRequired);

  test('isIPv6 agrees with node:net isIPv6 on random strings of hex digits, ":" and "."', () => {
    const strings = fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/);
    const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
    const group = fc.oneof({ arbitrary: hex(1, 4), weight: 10 }, { arbitrary: hex(5, 5), weight: 1 }, { arbitrary: fc.ipV4(), weight: 1 });
    const shaped = fc.array(fc.oneof(fc.constant(''), group), { minLength: 1, maxLength: 10 }).map((parts) => parts.join(':'));
    // 0–9 groups with one "::" somewhere: around the 7-group limit of an elided address
    const elided = fc
      .tuple(fc.array(group, { maxLength: 9 }), fc.nat())
      .map(([g, k]) => `${g.slice(0, k % (g.length + 1)).join(':')}::${g.slice(k % (g.length + 1)).join(':')}`);
    fc.assert(
      fc.property(fc.oneof(strings, shaped, elided, fc.ipV6()), (s) => {
        assert.equal(isIPv6(s, 0, s.length), nodeIsIPv6(s), s);
      }),
      { numRuns: 3000 },
    );
  });

  test('isIPv6 on known cases: one "::" at most, 8 groups without it, IPv4 only last, no zone id', () => {
    for (const v of ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4']) {
      assert.equal(isIPv6(v, 0, v.length), true, v);
    }
    for (const v of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '1:2:3:4:5:6:7', '12345::', '1.2.3.4', '::1.2.3.4:1', '::01.2.3.4', 'fe80::1%eth0', '1:', '1:2:3:4:5:6:7::8', '::1:2:3:4:5:6:7:8']) {
      assert.equal(isIPv6(v, 0, v.length), false, v);
    }
  });

  test('the server refuses a Host value exactly when isAuthority does (its fast path for common values agrees)', () => {
    const chars = fc.constantFrom(...'aZ09-._~!$&\'()*+,;=%:[]@/?#vV'.split(''), '1', '5', '6', 'f');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 12 }), (v) => {
        const refused = requestSemanticsError(head(`GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`)) !== null;
        assert.equal(refused, v.length > 0 && !whole(v), JSON.stringify(v));
      }),
      { numRuns: 3000 },
    );
  });

  test('isAuthority: a required port must be there; a range inside a longer string is judged alone', () => {
    assert.equal(whole('a:1', true), true);
    assert.equal(whole('a', true), false);
    assert.equal(whole('a:', true), false);
    const s = 'http://example.com:80/path';
    assert.equal(isAuthority(s, 7, 20, false), true);
    assert.equal(isAuthority(s, 7, s.length, false), false);
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
    ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n', 400],
    ['two Host field lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['Host: evil/..', 'GET / HTTP/1.1\r\nHost: evil/..\r\n\r\n', 400],
    ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n', 400],
    ['a POST with a body and without Host', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', 400],
    ['GET example.com:80 (authority-form without CONNECT)', 'GET example.com:80 HTTP/1.1\r\nHost: example.com\r\n\r\n', 400],
    ['an absolute-form with userinfo', 'GET http://u:p@a/b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an absolute-form of another scheme', 'GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an https absolute-form on a connection without TLS', 'GET https://a/b HTTP/1.1\r\nHost: a\r\n\r\n', 421],
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

  it('an HTTP/1.0 request without Host reaches the handler (host \'\')', async () => {
    const seen: string[] = [];
    await withServer((req, res) => void (seen.push(`${req.path}|${req.host}`), res.end('ok')), {}, async ({ port, errors }) => {
      const r = await raw(port, ['GET /old HTTP/1.0\r\n\r\n']);
      assert.deepEqual(statuses(r.text), [200], r.text);
      assert.match(r.text, /\r\n\r\nok$/);
      assert.deepEqual(seen, ['/old|']);
      assert.deepEqual(errors, []);
    });
  });

  it('the absolute-form reaches the handler: path from the target, host from its authority, Host header ignored', async () => {
    const seen: string[] = [];
    const handler = (req: ServerRequest, res: ServerResponse): void => {
      seen.push(`${req.target} ${req.path} ${req.host} ${req.header('host')}`);
      res.end(req.path);
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const r = await raw(
        port,
        ['GET http://a/b HTTP/1.1\r\nHost: other\r\n\r\nGET Http://[::1]:8443?q=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: c:80\r\n\r\n'],
        { until: (t) => t.endsWith('/c') },
      );
      assert.deepEqual(statuses(r.text), [200, 200, 200], r.text);
      assert.equal(r.closed, false);
      assert.deepEqual(seen, ['http://a/b /b a other', 'Http://[::1]:8443?q=1 /?q=1 [::1]:8443 x', '/c /c c:80 c:80']);
      assert.deepEqual(errors, []);
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
