import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareHeaders } from '../../src/http/headers.js';
import type { ServerRequest } from '../../src/http/request.js';
import type { ServerResponse } from '../../src/http/response.js';
import { raw, statuses, withServer } from './server-helpers.js';

// The fast path copies a repeated head (and a repeated small string body) as cached bytes: the
// bytes must be exactly those the slow path builds, whatever mix of requests comes in.
const TEXT = prepareHeaders({ 'Content-Type': 'text/plain' });
const req = (method: string, path: string, extra = ''): string => `${method} ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

function parse(text: string): { head: string; body: string }[] {
  const out: { head: string; body: string }[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = text.slice(at, end + 2).replace(/\r\nDate: [^\r]+/, '');
    const m = /\r\nContent-Length: (\d+)\r\n/.exec(head);
    const isHead = head.includes('X-Method: HEAD');
    const n = m && !isHead ? Number(m[1]) : 0;
    out.push({ head, body: text.slice(end + 4, end + 4 + n) });
    at = end + 4 + n;
  }
  return out;
}

describe('HTTP server: cached heads and bodies', () => {
  it('answers a mix of repeated and differing responses with the same bytes as without the cache', async () => {
    const handler = (r: ServerRequest, res: ServerResponse): void => {
      if (r.method === 'HEAD') res.setHeader('X-Method', 'HEAD');
      if (r.target === '/a') return res.end('Hello, World!', TEXT);
      if (r.target === '/b') return res.end('Hello, Earth!', TEXT); // same length, other bytes
      if (r.target === '/u') return res.end('héllo wörld', TEXT); // UTF-8: bytes ≠ chars
      if (r.target === '/s') {
        res.statusCode = 201;
        return res.end('Hello, World!', TEXT);
      }
      res.end('Hello, World!'); // no prepared headers
    };
    await withServer(handler, {}, async ({ port }) => {
      const order = ['/a', '/a', '/b', '/a', '/u', '/u', '/a', '/s', '/a', '/n', '/a', '/a'];
      const msgs = order.map((p) => req('GET', p)).join('') + req('HEAD', '/a') + req('GET', '/a');
      const r = await raw(port, [msgs], { until: (t) => parse(t).length === order.length + 2 && t.endsWith('Hello, World!') });
      const got = parse(r.text);
      const U = Buffer.from('héllo wörld').toString('latin1'); // the text is read as latin1
      const bodies = got.map((x) => x.body);
      assert.deepEqual(bodies, [
        'Hello, World!', 'Hello, World!', 'Hello, Earth!', 'Hello, World!', U, U,
        'Hello, World!', 'Hello, World!', 'Hello, World!', 'Hello, World!', 'Hello, World!', 'Hello, World!', '', 'Hello, World!',
      ]);
      assert.deepEqual(statuses(r.text), [200, 200, 200, 200, 200, 200, 200, 201, 200, 200, 200, 200, 200, 200]);
      const plain = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n';
      for (const i of [0, 1, 2, 3, 6, 8, 10, 11, 13]) assert.equal(got[i]!.head, plain, `response ${i}`);
      assert.equal(got[4]!.head, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n');
      assert.equal(Buffer.byteLength('héllo wörld'), 13);
      assert.equal(got[7]!.head, 'HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n');
      assert.equal(got[9]!.head, 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n');
      assert.equal(got[12]!.head, 'HTTP/1.1 200 OK\r\nX-Method: HEAD\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n');
      assert.equal(r.closed, false);
    });
  });

  it('closes after a repeated response whose prepared Content-Length differs from its body', async () => {
    const WRONG = prepareHeaders({ 'Content-Type': 'text/plain', 'Content-Length': '5' });
    await withServer((_r, res) => res.end('Hello, World!', WRONG), {}, async ({ port }) => {
      for (let i = 0; i < 2; i++) {
        const r = await raw(port, [req('GET', '/')]); // until the server closes
        assert.match(r.text, /\r\nContent-Length: 5\r\n/);
        assert.equal(r.closed, true, `round ${i}: the peer cannot find the next response: close`);
      }
    });
  });
});
