import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { EchoProtocol } from '../../src/net/echo.js';
import type { BufferedProtocol, Transport } from '../../src/net/protocol.js';
import { readStrategy, setReadStrategy, type ReadStrategy } from '../../src/net/read-strategy.js';
import { createServer, type Server } from '../../src/net/server.js';
import { connect } from '../../src/net/connect.js';
import { C, getSockOptInt, withFaults } from '../../src/sys/index.js';
import { Collector, nodeConnect, nodeRoundTrip, runNc, sha256, trackFds, waitFor } from './helpers.js';

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  servers.push(server);
  const addr = await server.listen();
  return { server, port: (addr as { port: number }).port };
}

async function collectingServer(opts: { keepOpen?: boolean; made?: (p: Collector) => void } = {}) {
  const protos: Collector[] = [];
  const server = createServer(() => {
    const p = new Collector({ keepOpen: opts.keepOpen });
    protos.push(p);
    if (opts.made) void p.made.then(() => opts.made!(p));
    return p;
  }, { host: '127.0.0.1', port: 0 });
  servers.push(server);
  const addr = await server.listen();
  return { server, port: (addr as { port: number }).port, protos };
}

test('the echo server returns what a Node net client sends and honours its half-close', async () => {
  const done = await trackFds();
  const { server, port } = await echoServer();
  const data = randomBytes(300_000);
  const back = await nodeRoundTrip(port, data);
  assert.equal(back.length, data.length);
  assert.ok(back.equals(data), 'the echoed bytes match');
  server.close();
  await done();
});

test('nc sends its input through the echo server and reads it all back', async () => {
  const done = await trackFds();
  const { server, port } = await echoServer();
  const input = Buffer.from('line one\nline two\n'.repeat(1000));
  const { stdout, code } = await runNc(['-N', '127.0.0.1', String(port)], input);
  assert.equal(code, 0);
  assert.ok(stdout.equals(input), `nc got ${stdout.length} of ${input.length} bytes back`);
  server.close();
  await done();
});

test('a write the kernel cannot take at once is queued, pauses the producer and arrives complete', async () => {
  const done = await trackFds();
  const big = randomBytes(8 * 1024 * 1024);
  let serverSide: Collector | undefined;
  const { server, port } = await collectingServer({
    made: (p) => {
      serverSide = p;
      p.transport.write(big);
      p.transport.close(); // after flushing: not a byte may be lost
    },
  });
  const client = await nodeConnect(port);
  client.pause();
  await waitFor(() => serverSide !== undefined, 'the server side');
  assert.ok(serverSide!.transport.bufferedAmount > 0, 'the rest was queued');
  assert.equal(serverSide!.pauses, 1, 'pauseWriting was called above the high-water mark');
  const got = sha256();
  let n = 0;
  client.on('data', (d: Buffer) => { got.update(d); n += d.length; });
  const ended = new Promise((r) => client.on('end', r));
  client.resume();
  await ended;
  client.destroy();
  assert.equal(n, big.length);
  assert.equal(got.digest('hex'), sha256().update(big).digest('hex'));
  assert.equal(await serverSide!.closed, undefined, 'a clean close reports no error');
  assert.equal(serverSide!.resumes, 0, 'no resumeWriting after close was requested');
  server.close();
  await done();
});

/**
 * Writes 8 MiB of 1s the kernel cannot take at once, changes every byte to 2 right after write()
 * returned, then reads all: what the transport queued shows whether it kept a copy or the buffer.
 */
async function writeThenOverwrite(immutable: boolean): Promise<{ queued: number; twos: number; total: number }> {
  const big = Buffer.alloc(8 * 1024 * 1024, 1);
  let queued = -1;
  const { server, port } = await collectingServer({
    made: (p) => {
      p.transport.write(big, immutable);
      queued = p.transport.bufferedAmount;
      big.fill(2);
      p.transport.close();
    },
  });
  const client = await nodeConnect(port);
  client.pause();
  await waitFor(() => queued >= 0, 'the server side');
  let twos = 0;
  let total = 0;
  client.on('data', (d: Buffer) => {
    total += d.length;
    for (let i = 0; i < d.length; i++) if (d[i] === 2) twos++;
  });
  const ended = new Promise((r) => client.on('end', r));
  client.resume();
  await ended;
  client.destroy();
  server.close();
  return { queued, twos, total };
}

test('an immutable write queues the caller\'s buffer itself (no copy), a plain write a copy', async () => {
  const done = await trackFds();
  const byRef = await writeThenOverwrite(true);
  assert.ok(byRef.queued > 0, 'part of it was queued');
  assert.equal(byRef.total, 8 * 1024 * 1024);
  assert.equal(byRef.twos, byRef.queued, 'exactly the queued bytes were read from the caller\'s buffer at send time');
  const copied = await writeThenOverwrite(false);
  assert.ok(copied.queued > 0, 'part of it was queued');
  assert.equal(copied.total, 8 * 1024 * 1024);
  assert.equal(copied.twos, 0, 'the queue held a copy: the change after write() never reached the wire');
  await done();
});

test('writing after close throws ERR_TRANSPORT_CLOSED and after end ERR_WRITE_AFTER_END', async () => {
  const done = await trackFds();
  const { server, port, protos } = await collectingServer({ keepOpen: true });
  const client = await nodeConnect(port);
  await waitFor(() => protos.length === 1, 'the connection');
  await protos[0]!.made;
  const t = protos[0]!.transport;
  t.end();
  assert.throws(() => t.write('x'), { code: 'ERR_WRITE_AFTER_END' });
  t.close();
  assert.throws(() => t.write('x'), { code: 'ERR_TRANSPORT_CLOSED' });
  assert.throws(() => t.end(), { code: 'ERR_TRANSPORT_CLOSED' });
  assert.equal(t.isClosing, true);
  await protos[0]!.closed;
  client.destroy();
  server.close();
  await done();
});

test('a peer reset mid-stream reaches connectionLost as SysError ECONNRESET', async () => {
  const done = await trackFds();
  const { server, port, protos } = await collectingServer();
  const client = await nodeConnect(port);
  client.write('some bytes before the reset');
  await waitFor(() => protos[0]?.received === 27, 'the first bytes');
  client.resetAndDestroy(); // SO_LINGER 0 then close: an RST
  const err = await protos[0]!.closed;
  assert.ok(err, 'an error is reported');
  assert.equal((err as { code?: string }).code, 'ECONNRESET');
  assert.equal((err as { syscall?: string }).syscall, 'read');
  server.close();
  await done();
});

test('a peer closing during a large write ends the connection with EPIPE or ECONNRESET', async () => {
  const done = await trackFds();
  const { server, port, protos } = await collectingServer({
    made: (p) => p.transport.write(Buffer.alloc(32 * 1024 * 1024, 7)),
  });
  const client = await nodeConnect(port);
  await new Promise((r) => client.once('data', r));
  client.destroy(); // unread data pending: the kernel answers with an RST
  const err = await protos[0]!.closed;
  assert.ok(['EPIPE', 'ECONNRESET'].includes((err as { code?: string }).code ?? ''), `got ${String(err)}`);
  assert.equal(protos[0]!.transport.bufferedAmount, 0, 'the queue was dropped');
  server.close();
  await done();
});

test('pauseReading stops dataReceived until resumeReading', async () => {
  const done = await trackFds();
  const { server, port, protos } = await collectingServer();
  const client = await nodeConnect(port);
  await waitFor(() => protos.length === 1, 'the connection');
  await protos[0]!.made;
  const t = protos[0]!.transport;
  t.pauseReading();
  assert.equal(t.isReading, false);
  client.write('while paused');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(protos[0]!.received, 0, 'nothing delivered while paused');
  t.resumeReading();
  await waitFor(() => protos[0]!.received === 12, 'the data after resuming');
  client.end();
  await protos[0]!.closed;
  assert.equal(protos[0]!.eof, true);
  server.close();
  await done();
});

test('a BufferedProtocol receives into its own buffer', async () => {
  const done = await trackFds();
  const store = Buffer.alloc(1 << 20);
  let used = 0;
  let lost: Error | undefined | null = null;
  let hints = 0;
  const proto: BufferedProtocol = {
    connectionMade() {},
    getBuffer(hint) { hints = hint; return store.subarray(used); },
    bufferUpdated(n) { used += n; },
    connectionLost(err) { lost = err; },
  };
  const server = createServer(() => proto, { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const data = randomBytes(200_000);
  const client = await nodeConnect(port);
  client.end(data);
  await waitFor(() => lost !== null, 'connectionLost');
  assert.equal(lost, undefined);
  assert.ok(hints > 0, 'getBuffer got a size hint');
  assert.ok(store.subarray(0, used).equals(data));
  client.destroy();
  server.close();
  await done();
});

test('every read strategy delivers the same bytes', async () => {
  const done = await trackFds();
  const original = readStrategy();
  try {
    for (const s of ['once', 'short', 'drain'] as ReadStrategy[]) {
      setReadStrategy(s);
      const { server, port } = await echoServer();
      const data = randomBytes(500_000);
      const back = await nodeRoundTrip(port, data);
      assert.ok(back.equals(data), `strategy ${s}`);
      server.close();
    }
  } finally {
    setReadStrategy(original);
  }
  await done();
});

test('data arrives intact through injected EINTR, EAGAIN and short reads and writes', async () => {
  const done = await trackFds();
  const { server, port } = await echoServer();
  const data = randomBytes(2 * 1024 * 1024);
  const back = await withFaults({
    recv: { steps: ['EINTR', { short: 7 }, 'EAGAIN', 'pass', { short: 1000 }], repeat: true },
    send: { steps: [{ short: 5 }, 'EAGAIN', 'EINTR', 'pass'], repeat: true },
    writev: { steps: [{ short: 11 }, 'EINTR', 'pass', 'EAGAIN'], repeat: true },
  }, async (faults) => {
    const r = await nodeRoundTrip(port, data);
    assert.ok(faults.total > 10, `faults were injected (${faults.total})`);
    assert.ok((faults.injected.recv?.short ?? 0) > 0 && (faults.injected.recv?.EINTR ?? 0) > 0, 'short and interrupted reads happened');
    assert.ok((faults.injected.send?.short ?? 0) > 0 && (faults.injected.send?.EAGAIN ?? 0) > 0, 'short and refused sends happened');
    return r;
  });
  assert.equal(back.length, data.length);
  assert.ok(back.equals(data), 'the bytes survived the faults');
  server.close();
  await done();
});

test('addresses and socket options of a connected transport can be read and set', async () => {
  const done = await trackFds();
  const { server, port } = await echoServer();
  const [t, p] = await connect('127.0.0.1', port, () => new Collector());
  assert.equal(t.remoteAddress.family, 'IPv4');
  assert.equal((t.remoteAddress as { port: number }).port, port);
  assert.equal((t.localAddress as { address: string }).address, '127.0.0.1');
  assert.equal(getSockOptInt(t.fd, C.IPPROTO_TCP, C.TCP_NODELAY), 1, 'TCP_NODELAY is on by default');
  t.setNoDelay(false);
  assert.equal(getSockOptInt(t.fd, C.IPPROTO_TCP, C.TCP_NODELAY), 0);
  t.setKeepAlive(true, 30);
  assert.equal(getSockOptInt(t.fd, C.SOL_SOCKET, C.SO_KEEPALIVE), 1);
  assert.equal(getSockOptInt(t.fd, C.IPPROTO_TCP, C.TCP_KEEPIDLE), 30);
  t.setWriteBufferLimits(1000, 10);
  assert.throws(() => t.setWriteBufferLimits(10, 1000), { code: 'ERR_INVALID_ARG' });
  t.write('ping');
  await waitFor(() => p.received === 4, 'the echo');
  t.abort();
  assert.equal(await p.closed, undefined);
  assert.equal(t.fd, -1);
  server.close();
  await done();
});

test('a protocol that returns true from eofReceived can still write after the peer half-closed', async () => {
  const done = await trackFds();
  const { server, port, protos } = await collectingServer({ keepOpen: true });
  const back = nodeRoundTrip(port, Buffer.from('question'));
  await waitFor(() => protos[0]?.eof === true, 'EOF at the server');
  const t: Transport = protos[0]!.transport;
  t.write('answer after your EOF');
  t.end();
  assert.equal(String(await back), 'answer after your EOF');
  assert.equal(String(protos[0]!.data), 'question');
  assert.equal(await protos[0]!.closed, undefined);
  server.close();
  await done();
});
