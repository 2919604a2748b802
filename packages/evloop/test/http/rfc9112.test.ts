// The rows of the "RFC conformance" table of docs/http-server.md that no other test file proves:
// each test sends real bytes to a real server over a socket and checks what comes back. Titles
// start with the RFC section.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpHandler } from '../../src/http/connection.js';
import { prepareHeaders } from '../../src/http/headers.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { open, raw, statuses, tick, withServer, type RawResult } from './server-helpers.js';

const GET = (path = '/', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

/** A handler that records `METHOD path` and answers with the path. */
function recording(): { seen: string[]; handler: HttpHandler } {
  const seen: string[] = [];
  return { seen, handler: (req, res) => void (seen.push(`${req.method} ${req.path}`), res.end(req.path)) };
}

/** Streams its answer in two writes, with no length: 'part1;' then 'part2'. */
async function streaming(_req: ServerRequest, res: ServerResponse): Promise<void> {
  res.write('part1;');
  await tick(10);
  res.end('part2');
}

/** The code of what `fn` throws, or undefined. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

/** The head (status line and fields) of the first response in `text`, and what follows it. */
function split(text: string): { head: string; rest: string } {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? { head: text, rest: '' } : { head: text.slice(0, i + 2), rest: text.slice(i + 4) };
}

/** Sends `request` and asserts the server answers `status` with Connection: close, then closes, and no handler ran. */
async function refused(request: string, status: number): Promise<RawResult> {
  const { seen, handler } = recording();
  let r: RawResult | undefined;
  await withServer(handler, {}, async ({ port, errors }) => {
    r = await raw(port, [request]);
    assert.deepEqual(statuses(r.text), [status], r.text);
    assert.match(r.text, /\r\nConnection: close\r\n/);
    assert.ok(r.closed, 'the server closed the connection');
    assert.deepEqual(seen, [], 'no handler ran');
    assert.deepEqual(errors, []);
  });
  return r!;
}

describe('RFC 9112 (HTTP/1.1) server requirements', () => {
  it('§2.2 a bare CR in the head is invalid: 400 and close', async () => {
    await refused('GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', 400);
  });

  it('§2.2 whitespace between the start-line and the first field line: 400 and close', async () => {
    await refused('GET / HTTP/1.1\r\n X: y\r\nHost: x\r\n\r\n', 400);
  });

  it('§2.2 the head is read as octets: obs-text (0x80–0xFF) in a field value reaches the handler as latin1', async () => {
    let value: string | undefined;
    await withServer((req, res) => void ((value = req.header('x-name')), res.end('ok')), {}, async ({ port }) => {
      const r = await raw(port, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9 \xff\r\n\r\n', 'latin1')], { until: (t) => t.endsWith('ok') });
      assert.deepEqual(statuses(r.text), [200]);
    });
    assert.equal(value, 'caf\xe9 \xff');
  });

  it('§2.3 the response version is HTTP/1.1 (conformant, major ≤ the request\'s) for HTTP/1.0 and 1.1 requests and for error answers', async () => {
    const { handler } = recording();
    await withServer(handler, {}, async ({ port }) => {
      for (const req of [GET('/'), 'GET / HTTP/1.0\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n', 'GET /\xff HTTP/1.1\r\n\r\n', 'GET / HTTP/1.9\r\n\r\n']) {
        const r = await raw(port, [Buffer.from(req, 'latin1')], { until: (t) => t.includes('\r\n\r\n') });
        assert.match(r.text, /^HTTP\/1\.1 \d{3} /, JSON.stringify(req));
      }
    });
  });

  it('§3 a request-target longer than the server parses (maxHeaderBytes): 414 and close, not 431', async () => {
    const { seen, handler } = recording();
    await withServer(handler, { maxHeaderBytes: 1024 }, async ({ port }) => {
      const r = await raw(port, [`GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
      assert.deepEqual(statuses(r.text), [414], r.text);
      assert.ok(r.closed);
      // the same total size in a field line is still 431
      const f = await raw(port, [`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(2000)}\r\n\r\n`]);
      assert.deepEqual(statuses(f.text), [431], f.text);
    });
    assert.deepEqual(seen, []);
  });

  it('§4 the status line keeps the SP after the status code when the code has no known reason', async () => {
    await withServer((_req, res) => void res.writeHead(299).end(), {}, async ({ port }) => {
      const r = await raw(port, [GET('/')], { until: (t) => t.includes('\r\n\r\n') });
      assert.match(r.text, /^HTTP\/1\.1 299 [\t\x20-\x7e]*\r\n/);
    });
  });

  it('§5.1 whitespace between a field name and the colon: 400 and close', async () => {
    await refused('GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400);
  });

  it('§5.2 obs-fold (a field line continued on the next line) in a request: 400 and close', async () => {
    await refused('GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', 400);
  });

  it('§6.1 no Transfer-Encoding (nor body) in a 204 response or a 100 Continue, also when the handler writes', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      if (req.hasBody) await req.body();
      res.writeHead(204);
      res.write('ignored');
      res.end();
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nab', GET('/')], {
        until: (t) => statuses(t).length === 3,
        gapMs: 30,
      });
      assert.deepEqual(statuses(r.text), [100, 204, 204], r.text);
      assert.doesNotMatch(r.text, /Transfer-Encoding|Content-Length|ignored/i);
      assert.equal(r.closed, false);
    });
  });

  it('§6.1 no Transfer-Encoding to an HTTP/1.0 request: a streamed body ends with the connection', async () => {
    await withServer(streaming, {}, async ({ port }) => {
      const r = await raw(port, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']);
      const { head, rest } = split(r.text);
      assert.doesNotMatch(head, /Transfer-Encoding/i);
      assert.match(head, /\r\nConnection: close\r\n/);
      assert.equal(rest, 'part1;part2');
      assert.ok(r.closed);
    });
  });

  it('§6.1 no Transfer-Encoding to an HTTP/1.0 request even when the handler sets one: the body goes out as written, then the close', async () => {
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      res.setHeader('Transfer-Encoding', 'chunked');
      await streaming(req, res);
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']);
      const { head, rest } = split(r.text);
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(head, /Transfer-Encoding/i);
      assert.equal(rest, 'part1;part2', 'not chunk-coded');
      assert.ok(r.closed);
    });
  });

  it('§6.1 an HTTP/1.0 request with Transfer-Encoding is faulty framing: 400 and close, even with a Content-Length', async () => {
    await refused('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400);
  });

  it('§6.2 a response with Transfer-Encoding never carries a Content-Length (streamed without a length)', async () => {
    await withServer(streaming, {}, async ({ port }) => {
      const r = await raw(port, [GET('/')], { until: (t) => t.endsWith('0\r\n\r\n') });
      const { head } = split(r.text);
      assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/);
      assert.doesNotMatch(head, /Content-Length/i);
    });
  });

  it('§6.2 a handler cannot set both Content-Length and Transfer-Encoding: the second throws ERR_HTTP_FRAMING_CONFLICT, the first alone goes out', async () => {
    const codes: Record<string, string | undefined> = {};
    const TE = prepareHeaders({ 'Transfer-Encoding': 'chunked' });
    codes.prepareBoth = codeOf(() => prepareHeaders({ 'Content-Length': '3', 'Transfer-Encoding': 'chunked' }));
    const handler = (req: ServerRequest, res: ServerResponse): void => {
      if (req.path === '/cl') {
        res.setHeader('Content-Length', '3');
        codes.setHeader = codeOf(() => res.setHeader('Transfer-Encoding', 'chunked'));
        codes.appendHeader = codeOf(() => res.appendHeader('Transfer-Encoding', 'chunked'));
        res.end('abc');
      } else if (req.path === '/te') {
        res.setHeader('Transfer-Encoding', 'chunked');
        codes.writeHead = codeOf(() => res.writeHead(200, { 'Content-Length': '3' }));
        res.end('abc');
      } else {
        res.setHeader('Content-Length', '3');
        codes.prepared = codeOf(() => res.end('abc', TE));
        res.removeHeader('Content-Length');
        res.writeHead(500).end();
      }
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const cl = split((await raw(port, [GET('/cl')], { until: (t) => t.endsWith('abc') })).text);
      assert.match(cl.head, /\r\nContent-Length: 3\r\n/);
      assert.doesNotMatch(cl.head, /Transfer-Encoding/i);
      assert.equal(cl.rest, 'abc');
      const te = split((await raw(port, [GET('/te')], { until: (t) => t.endsWith('0\r\n\r\n') })).text);
      assert.match(te.head, /\r\nTransfer-Encoding: chunked\r\n/);
      assert.doesNotMatch(te.head, /Content-Length/i);
      assert.equal(te.rest, '3\r\nabc\r\n0\r\n\r\n');
      const p = await raw(port, [GET('/prepared')], { until: (t) => t.includes('\r\n\r\n') });
      assert.deepEqual(statuses(p.text), [500]);
      assert.doesNotMatch(p.text, /Transfer-Encoding/i);
      assert.deepEqual(errors, []);
    });
    assert.deepEqual(codes, {
      prepareBoth: 'ERR_HTTP_FRAMING_CONFLICT', setHeader: 'ERR_HTTP_FRAMING_CONFLICT', appendHeader: 'ERR_HTTP_FRAMING_CONFLICT', writeHead: 'ERR_HTTP_FRAMING_CONFLICT', prepared: 'ERR_HTTP_FRAMING_CONFLICT',
    });
  });

  it('§6.2 / RFC 9110 §5.3 at most one Content-Length field: writeHead\'s (fields or prepared) and end(body, prepared) replace the one set before; a second appendHeader, a list of two, or one next to a prepared one throws ERR_HTTP_FRAMING_CONFLICT', async () => {
    const codes: Record<string, string | undefined> = {};
    const CL3 = prepareHeaders({ 'Content-Length': '3' });
    const handler = (req: ServerRequest, res: ServerResponse): void => {
      if (req.path === '/append') {
        res.setHeader('Content-Length', '3');
        codes.append = codeOf(() => res.appendHeader('content-length', '3'));
      } else if (req.path === '/append-te') {
        res.setHeader('Transfer-Encoding', 'chunked');
        codes.appendTe = codeOf(() => res.appendHeader('Transfer-Encoding', 'chunked'));
      } else if (req.path === '/write-head') {
        res.setHeader('Content-Length', '5');
        res.writeHead(200, { 'content-length': '3' });
      } else if (req.path === '/write-head-prepared') {
        res.appendHeader('Content-Length', '5');
        res.writeHead(200, CL3);
      } else if (req.path === '/end-prepared') {
        res.setHeader('Content-Length', '5');
        return res.end('abc', CL3);
      } else if (req.path === '/lists') {
        codes.setArray = codeOf(() => res.setHeader('Content-Length', ['3', '3']));
        codes.writeHeadPairs = codeOf(() => res.writeHead(200, [['Content-Length', '3'], ['Content-Length', '3']]));
        codes.writeHeadArray = codeOf(() => res.writeHead(200, { 'Content-Length': ['3', '3'], 'X-Not-Set': 'x' }));
        res.writeHead(200, CL3);
        codes.setNextToPrepared = codeOf(() => res.setHeader('Content-Length', '3'));
        codes.writeHeadNextToPrepared = codeOf(() => res.writeHead(200, { 'Content-Length': '3' }));
      }
      res.end('abc');
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      for (const path of ['/append', '/write-head', '/write-head-prepared', '/end-prepared', '/end-prepared', '/lists']) {
        const r = await raw(port, [GET(path) + GET('/')], { until: (t) => statuses(t).length === 2 && t.endsWith('abc') });
        const { head, rest } = split(r.text);
        assert.match(head, /^HTTP\/1\.1 200 /, path);
        assert.deepEqual(head.match(/content-length: \d+/gi)?.map((f) => f.toLowerCase()), ['content-length: 3'], `${path}: one Content-Length field`);
        assert.doesNotMatch(head, /X-Not-Set|Connection: close/i, path);
        assert.match(rest, /^abcHTTP\/1\.1 200 /, `${path}: the next response follows the body`);
      }
      const te = split((await raw(port, [GET('/append-te')], { until: (t) => t.endsWith('0\r\n\r\n') })).text);
      assert.deepEqual(te.head.match(/transfer-encoding: \w+/gi), ['Transfer-Encoding: chunked']);
      assert.equal(te.rest, '3\r\nabc\r\n0\r\n\r\n');
      assert.deepEqual(errors, []);
    });
    assert.deepEqual(codes, {
      append: 'ERR_HTTP_FRAMING_CONFLICT', appendTe: 'ERR_HTTP_FRAMING_CONFLICT', setArray: 'ERR_HTTP_FRAMING_CONFLICT', writeHeadPairs: 'ERR_HTTP_FRAMING_CONFLICT',
      writeHeadArray: 'ERR_HTTP_FRAMING_CONFLICT', setNextToPrepared: 'ERR_HTTP_FRAMING_CONFLICT', writeHeadNextToPrepared: 'ERR_HTTP_FRAMING_CONFLICT',
    });
  });

  it('§6.2 a later prepared block replaces the earlier one with its framing: a Transfer-Encoding or Content-Length block followed by end(body, another block) is framed by the last block alone', async () => {
    const TE = prepareHeaders({ 'Transfer-Encoding': 'chunked' });
    const CL5 = prepareHeaders({ 'Content-Length': '5' });
    const TEXT = prepareHeaders({ 'Content-Type': 'text/plain' });
    const handler = (req: ServerRequest, res: ServerResponse): void => {
      res.writeHead(200, req.path === '/te-then-text' ? TE : CL5);
      res.end('abc', req.path === '/cl-then-te' ? TE : TEXT);
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      for (const path of ['/te-then-text', '/cl-then-text', '/te-then-text', '/cl-then-te']) {
        const chunked = path === '/cl-then-te';
        const r = await raw(port, [GET(path) + GET('/cl-then-text')], { until: (t) => statuses(t).length === 2 && t.endsWith('abc') });
        const { head, rest } = split(r.text);
        assert.match(head, /^HTTP\/1\.1 200 /, path);
        assert.doesNotMatch(head, /Connection: close/i, path);
        if (chunked) {
          assert.doesNotMatch(head, /Content-Length/i, path);
          assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/, path);
          assert.match(rest, /^3\r\nabc\r\n0\r\n\r\nHTTP\/1\.1 200 /, path);
        } else {
          assert.doesNotMatch(head, /Transfer-Encoding/i, path);
          assert.deepEqual(head.match(/content-length: \d+/gi), ['Content-Length: 3'], path);
          assert.match(rest, /^abcHTTP\/1\.1 200 /, path);
        }
      }
      assert.deepEqual(errors, []);
    });
  });

  it('§6.1 chunked is the final transfer coding of a response, applied once: a handler Transfer-Encoding of gzip, "chunked, gzip" or "chunked, chunked" throws ERR_HTTP_INVALID_HEADER and is not set; "gzip, chunked" goes out chunk-coded', async () => {
    const codes: Record<string, string | undefined> = {};
    codes.prepared = codeOf(() => prepareHeaders({ 'Transfer-Encoding': 'gzip' }));
    const handler = (req: ServerRequest, res: ServerResponse): void => {
      if (req.path === '/refused') {
        codes.setHeader = codeOf(() => res.setHeader('Transfer-Encoding', 'gzip'));
        codes.appendHeader = codeOf(() => res.appendHeader('Transfer-Encoding', 'chunked, gzip'));
        codes.writeHead = codeOf(() => res.writeHead(200, { 'Transfer-Encoding': 'chunked, chunked' }));
        codes.parameter = codeOf(() => res.setHeader('Transfer-Encoding', 'gzip, chunked;x=1'));
      } else res.setHeader('Transfer-Encoding', 'gzip, Chunked');
      res.end('abc');
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const refused = split((await raw(port, [GET('/refused')], { until: (t) => t.endsWith('abc') })).text);
      assert.doesNotMatch(refused.head, /Transfer-Encoding|gzip/i);
      assert.match(refused.head, /\r\nContent-Length: 3\r\n/);
      assert.equal(refused.rest, 'abc');
      const gzip = split((await raw(port, [GET('/gzip')], { until: (t) => t.endsWith('0\r\n\r\n') })).text);
      assert.match(gzip.head, /\r\nTransfer-Encoding: gzip, Chunked\r\n/);
      assert.doesNotMatch(gzip.head, /Content-Length/i);
      assert.equal(gzip.rest, '3\r\nabc\r\n0\r\n\r\n', 'the body is chunk-coded, as the header says');
      assert.deepEqual(errors, []);
    });
    assert.deepEqual(codes, {
      prepared: 'ERR_HTTP_INVALID_HEADER', setHeader: 'ERR_HTTP_INVALID_HEADER', appendHeader: 'ERR_HTTP_INVALID_HEADER', writeHead: 'ERR_HTTP_INVALID_HEADER', parameter: 'ERR_HTTP_INVALID_HEADER',
    });
  });

  it('§6.3 a request whose final transfer coding is not chunked: 400 and close', async () => {
    await refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n', 400);
  });

  for (const cl of ['1a', '-1', '1, 2', '99999999999999999999']) {
    it(`§6.3 / RFC 9110 §8.6 an invalid Content-Length (${cl}) is unrecoverable: 400 and close`, async () => {
      await refused(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${cl}\r\n\r\nabc`, 400);
    });
  }

  it('§6.3 a body cut short by the client is incomplete: the handler\'s read fails, the server closes', async () => {
    let failure: string | undefined;
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      try {
        await req.body();
        res.end('complete?');
      } catch (err) {
        failure = (err as { code?: string }).code;
      }
    };
    await withServer(handler, {}, async ({ port, server }) => {
      const r = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'], { end: true, timeoutMs: 2000 });
      assert.doesNotMatch(r.text, /complete\?/);
      for (let i = 0; i < 100 && server.connections > 0; i++) await tick(10);
      assert.equal(server.connections, 0, 'the connection is closed');
    });
    assert.match(failure ?? '', /^ERR_HTTP_(BODY_ABORTED|CONNECTION_CLOSED)$/);
  });

  it('§6.3 a request without Content-Length or Transfer-Encoding has no body: the bytes after it are the next request', async () => {
    const { seen, handler } = recording();
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [`POST /a HTTP/1.1\r\nHost: x\r\n\r\n${GET('/b')}`], { until: (t) => t.endsWith('/b') });
      assert.deepEqual(statuses(r.text), [200, 200]);
    });
    assert.deepEqual(seen, ['POST /a', 'GET /b']);
  });

  it('§7.1 a chunk size past 2^53 is refused without overflow: 400 and close, the body never delivered', async () => {
    let failure: string | undefined;
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      try {
        res.end(`got ${(await req.body()).length}`);
      } catch (err) {
        failure = (err as { code?: string }).code;
      }
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const r = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\na\r\n0\r\n\r\n']);
      assert.deepEqual(statuses(r.text), [400], r.text);
      assert.ok(r.closed);
      assert.deepEqual(errors, []);
    });
    assert.equal(failure, 'ERR_HTTP_BODY_ABORTED');
  });

  it('§7.1.1 unrecognized chunk extensions are ignored: the body arrives whole', async () => {
    await withServer(async (req, res) => res.end(`got:${await req.text()}`), {}, async ({ port }) => {
      const body = '3;ext=1;flag\r\nabc\r\n2 ; q="a b"\r\nde\r\n0;last\r\n\r\n';
      const r = await raw(port, [`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`], { until: (t) => t.endsWith('got:abcde') });
      assert.deepEqual(statuses(r.text), [200]);
    });
  });

  it('§7.1.2 trailer fields are never merged into the header section', async () => {
    let fields: readonly string[] = [];
    const handler = async (req: ServerRequest, res: ServerResponse): Promise<void> => {
      await req.body();
      fields = [...req.headers];
      res.end(String(req.header('x-trailer')));
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Trailer: t\r\n\r\n'], { until: (t) => t.endsWith('undefined') });
      assert.deepEqual(statuses(r.text), [200]);
    });
    assert.deepEqual(fields, ['Host', 'x', 'Transfer-Encoding', 'chunked']);
  });

  it('§9.6 a request with Connection: close gets the last response, then the close; a request pipelined after it is never processed', async () => {
    const { seen, handler } = recording();
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [GET('/a', 'Connection: close\r\n') + GET('/b')]);
      assert.deepEqual(statuses(r.text), [200], r.text);
      assert.match(r.text, /\r\nConnection: close\r\n/);
      assert.ok(r.closed);
    });
    assert.deepEqual(seen, ['GET /a']);
  });

  it('§9.6 a response the handler sends with Connection: close is the last: the server closes, later requests are never processed', async () => {
    const seen: string[] = [];
    const handler: HttpHandler = (req, res) => {
      seen.push(req.path);
      if (req.path === '/a') res.setHeader('Connection', 'close');
      res.end(req.path);
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [GET('/a') + GET('/b')]);
      assert.deepEqual(statuses(r.text), [200], r.text);
      assert.ok(r.closed);
    });
    assert.deepEqual(seen, ['/a']);
  });
});

describe('RFC 9110 (HTTP semantics) origin-server requirements', () => {
  it('§5.3 the handler runs only once the whole header section has arrived', async () => {
    const { seen, handler } = recording();
    await withServer(handler, {}, async ({ port }) => {
      const sock = await open(port);
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
      sock.write('GET /late HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n');
      await tick(60);
      assert.deepEqual(seen, [], 'no handler before the final CRLF');
      assert.equal(text, '');
      sock.write('X-B: 2\r\n\r\n');
      for (let i = 0; i < 200 && !text.endsWith('/late'); i++) await tick(5);
      assert.deepEqual(statuses(text), [200]);
      sock.destroy();
    });
    assert.deepEqual(seen, ['GET /late']);
  });

  it('§5.5 NUL or a bare CR inside a field value: 400 and close', async () => {
    await refused('GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n', 400);
    await refused('GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n', 400);
  });

  it('§5.6.1.2 empty list elements are ignored: Connection: ", , close" closes, Transfer-Encoding: ", chunked" is chunked', async () => {
    await withServer(async (req, res) => res.end(`got:${await req.text()}`), {}, async ({ port }) => {
      const c = await raw(port, [GET('/', 'Connection: , , close\r\n')]);
      assert.deepEqual(statuses(c.text), [200]);
      assert.ok(c.closed);
      const t = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'], { until: (x) => x.endsWith('got:ok') });
      assert.deepEqual(statuses(t.text), [200]);
    });
  });

  it('§6.6.1 a Date field in 2xx, 3xx and 4xx responses, the server\'s own error answers included', async () => {
    const handler: HttpHandler = (req, res) => {
      const status = Number(req.path.slice(1)) || 200;
      res.writeHead(status).end(status === 304 ? undefined : 'x');
    };
    await withServer(handler, { maxHeaderBytes: 256 }, async ({ port }) => {
      const date = /\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/;
      for (const path of ['/200', '/201', '/301', '/304', '/404', '/410']) {
        const r = await raw(port, [GET(path)], { until: (t) => t.includes('\r\n\r\n') });
        assert.match(split(r.text).head, date, path);
      }
      for (const bad of ['GET / HTTP/1.1\r\n\r\n', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', `GET /${'a'.repeat(300)} HTTP/1.1\r\n\r\n`, `GET / HTTP/1.1\r\nX: ${'a'.repeat(300)}\r\n\r\n`]) {
        const r = await raw(port, [bad]);
        assert.match(r.text, /^HTTP\/1\.1 4\d\d /, bad.slice(0, 30));
        assert.match(split(r.text).head, date, bad.slice(0, 30));
      }
    });
  });

  it('§7.8 Upgrade in an HTTP/1.0 request is ignored: the keep-alive connection serves the next request', async () => {
    const { seen, handler } = recording();
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, ['GET /ws HTTP/1.0\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'], {
        until: (t) => t.endsWith('/next'),
      });
      assert.deepEqual(statuses(r.text), [200, 200], r.text);
      assert.equal(r.closed, false);
    });
    assert.deepEqual(seen, ['GET /ws', 'GET /next']);
  });

  it('§8.6 / §15.3.5 no Content-Length in a 204 response, nor in a 304 (none was set)', async () => {
    await withServer((req, res) => void res.writeHead(req.path === '/304' ? 304 : 204).end(), {}, async ({ port }) => {
      const r = await raw(port, [GET('/204') + GET('/304') + GET('/204')], { until: (t) => statuses(t).length === 3 && t.endsWith('\r\n\r\n') });
      assert.deepEqual(statuses(r.text), [204, 304, 204]);
      assert.doesNotMatch(r.text, /Content-Length|Transfer-Encoding/i);
    });
  });

  it('§8.6 / RFC 9112 §6.1 no Content-Length or Transfer-Encoding in a 204 or 1xx response even when the handler sets one (fields, prepared, twice: cached head)', async () => {
    const CL0 = prepareHeaders({ 'Content-Length': '0', 'X-Kept': 'yes' });
    const handler: HttpHandler = (req, res) => {
      if (req.path === '/fields') res.writeHead(204, { 'Content-Length': '0', 'X-Kept': 'yes' }).end();
      else if (req.path === '/te') res.writeHead(204, { 'Transfer-Encoding': 'chunked', 'X-Kept': 'yes' }).end();
      else if (req.path === '/103') res.writeHead(103, { 'Content-Length': '0', 'X-Kept': 'yes' }).end();
      else res.writeHead(204, CL0).end();
    };
    await withServer(handler, {}, async ({ port }) => {
      for (const path of ['/fields', '/te', '/prepared', '/prepared', '/103']) {
        const r = await raw(port, [GET(path)], { until: (t) => t.includes('\r\n\r\n') });
        assert.match(r.text, path === '/103' ? /^HTTP\/1\.1 103 / : /^HTTP\/1\.1 204 /, path);
        assert.doesNotMatch(r.text, /Content-Length|Transfer-Encoding/i, path);
        assert.match(r.text, /\r\nX-Kept: yes\r\n/, `${path}: the other fields are sent`);
      }
    });
  });

  it('§8.6 / §9.3.6 a 2xx response to CONNECT: no Content-Length or Transfer-Encoding (also when the handler sets them), no body bytes, then the close (evloop has no tunnel)', async () => {
    const handler: HttpHandler = (req, res) => {
      if (req.header('x-case') === 'plain') {
        res.statusCode = 200;
        res.end('not tunnel data');
      } else if (req.header('x-case') === 'length') {
        res.writeHead(200, { 'Content-Length': '15' }).end('not tunnel data');
      } else {
        res.setHeader('Transfer-Encoding', 'chunked');
        res.write('not tunnel data');
        res.end();
      }
    };
    await withServer(handler, {}, async ({ port }) => {
      for (const c of ['plain', 'length', 'streamed']) {
        const r = await raw(port, [`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nX-Case: ${c}\r\n\r\n`]);
        const { head, rest } = split(r.text);
        assert.match(head, /^HTTP\/1\.1 200 /, c);
        assert.doesNotMatch(head, /Content-Length|Transfer-Encoding/i, c);
        assert.equal(rest, '', `${c}: nothing after the head`);
        assert.ok(r.closed, `${c}: the server closed the connection`);
      }
    });
    // a non-2xx answer to CONNECT is an ordinary response, framed as usual
    await withServer((_req, res) => void res.writeHead(405).end('no'), {}, async ({ port }) => {
      const r = await raw(port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']);
      assert.match(split(r.text).head, /^HTTP\/1\.1 405 [^]*\r\nContent-Length: 2\r\n/);
      assert.equal(split(r.text).rest, 'no');
    });
  });

  for (const target of ['example.com:', 'example.com:99999', 'example.com:x', 'example.com']) {
    it(`§9.3.6 CONNECT with an empty or invalid port (${target}): 400 and close`, async () => {
      await refused(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`, 400);
    });
  }

  it('§10.1.1 / §15.2 a 100-continue expectation in an HTTP/1.0 request is ignored: no 1xx to an HTTP/1.0 client', async () => {
    await withServer(async (req, res) => res.end(`got:${await req.text()}`), {}, async ({ port }) => {
      const sock = await open(port);
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
      sock.write('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
      await tick(80); // the handler is reading by now: an HTTP/1.1 client would get its 100 here
      assert.equal(text, '', 'nothing sent before the body');
      sock.write('ok');
      for (let i = 0; i < 200 && !text.endsWith('got:ok'); i++) await tick(5);
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(text, /100 Continue/);
      sock.destroy();
    });
  });

  it('§15.3.6 a 205 response carries no content: Content-Length: 0 (whatever the handler set or wrote), the connection stays usable', async () => {
    const handler: HttpHandler = (req, res) => {
      if (req.path === '/set') res.writeHead(205, { 'Content-Length': '7' }).end('content');
      else if (req.path === '/stream') {
        res.writeHead(205);
        res.write('content');
        res.end();
      } else res.writeHead(205).end('content');
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [GET('/') + GET('/') + GET('/set') + GET('/stream') + GET('/')], {
        until: (t) => statuses(t).length === 5 && t.endsWith('\r\n\r\n'),
      });
      assert.deepEqual(statuses(r.text), [205, 205, 205, 205, 205], r.text);
      assert.doesNotMatch(r.text, /content|Transfer-Encoding/);
      assert.equal(r.text.match(/\r\nContent-Length: 0\r\n/g)?.length, 5, r.text);
      assert.doesNotMatch(r.text, /Content-Length: [1-9]/);
      assert.equal(r.closed, false);
    });
  });

  it('§15.2 no 1xx to an HTTP/1.0 client: the handler\'s writeHead(1xx) is a no-op there (a 1xx set through statusCode becomes a 500); HTTP/1.1 still gets it', async () => {
    const thrown: string[] = [];
    const handler: HttpHandler = (req, res) => {
      if (req.path === '/direct') {
        res.statusCode = 100;
        try {
          res.end();
        } catch (err) {
          thrown.push((err as { code: string }).code);
          throw err;
        }
        return;
      }
      res.writeHead(103, { Link: '</a.css>; rel=preload' });
      res.end(`final:${res.statusCode}`);
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const r = await raw(port, ['GET / HTTP/1.0\r\n\r\n']);
      const { head, rest } = split(r.text);
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(r.text, /HTTP\/1\.1 1\d\d |Link:/);
      assert.equal(rest, 'final:200');
      const d = await raw(port, ['GET /direct HTTP/1.0\r\n\r\n']);
      assert.deepEqual(statuses(d.text), [500], d.text);
      assert.equal(errors.length, 1);
      // the same handler to HTTP/1.1 sends its 103 as it asked
      const h = await raw(port, [GET('/')], { until: (t) => t.includes('\r\n\r\n') });
      assert.match(h.text, /^HTTP\/1\.1 103 /);
    });
    assert.deepEqual(thrown, ['ERR_HTTP_INVALID_STATUS']);
  });

  it('§2.2 a sender does not generate a status code off the grammar (3DIGIT): the handler\'s writeHead(99) becomes a 500', async () => {
    const thrown: string[] = [];
    const handler: HttpHandler = (_req, res) => {
      try {
        res.writeHead(99).end();
      } catch (err) {
        thrown.push((err as { code: string }).code);
        throw err;
      }
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const r = await raw(port, [GET('/')]);
      assert.deepEqual(statuses(r.text), [500]);
      assert.doesNotMatch(r.text, /HTTP\/1\.1 99 /);
      assert.equal(errors.length, 1);
    });
    assert.deepEqual(thrown, ['ERR_HTTP_INVALID_STATUS']);
  });
});
