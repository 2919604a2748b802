// Every way a handler sets a response header refuses what could split the response, against a real
// evloop server over a real socket: the wire is checked for injected lines, the handler for the
// typed error. The attack value is Node's classic one: code units above 0xFF whose low byte is
// CR or LF (U+010D, U+010A), which a latin1 head would truncate into a real line break.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchHandler } from '../../src/http/fetch-adapter.js';
import { prepareHeaders } from '../../src/http/headers.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { raw, withServer } from './server-helpers.js';

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
/** 'a', U+010D, U+010A, 'Set-Cookie: pwned=1': no CR or LF in it as a string. */
const ATTACK = decodeURIComponent('a%C4%8D%C4%8ASet-Cookie:%20pwned=1');
const INJECTED = /\r\nSet-Cookie:|pwned/i;

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('response header validation on the wire', () => {
  it('the U+010D U+010A split attack through setHeader: the handler gets ERR_HTTP_INVALID_HEADER and no Set-Cookie line is sent', async () => {
    let code: string | undefined;
    const handler = (_req: ServerRequest, res: ServerResponse): void => {
      code = codeOf(() => res.setHeader('X-Echo', ATTACK));
      res.end('ok');
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [GET], { until: (t) => t.endsWith('ok') });
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(r.text, INJECTED);
      assert.doesNotMatch(r.text, /X-Echo/i, 'the refused header is not sent at all');
      assert.equal(code, 'ERR_HTTP_INVALID_HEADER');
    });
  });

  it('appendHeader, writeHead (object and array forms), prepareHeaders and header names refuse it too; the response still goes out clean', async () => {
    const codes: Record<string, string | undefined> = {};
    const handler = (_req: ServerRequest, res: ServerResponse): void => {
      codes.appendHeader = codeOf(() => res.appendHeader('X-Echo', ATTACK));
      codes.setHeaderArray = codeOf(() => res.setHeader('X-Echo', ['fine', ATTACK]));
      codes.writeHeadObject = codeOf(() => res.writeHead(200, { 'X-Echo': ATTACK }));
      codes.writeHeadObjectArray = codeOf(() => res.writeHead(200, { 'X-Echo': [ATTACK] }));
      codes.writeHeadArray = codeOf(() => res.writeHead(200, [['X-Echo', ATTACK]]));
      codes.prepareHeaders = codeOf(() => prepareHeaders({ 'X-Echo': ATTACK }));
      codes.name = codeOf(() => res.setHeader('X-\u010d\u010aSet-Cookie', 'pwned=1'));
      res.end('ok');
    };
    await withServer(handler, {}, async ({ port }) => {
      const r = await raw(port, [GET], { until: (t) => t.endsWith('ok') });
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(r.text, INJECTED);
      assert.deepEqual(codes, {
        appendHeader: 'ERR_HTTP_INVALID_HEADER', setHeaderArray: 'ERR_HTTP_INVALID_HEADER', writeHeadObject: 'ERR_HTTP_INVALID_HEADER',
        writeHeadObjectArray: 'ERR_HTTP_INVALID_HEADER', writeHeadArray: 'ERR_HTTP_INVALID_HEADER', prepareHeaders: 'ERR_HTTP_INVALID_HEADER',
        name: 'ERR_HTTP_INVALID_HEADER',
      });
    });
  });

  it('a handler that lets the error escape gets a 500 without the injected line, and the error sink sees the code', async () => {
    await withServer((_req, res) => {
      res.setHeader('X-Echo', ATTACK);
      res.end('unreachable');
    }, {}, async ({ port, errors }) => {
      const r = await raw(port, [GET], { until: (t) => /\r\n\r\n/.test(t) });
      assert.match(r.text, /^HTTP\/1\.1 500 /);
      assert.doesNotMatch(r.text, INJECTED);
      assert.doesNotMatch(r.text, /unreachable/);
      assert.equal((errors[0] as { code?: string }).code, 'ERR_HTTP_INVALID_HEADER');
    });
  });

  it('a fetch-style app: values Web Headers lets through (\\x01, \\x7f) are refused on the way to the wire with a 500', async () => {
    for (const value of ['a\x01b', 'a\x7fb']) {
      const app = fetchHandler(() => new Response('from the app', { headers: { 'X-Bad': value, 'X-Good': 'yes' } }));
      await withServer(app, {}, async ({ port, errors }) => {
        const r = await raw(port, [GET], { until: (t) => /\r\n\r\n/.test(t) });
        assert.match(r.text, /^HTTP\/1\.1 500 /, JSON.stringify(value));
        assert.doesNotMatch(r.text, /X-Bad|from the app/i);
        assert.equal((errors[0] as { code?: string }).code, 'ERR_HTTP_INVALID_HEADER');
      });
    }
  });

  it("a fetch-style app whose headers are refused has its streamed body cancelled (its source released)", async () => {
    let cancelled: unknown = null;
    const app = fetchHandler(() => {
      const body = new ReadableStream({ pull: () => new Promise(() => {}), cancel: (reason) => void (cancelled = reason) });
      return new Response(body, { headers: { 'X-Bad': 'a\x01b' } });
    });
    await withServer(app, {}, async ({ port }) => {
      const r = await raw(port, [GET], { until: (t) => /\r\n\r\n/.test(t) });
      assert.match(r.text, /^HTTP\/1\.1 500 /);
      assert.equal((cancelled as { code?: string } | null)?.code, 'ERR_HTTP_INVALID_HEADER');
    });
  });

  it('values Node allows are sent byte for byte: tab, latin1 (é, 0xff) and visible ASCII', async () => {
    await withServer((_req, res) => {
      res.setHeader('X-Latin1', 'caf\u00e9 \u00ff\tend');
      res.end('ok');
    }, {}, async ({ port }) => {
      const r = await raw(port, [GET], { until: (t) => t.endsWith('ok') });
      assert.match(r.text, /\r\nX-Latin1: caf\u00e9 \u00ff\tend\r\n/);
    });
  });

  it('a Content-Length that is not a number is refused with ERR_HTTP_INVALID_HEADER and the previous one stays set and sent', async () => {
    const codes: (string | undefined)[] = [];
    const kept: (string | undefined)[] = [];
    const handler = (_req: ServerRequest, res: ServerResponse): void => {
      res.setHeader('Content-Length', '2');
      codes.push(codeOf(() => res.setHeader('Content-Length', 'abc')));
      codes.push(codeOf(() => res.setHeader('content-length', ['2', '-1'])));
      codes.push(codeOf(() => res.appendHeader('Content-Length', '1a')));
      kept.push(res.getHeader('Content-Length'));
      res.end('ok');
    };
    await withServer(handler, {}, async ({ port, errors }) => {
      const r = await raw(port, [GET, GET], { until: (t) => (t.match(/\r\n\r\nok/g) ?? []).length === 2 });
      assert.equal(r.text.match(/\r\nContent-Length: 2\r\n/g)?.length, 2, r.text);
      assert.doesNotMatch(r.text, /abc|-1|1a/);
      assert.equal(r.closed, false, 'the length sent matched the body: the connection stays open');
      assert.deepEqual(errors, []);
    });
    assert.deepEqual(codes, Array(6).fill('ERR_HTTP_INVALID_HEADER'), 'three refusals in each of the two responses');
    assert.deepEqual(kept, ['2', '2']);
  });
});
