// The client's request API against real peers: Node's own http server (written by no one here)
// and raw TCP servers sending exactly the bytes a test needs. Each test ends with no fd leaked.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { Client, request, type ClientResponse } from '../../src/http/client/index.js';
import { resolveHost } from '../../src/net/resolve.js';
import { bind, close as closeFd, listen, localAddress, socket } from '../../src/sys/index.js';
import { sleep, waitFor } from '../net/helpers.js';
import { fdCount } from '../helpers/fds.js';
import { noFdLeak, readAll, rejection, startNodeServer, startRawServer } from './client-helpers.js';

/** Rejects if `p` takes longer than a bound only a hang crosses (the timeouts under test are ~200 ms). */
function guard<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms: a hang`)), ms)));
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

describe('request', () => {
  it('a GET returns the status, every header value and the body', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((req, res) => {
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.setHeader('X-Path', req.url!);
        res.end('hello');
      });
      const client = use(new Client());
      const res = await client.request(srv.url('/p?q=1'));
      assert.equal(res.status, 200);
      assert.equal(res.statusText, 'OK');
      assert.equal(res.ok, true);
      assert.equal(res.httpVersion, '1.1');
      assert.equal(res.headers.get('x-path'), '/p?q=1');
      assert.deepEqual(res.headers.getAll('Set-Cookie'), ['a=1', 'b=2']);
      assert.equal(res.headers.get('set-cookie'), 'a=1, b=2');
      assert.equal(await res.text(), 'hello');
      client.close();
      await srv.close();
    }));

  it('a POST with a string body is sent with Content-Length and read whole by the server', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer(async (req, res) => {
        const body = await readAll(req);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, cl: req.headers['content-length'], te: req.headers['transfer-encoding'] ?? null, body: body.toString() }));
      });
      const client = use(new Client());
      const res = await client.request({ url: srv.url('/echo'), method: 'post', body: 'héllo', headers: { 'X-A': 'b' } });
      assert.deepEqual(await res.json(), { method: 'POST', cl: '6', te: null, body: 'héllo' });
      const res2 = await client.request({ url: srv.url('/echo'), method: 'PUT', body: new Uint8Array([1, 2, 3]) });
      assert.equal(((await res2.json()) as { cl: string }).cl, '3');
      const res3 = await client.request(srv.url('/echo'));
      assert.equal((await res3.arrayBuffer()).byteLength > 0, true);
      client.close();
      await srv.close();
    }));

  it('the request() shortcut works with a given pool and with pool: false', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((req, res) => res.end(req.headers.connection ?? 'none'));
      const client = use(new Client());
      const a = await request(srv.url(), { pool: client });
      assert.equal(await a.text(), 'none', 'HTTP/1.1 keeps alive without saying so');
      const b = await request({ url: srv.url(), pool: false });
      assert.equal(await b.text(), 'close');
      client.close();
      await srv.close();
    }));

  it('host names are resolved off the loop: localhost reaches the server', () =>
    noFdLeak(async (use) => {
      // Listen where localhost resolves first (127.0.0.1 or ::1, by host): the request must get through.
      const [first] = await resolveHost('localhost', 0);
      const srv = await startNodeServer((_req, res) => res.end('ok'), first!.address);
      const client = use(new Client());
      const res = await client.request(`http://localhost:${srv.port}/`);
      assert.equal(await res.text(), 'ok');
      client.close();
      await srv.close();
    }));

  it('https URLs are refused with ERR_UNSUPPORTED_PROTOCOL and open nothing', async () => {
    const before = fdCount();
    const err = await rejection(request('https://127.0.0.1:1/'));
    assert.equal(err.code, 'ERR_UNSUPPORTED_PROTOCOL');
    assert.equal((await rejection(request('not a url'))).code, 'ERR_INVALID_URL');
    assert.equal(fdCount(), before);
  });

  it('header values with CR or LF are refused with ERR_INVALID_HEADER before connecting', async () => {
    const before = fdCount();
    const err = await rejection(request({ url: 'http://127.0.0.1:1/', headers: { 'X-Evil': 'a\r\nInjected: 1' } }));
    assert.equal(err.code, 'ERR_INVALID_HEADER');
    assert.equal((await rejection(request({ url: 'http://127.0.0.1:1/', headers: { 'Bad Name': 'x' } }))).code, 'ERR_INVALID_HEADER');
    assert.equal((await rejection(request({ url: 'http://127.0.0.1:1/', method: 'GE T' }))).code, 'ERR_INVALID_ARG');
    assert.equal(fdCount(), before);
  });

  it('a refused connection rejects with the SysError code ECONNREFUSED', () =>
    noFdLeak(async (use) => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const client = use(new Client());
      const err = await rejection(client.request(`http://127.0.0.1:${port}/`));
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.name, 'SysError');
      client.close();
    }));
});

describe('timeouts', () => {
  it('a server whose accept queue is full gives ERR_CONNECT_TIMEOUT', () =>
    noFdLeak(async (use) => {
      // A listening socket nobody accepts on, backlog 0: once full, the kernel drops new SYNs.
      const fd = socket('IPv4', 'stream');
      bind(fd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
      listen(fd, 0);
      const port = (localAddress(fd) as { port: number }).port;
      const fillers = [0, 1, 2].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
      await sleep(50);
      const client = use(new Client({ timeouts: { connect: 200 } }));
      try {
        const t0 = Date.now();
        const err = await rejection(client.request(`http://127.0.0.1:${port}/`));
        assert.equal(err.code, 'ERR_CONNECT_TIMEOUT');
        assert.ok(Date.now() - t0 >= 190, `timed out after ${Date.now() - t0} ms`);
      } finally {
        for (const s of fillers) s.destroy();
        closeFd(fd);
        client.close();
      }
      await sleep(20);
    }));

  it('a server that stalls before answering gives ERR_HEADERS_TIMEOUT and the connection is closed', () =>
    noFdLeak(async (use) => {
      let closedByClient = false;
      const srv = await startRawServer((s) => s.on('close', () => (closedByClient = true)));
      const client = use(new Client());
      const err = await rejection(client.request({ url: srv.url(), timeoutMs: { headers: 100 } }));
      assert.equal(err.code, 'ERR_HEADERS_TIMEOUT');
      await waitFor(() => closedByClient, 'the server to see the close');
      assert.deepEqual(Object.values(client.stats())[0], { open: 0, idle: 0, queued: 0, created: 1 });
      client.close();
      await srv.close();
    }));

  it('a server that stalls in the middle of the body gives ERR_BODY_TIMEOUT', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
      const client = use(new Client());
      const res = await client.request({ url: srv.url(), timeoutMs: { body: 100 } });
      assert.equal(res.status, 200);
      const err = await rejection(res.text());
      assert.equal(err.code, 'ERR_BODY_TIMEOUT');
      client.close();
      await srv.close();
    }));

  it('a body that keeps trickling in does not time out while each gap is short', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer(async (_req, res) => {
        for (let i = 0; i < 6; i++) {
          res.write('x');
          await sleep(40);
        }
        res.end();
      });
      const client = use(new Client({ timeouts: { body: 150 } }));
      const res = await client.request(srv.url());
      assert.equal(await res.text(), 'xxxxxx');
      client.close();
      await srv.close();
    }));

  it('an upload whose source stalls ends with ERR_BODY_TIMEOUT (timeoutMs as a number and as { body }), not a hang', () =>
    noFdLeak(async (use) => {
      let closedByClient = 0;
      const srv = await startRawServer((s) => s.on('close', () => closedByClient++));
      const client = use(new Client());
      for (const timeoutMs of [150, { body: 150 }]) {
        let release!: () => void;
        const stalled = new Promise<void>((r) => (release = r));
        async function* source(): AsyncGenerator<string> {
          yield 'first piece';
          await stalled; // the producer goes silent
        }
        const err = await guard(rejection(client.request({ url: srv.url(), method: 'POST', body: source(), timeoutMs })));
        release();
        assert.equal(err.code, 'ERR_BODY_TIMEOUT');
        assert.equal(err.name, 'ClientTimeoutError');
        assert.match(err.message, /sending the request body/);
        assert.equal((err as { timeoutMs?: number }).timeoutMs, 150);
      }
      await waitFor(() => closedByClient === 2, 'the server to see both connections closed');
      client.close();
      await srv.close();
    }));

  it('an upload the server stops reading ends with ERR_BODY_TIMEOUT once the socket buffers are full', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.pause()); // accepts, never reads
      const client = use(new Client());
      let produced = 0;
      const piece = Buffer.alloc(64 * 1024, 0x61);
      async function* endless(): AsyncGenerator<Buffer> {
        for (; produced < 4096; produced++) yield piece; // at most 256 MiB: far more than loopback buffers hold
      }
      const err = await guard(rejection(client.request({ url: srv.url(), method: 'PUT', body: endless(), timeoutMs: { body: 200 } })));
      assert.equal(err.code, 'ERR_BODY_TIMEOUT');
      assert.ok(produced < 4096, `the writer stopped pulling the source when the transport was full (pulled ${produced} pieces)`);
      client.close();
      await srv.close();
    }));

  it('a slow but steady upload does not time out while each gap is short', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer(async (req, res) => res.end(String((await readAll(req)).length)));
      const client = use(new Client({ timeouts: { body: 300 } }));
      async function* trickle(): AsyncGenerator<string> {
        for (let i = 0; i < 6; i++) {
          yield 'x';
          await sleep(40);
        }
      }
      const res = await client.request({ url: srv.url(), method: 'POST', body: trickle() });
      assert.equal(await res.text(), '6');
      client.close();
      await srv.close();
    }));

  it('a number for timeoutMs applies to every phase', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer(() => {});
      const client = use(new Client());
      assert.equal((await rejection(client.request({ url: srv.url(), timeoutMs: 80 }))).code, 'ERR_HEADERS_TIMEOUT');
      client.close();
      await srv.close();
    }));
});

describe('AbortSignal', () => {
  it('an already aborted signal rejects with ABORT_ERR before anything is opened', async () => {
    const before = fdCount();
    const err = await rejection(request({ url: 'http://127.0.0.1:1/', signal: AbortSignal.abort('why') }));
    assert.equal(err.code, 'ABORT_ERR');
    assert.equal(err.name, 'AbortError');
    assert.equal((err as { cause?: unknown }).cause, 'why');
    assert.equal(fdCount(), before);
  });

  it('aborting during the connect rejects with ABORT_ERR and leaks no fd', () =>
    noFdLeak(async (use) => {
      const fd = socket('IPv4', 'stream');
      bind(fd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
      listen(fd, 0);
      const port = (localAddress(fd) as { port: number }).port;
      const fillers = [0, 1, 2].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
      await sleep(50);
      const client = use(new Client());
      try {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 50);
        const err = await rejection(client.request({ url: `http://127.0.0.1:${port}/`, signal: ac.signal }));
        assert.equal(err.code, 'ABORT_ERR');
      } finally {
        for (const s of fillers) s.destroy();
        closeFd(fd);
        client.close();
      }
      await sleep(20);
    }));

  it('aborting while waiting for the headers rejects and closes the connection', () =>
    noFdLeak(async (use) => {
      let serverSawClose = false;
      const srv = await startRawServer((s) => s.on('close', () => (serverSawClose = true)));
      const client = use(new Client());
      const ac = new AbortController();
      const p = client.request({ url: srv.url(), signal: ac.signal });
      await waitFor(() => srv.connections === 1, 'the connection');
      ac.abort();
      assert.equal((await rejection(p)).code, 'ABORT_ERR');
      await waitFor(() => serverSawClose, 'the server to see the close');
      assert.equal(Object.values(client.stats())[0]!.open, 0);
      client.close();
      await srv.close();
    }));

  it('aborting during the body fails the body with ABORT_ERR; the connection is not reused', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => {
        res.write('first');
        // never ends
      });
      const client = use(new Client());
      const ac = new AbortController();
      const res = await client.request({ url: srv.url(), signal: ac.signal });
      const it = res.body[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.toString(), 'first');
      ac.abort();
      assert.equal((await rejection(it.next())).code, 'ABORT_ERR');
      await waitFor(() => srv.openSockets === 0, 'the server socket to close');
      const res2 = await client.request(srv.url()).catch(() => null);
      res2?.body.cancel();
      assert.equal(srv.connections, 2);
      client.close();
      await srv.close();
    }));

  it('aborting after the response was read changes nothing', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => res.end('done'));
      const client = use(new Client());
      const ac = new AbortController();
      const res = await client.request({ url: srv.url(), signal: ac.signal });
      assert.equal(await res.text(), 'done');
      ac.abort();
      assert.equal(await (await client.request(srv.url())).text(), 'done');
      assert.equal(srv.connections, 1);
      client.close();
      await srv.close();
    }));
});

describe('malformed responses', () => {
  for (const [name, bytes, code] of [
    ['garbage instead of a status line', 'garbage\r\n\r\n', 'HPE_INVALID_VERSION'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['Content-Length and Transfer-Encoding together', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
  ] as const) {
    it(`${name} surfaces the parser's error code and destroys the connection`, () =>
      noFdLeak(async (use) => {
        let closed = false;
        const srv = await startRawServer((s) => {
          s.on('close', () => (closed = true));
          s.once('data', () => s.write(bytes));
        });
        const client = use(new Client());
        // timeoutMs: a parser that waited for a body instead of failing would end in a timeout code, not a hang
        const err = await client.request({ url: srv.url(), timeoutMs: 2000 }).then((r: ClientResponse) => r.text())
          .then(() => assert.fail('no error'), (e: { code?: string; name?: string }) => e);
        assert.equal(err.code, code);
        assert.equal(err.name, 'HttpParseError');
        await waitFor(() => closed, 'the connection to close');
        client.close();
        await srv.close();
      }));
  }

  it('a response cut short by the server closing gives HPE_INVALID_EOF_STATE', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
      const client = use(new Client());
      const res = await client.request(srv.url());
      assert.equal((await rejection(res.text())).code, 'HPE_INVALID_EOF_STATE');
      client.close();
      await srv.close();
    }));

  it('a server closing without any answer gives ERR_CONNECTION_CLOSED', () =>
    noFdLeak(async (use) => {
      const srv = await startRawServer((s) => s.once('data', () => s.end()));
      const client = use(new Client());
      assert.equal((await rejection(client.request(srv.url()))).code, 'ERR_CONNECTION_CLOSED');
      client.close();
      await srv.close();
    }));
});

describe('redirects', () => {
  const redirecting = () =>
    startNodeServer(async (req, res) => {
      const body = await readAll(req);
      const m = /^\/(\d{3})(\/.*)?$/.exec(req.url!);
      if (m !== null) {
        res.writeHead(Number(m[1]), { Location: m[2] ?? '/final' });
        return res.end('moved');
      }
      if (req.url!.startsWith('/loop')) {
        res.writeHead(302, { Location: `/loop${Number(req.url!.slice(5) || 0) + 1}` });
        return res.end();
      }
      res.end(JSON.stringify({ method: req.method, url: req.url, body: body.toString(), ct: req.headers['content-type'] ?? null }));
    });

  it('are not followed by default: a 302 comes back as it is', () =>
    noFdLeak(async (use) => {
      const srv = await redirecting();
      const client = use(new Client());
      const res = await client.request(srv.url('/302'));
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), '/final');
      assert.equal(res.redirected, false);
      assert.equal(await res.text(), 'moved');
      client.close();
      await srv.close();
    }));

  it('301, 302 and 303 are followed with a GET without the body when asked', () =>
    noFdLeak(async (use) => {
      const srv = await redirecting();
      const client = use(new Client({ maxRedirects: 5 }));
      for (const status of [301, 302, 303]) {
        const res = await client.request({ url: srv.url(`/${status}`), method: 'POST', body: 'data', headers: { 'Content-Type': 'text/plain' } });
        assert.equal(res.status, 200);
        assert.equal(res.redirected, true);
        assert.equal(res.url, srv.url('/final'));
        assert.deepEqual(await res.json(), { method: 'GET', url: '/final', body: '', ct: null });
      }
      assert.equal(srv.connections, 1, 'the redirects reused the connection');
      client.close();
      await srv.close();
    }));

  it('307 and 308 keep the method and the body', () =>
    noFdLeak(async (use) => {
      const srv = await redirecting();
      const client = use(new Client());
      for (const status of [307, 308]) {
        const res = await client.request({ url: srv.url(`/${status}`), method: 'PUT', body: 'data', maxRedirects: 1 });
        assert.deepEqual(await res.json(), { method: 'PUT', url: '/final', body: 'data', ct: null });
      }
      client.close();
      await srv.close();
    }));

  it('a 307 for a streamed body is returned as it is (the body cannot be sent twice)', () =>
    noFdLeak(async (use) => {
      const srv = await redirecting();
      const client = use(new Client());
      const body = (async function* () {
        yield 'once';
      })();
      const res = await client.request({ url: srv.url('/307'), method: 'POST', body, maxRedirects: 3 });
      assert.equal(res.status, 307);
      await res.body.dump();
      client.close();
      await srv.close();
    }));

  it('more redirects than maxRedirects reject with ERR_TOO_MANY_REDIRECTS', () =>
    noFdLeak(async (use) => {
      const srv = await redirecting();
      const client = use(new Client());
      const err = await rejection(client.request({ url: srv.url('/loop'), maxRedirects: 3 }));
      assert.equal(err.code, 'ERR_TOO_MANY_REDIRECTS');
      const ok = await client.request({ url: srv.url('/301/302/final'), maxRedirects: 2 });
      assert.equal(ok.status, 200);
      await ok.body.dump();
      client.close();
      await srv.close();
    }));

  it('a redirect to https is refused with ERR_UNSUPPORTED_PROTOCOL', () =>
    noFdLeak(async (use) => {
      const srv = await startNodeServer((_req, res) => {
        res.writeHead(301, { Location: 'https://example.com/' });
        res.end();
      });
      const client = use(new Client({ maxRedirects: 1 }));
      assert.equal((await rejection(client.request(srv.url()))).code, 'ERR_UNSUPPORTED_PROTOCOL');
      client.close();
      await srv.close();
    }));
});
