// The client against evloop's own HTTP server: both ends on the same reactor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../../src/http/client/index.js';
import { createHttpServer } from '../../src/http/server.js';
import { noFdLeak } from './client-helpers.js';

async function start() {
  const server = createHttpServer(async (req, res) => {
    let n = 0;
    for await (const c of req) n += c.length;
    if (req.target === '/stream') {
      for (let i = 0; i < 5; i++) res.write(`part${i};`);
      return res.end();
    }
    res.setHeader('Content-Type', 'text/plain');
    res.end(`${req.method} ${req.target} ${n} ${req.header('transfer-encoding') ?? '-'}`);
  });
  const addr = (await server.listen()) as { port: number };
  return { server, url: (p = '/') => `http://127.0.0.1:${addr.port}${p}`, close: () => server.close({ timeoutMs: 1000 }) };
}

describe('client against the evloop server', () => {
  it('GET, POST and a chunked upload share one keep-alive connection', () =>
    noFdLeak(async (use) => {
      const srv = use(await start());
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url('/a'))).text(), 'GET /a 0 -');
      assert.equal(await (await client.request({ url: srv.url('/b'), method: 'POST', body: 'hello' })).text(), 'POST /b 5 -');
      async function* gen() {
        yield 'abc';
        yield 'def';
      }
      assert.equal(await (await client.request({ url: srv.url('/c'), method: 'PUT', body: gen() })).text(), 'PUT /c 6 chunked');
      assert.equal(srv.server.stats().accepted, 1);
    }));

  it('a streamed (chunked) response is read piece by piece', () =>
    noFdLeak(async (use) => {
      const srv = use(await start());
      const client = use(new Client());
      const res = await client.request(srv.url('/stream'));
      assert.equal(await res.text(), 'part0;part1;part2;part3;part4;');
    }));
});
