import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, connectUnix } from '../../src/net/connect.js';
import { EchoProtocol } from '../../src/net/echo.js';
import { createServer } from '../../src/net/server.js';
import { bind, close, connect as sysConnect, listen, localAddress, socket } from '../../src/sys/index.js';
import { Collector, sleep, trackFds, waitFor } from './helpers.js';

/** A listener that never accepts, with its queue full: further SYNs are dropped, so connects hang. */
function blackHole(): { port: number; release: () => void } {
  const lfd = socket('IPv4', 'stream');
  bind(lfd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(lfd, 0);
  const { port } = localAddress(lfd) as { port: number };
  const fillers: number[] = [];
  for (let i = 0; i < 4; i++) {
    const fd = socket('IPv4', 'stream');
    fillers.push(fd);
    sysConnect(fd, { family: 'IPv4', address: '127.0.0.1', port });
  }
  return { port, release: () => [lfd, ...fillers].forEach((fd) => close(fd)) };
}

test('connecting to a closed port rejects with SysError ECONNREFUSED and leaks no fd', async () => {
  const done = await trackFds();
  const probe = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await probe.listen()) as { port: number };
  probe.close(); // the port is now closed
  await assert.rejects(connect('127.0.0.1', port, () => new Collector()), { name: 'SysError', code: 'ECONNREFUSED', syscall: 'connect' });
  await done();
});

test('a host name is resolved without blocking and every address is tried in turn', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  // 'localhost' may give ::1 first (nothing listens there): the attempt moves on to 127.0.0.1
  const [t, p] = await connect('localhost', port, () => new Collector());
  assert.equal((t.remoteAddress as { address: string }).address, '127.0.0.1');
  t.write('hi');
  await waitFor(() => p.received === 2, 'the echo');
  t.close();
  await p.closed;
  server.close();
  await done();
});

test('a connect can bind a local address first', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const [t, p] = await connect('127.0.0.1', port, () => new Collector(), { localAddress: { host: '127.0.0.1' } });
  assert.equal((t.localAddress as { address: string }).address, '127.0.0.1');
  assert.ok((t.localAddress as { port: number }).port > 0);
  t.close();
  await p.closed;
  server.close();
  await done();
});

test('an already aborted signal rejects at once with ERR_CANCELLED', async () => {
  const done = await trackFds();
  const ac = new AbortController();
  ac.abort(new Error('no thanks'));
  await assert.rejects(connect('127.0.0.1', 9, () => new Collector(), { signal: ac.signal }), { code: 'ERR_CANCELLED' });
  await done();
});

test('aborting a pending connect rejects with ERR_CANCELLED and closes its socket', async () => {
  const hole = blackHole();
  const done = await trackFds();
  try {
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      let made = false;
      const p = connect('127.0.0.1', hole.port, () => { made = true; return new Collector(); }, { signal: ac.signal });
      await sleep(30);
      ac.abort();
      await assert.rejects(p, (err: { code?: string; cause?: unknown }) => {
        assert.equal(err.code, 'ERR_CANCELLED');
        assert.ok(err.cause instanceof Error, 'the abort reason is the cause');
        return true;
      });
      assert.equal(made, false, 'no protocol was made');
    }
    await done();
  } finally {
    hole.release();
  }
});

test('a connect that takes longer than its timeout rejects with ETIMEDOUT and closes its socket', async () => {
  const hole = blackHole();
  const done = await trackFds();
  try {
    const t0 = Date.now();
    await assert.rejects(connect('127.0.0.1', hole.port, () => new Collector(), { timeout: 80 }), { code: 'ETIMEDOUT', syscall: 'connect' });
    const ms = Date.now() - t0;
    assert.ok(ms >= 70 && ms < 2000, `gave up after ${ms} ms`);
    await done();
  } finally {
    hole.release();
  }
});

test('connecting to a missing unix socket rejects with ENOENT', async () => {
  const done = await trackFds();
  await assert.rejects(connectUnix('/nonexistent/evloop.sock', () => new Collector()), { code: 'ENOENT' });
  await done();
});

test('a name that does not resolve rejects with ERR_DNS', async () => {
  const done = await trackFds();
  await assert.rejects(connect('no-such-host.invalid', 80, () => new Collector()), { code: 'ERR_DNS' });
  await done();
});
