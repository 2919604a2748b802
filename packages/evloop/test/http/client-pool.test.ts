// The keep-alive pool per origin, against Node's http server (connections counted server-side)
// and raw peers that close or misbehave on cue.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../../src/http/client/index.js';
import { sleep, waitFor } from '../net/helpers.js';
import { noFdLeak, rejection, startNodeServer, startRawServer } from './client-helpers.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('keep-alive pool', () => {
  it('sequential requests to one origin reuse one connection', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((req, res) => res.end(req.url));
      const client = use(new Client());
      for (let i = 0; i < 5; i++) assert.equal(await (await client.request(srv.url(`/${i}`))).text(), `/${i}`);
      assert.equal(srv.connections, 1);
      const [stats] = Object.values(client.stats());
      assert.deepEqual(stats, { open: 1, idle: 1, queued: 0, created: 1 });
    }));

  it('concurrent requests beyond maxSocketsPerOrigin wait their turn', () =>
    noFdLeak(async (use) => {
      let inFlight = 0;
      let maxInFlight = 0;
      const srv = await startNodeServer(async (req, res) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(30);
        inFlight--;
        res.end(req.url);
      });
      const client = use(new Client({ maxSocketsPerOrigin: 2 }));
      const pending = Array.from({ length: 6 }, (_, i) => client.request(srv.url(`/${i}`)).then((r) => r.text()));
      await sleep(5);
      assert.equal(Object.values(client.stats())[0]!.queued, 4);
      assert.deepEqual(await Promise.all(pending), ['/0', '/1', '/2', '/3', '/4', '/5']);
      assert.equal(maxInFlight, 2);
      assert.equal(srv.connections, 2);
    }));

  it('each origin has its own pool', () =>
    noFdLeak(async (use) => {
      const a = await startNodeServer((_req, res) => res.end('a'));
      const b = await startNodeServer((_req, res) => res.end('b'));
      const client = use(new Client({ maxSocketsPerOrigin: 1 }));
      const [ra, rb] = await Promise.all([client.request(a.url()), client.request(b.url())]);
      assert.equal((await ra.text()) + (await rb.text()), 'ab');
      assert.equal(Object.keys(client.stats()).length, 2);
    }));

  it('a response whose body was not read holds its connection; reading it frees it', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => {
        res.write('x'.repeat(100));
        setTimeout(() => res.end(), 20);
      });
      const client = use(new Client({ maxSocketsPerOrigin: 1 }));
      const first = await client.request(srv.url());
      const second = client.request(srv.url());
      await sleep(5);
      assert.equal(Object.values(client.stats())[0]!.queued, 1);
      assert.equal((await first.text()).length, 100);
      assert.equal((await (await second).text()).length, 100);
      assert.equal(srv.connections, 1);
    }));

  it('cancelling an unfinished body closes its connection instead of reusing it', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => {
        res.write('partial');
      });
      const client = use(new Client());
      const res = await client.request(srv.url());
      res.body.cancel();
      await waitFor(() => srv.openSockets === 0, 'the server to see the close');
      assert.equal(Object.values(client.stats())[0]!.open, 0);
    }));

  it('a server closing an idle keep-alive connection is noticed; the next request uses a new one', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => res.end('ok'));
      srv.server.keepAliveTimeout = 100;
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      await waitFor(() => srv.openSockets === 0, 'the server to close the idle connection');
      await waitFor(() => Object.values(client.stats())[0]!.open === 0, 'the client to drop it');
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      assert.equal(srv.connections, 2);
    }));

  it('a reused connection that fails before any response byte is retried once for a GET', () =>
    noFdLeak(async (use) => {
      // Answers the first request, then closes the connection on the second one without a word
      // (the race of a server timing out an idle connection just as a request goes out).
      const srv = await startRawServer((s) => {
        let n = 0;
        s.on('data', () => {
          if (n++ === 0) s.write(OK);
          else s.destroy();
        });
      });
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      assert.equal(srv.connections, 2);
    }));

  it('a POST on such a connection is not retried: the error reaches the caller', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => {
        let n = 0;
        s.on('data', () => {
          if (n++ === 0) s.write(OK);
          else s.end();
        });
      });
      const client = use(new Client());
      await (await client.request(srv.url())).text();
      const err = await rejection(client.request({ url: srv.url(), method: 'POST', body: 'x' }));
      assert.ok(['ERR_CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE'].includes(err.code!), err.code);
      assert.equal(srv.connections, 1);
    }));

  it('Connection: close from the server means the connection is not reused', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => {
        res.setHeader('Connection', 'close');
        res.end('bye');
      });
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'bye');
      assert.equal(await (await client.request(srv.url())).text(), 'bye');
      assert.equal(srv.connections, 2);
    }));

  it('an HTTP/1.0 response without keep-alive is not reused', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => s.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')));
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      await waitFor(() => Object.values(client.stats())[0]!.open === 0, 'the connection to close');
    }));

  it('stray bytes on an idle connection make the client drop it', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => {
        s.write(OK);
        setTimeout(() => s.write('junk'), 20);
      }));
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      await waitFor(() => Object.values(client.stats())[0]!.open === 0, 'the connection to be dropped');
    }));

  it('bytes right behind a response, in the same packet, make the client drop the connection', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.on('data', () => s.write(`${OK}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra`)));
      const client = use(new Client());
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      assert.equal(await (await client.request(srv.url())).text(), 'ok');
      assert.equal(srv.connections, 2);
    }));

  it('the idle timeout closes unused connections', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => res.end('ok'));
      const client = use(new Client({ idleTimeoutMs: 50 }));
      await (await client.request(srv.url())).text();
      await waitFor(() => srv.openSockets === 0, 'the idle connection to close');
      assert.equal(Object.values(client.stats())[0]!.open, 0);
    }));

  it('close() closes idle connections and refuses further requests', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => res.end('ok'));
      const client = use(new Client());
      await (await client.request(srv.url())).text();
      client.close();
      await waitFor(() => srv.openSockets === 0, 'the idle connection to close');
      assert.equal((await rejection(client.request(srv.url()))).code, 'ERR_CLIENT_CLOSED');
    }));

  it('keepAlive: false opens one connection per request and asks the server to close', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((req, res) => res.end(req.headers.connection));
      const client = use(new Client({ keepAlive: false }));
      assert.equal(await (await client.request(srv.url())).text(), 'close');
      assert.equal(await (await client.request(srv.url())).text(), 'close');
      assert.equal(srv.connections, 2);
    }));

  it('a request waiting for a connection can be aborted; the others go on', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer(async (_req, res) => {
        await sleep(30);
        res.end('ok');
      });
      const client = use(new Client({ maxSocketsPerOrigin: 1 }));
      const first = client.request(srv.url());
      const ac = new AbortController();
      const second = client.request({ url: srv.url(), signal: ac.signal });
      const third = client.request(srv.url());
      await sleep(5);
      ac.abort();
      assert.equal((await rejection(second)).code, 'ABORT_ERR');
      assert.equal(await (await first).text(), 'ok');
      assert.equal(await (await third).text(), 'ok');
      assert.equal(srv.connections, 1);
    }));

  it('a failed connect frees its slot for the next queued request', () =>
    noFdLeak(async (use) => {
      const client = use(new Client({ maxSocketsPerOrigin: 1 }));
      const srv = await startNodeServer((_req, res) => res.end('ok'));
      const port = srv.port;
      await srv.close();
      const results = await Promise.allSettled([client.request(`http://127.0.0.1:${port}/`), client.request(`http://127.0.0.1:${port}/`)]);
      assert.deepEqual(results.map((r) => r.status === 'rejected' && (r.reason as { code: string }).code), ['ECONNREFUSED', 'ECONNREFUSED']);
      assert.deepEqual(Object.values(client.stats())[0], { open: 0, idle: 0, queued: 0, created: 2 });
    }));
});

describe('an idle pool and process exit', () => {
  it('lets a process exit while its keep-alive connection sits idle in the pool', () =>
    noFdLeak(async () => {
      const srv = await startNodeServer((_req, res) => res.end('ok'));
      const { execFile } = await import('node:child_process');
      const script = [
        `import { Client } from ${JSON.stringify(new URL('../../src/http/client/index.ts', import.meta.url).href)};`,
        'const client = new Client({ idleTimeoutMs: 30000 });',
        `const res = await client.request(${JSON.stringify(srv.url('/'))});`,
        'console.log(await res.text());',
      ].join('\n');
      const started = performance.now();
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      assert.equal(out.trim(), 'ok');
      assert.equal(srv.connections, 1, 'the request kept its connection alive (it went to the pool)');
      assert.ok(performance.now() - started < 15_000, 'the child exited long before the 30 s idle timeout');
    }));
});
