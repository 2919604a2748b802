import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EchoProtocol } from '../../src/net/echo.js';
import { createServer } from '../../src/net/server.js';
import { openConnection, openUnixConnection, startServer } from '../../src/net/streams.js';
import type { SocketTransport } from '../../src/net/stream-transport.js';
import { withFaults } from '../../src/sys/index.js';
import { fillRandom, nodeConnect, sendGate, sha256, sleep, trackFds, waitFor } from './helpers.js';

test('openConnection gives a reader and writer that talk to an echo server', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port);
  writer.write('line one\nline two\n');
  assert.equal(String(await reader.readLine()), 'line one\n');
  assert.equal(String(await reader.readExactly(4)), 'line');
  writer.end(); // half-close: the echo server finishes and sends EOF back
  assert.equal(String(await reader.read()), ' two\n');
  await writer.closed();
  server.close();
  await done();
});

test('startServer runs the handler per connection and closes the connection when it returns', async () => {
  const done = await trackFds();
  const server = await startServer(async (reader, writer) => {
    for await (const line of reader.lines()) writer.write(String(line).toUpperCase());
    writer.write('bye\n');
  }, { host: '127.0.0.1', port: 0 });
  const { port } = server.address() as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port);
  writer.write('hello\nworld\n');
  assert.equal(String(await reader.readLine()), 'HELLO\n');
  writer.end(); // the handler sees EOF, says bye and returns: the server closes
  assert.equal(String(await reader.read()), 'WORLD\nbye\n');
  assert.ok(reader.atEof());
  await writer.closed();
  await waitFor(() => server.connections === 0, 'the server side closed');
  server.close();
  await done();
});

test('reading from a stream after closing it throws ERR_STREAM_CLOSED and writing ERR_TRANSPORT_CLOSED', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port);
  writer.close();
  await assert.rejects(reader.read(10), { code: 'ERR_STREAM_CLOSED' });
  assert.throws(() => writer.write('x'), { code: 'ERR_TRANSPORT_CLOSED' });
  await writer.closed();
  server.close();
  await done();
});

test('a peer reset surfaces as ECONNRESET from reads and closed()', async () => {
  const done = await trackFds();
  let accepted!: (v: { r: import('../../src/net/stream-reader.js').StreamReader; closed: Promise<void> }) => void;
  const got = new Promise<{ r: import('../../src/net/stream-reader.js').StreamReader; closed: Promise<void> }>((r) => (accepted = r));
  const server = await startServer(async (reader, writer) => {
    accepted({ r: reader, closed: writer.closed() });
    await writer.closed().catch(() => {});
  }, { host: '127.0.0.1', port: 0 });
  const client = await nodeConnect((server.address() as { port: number }).port);
  const { r, closed } = await got;
  client.resetAndDestroy();
  await assert.rejects(r.read(1), { code: 'ECONNRESET' });
  await assert.rejects(closed, { code: 'ECONNRESET' });
  server.close();
  await done();
});

test('drain() waits while the peer does not read and resolves once it does', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port, { highWaterMark: 32 * 1024 });
  const chunk = Buffer.alloc(256 * 1024, 1);
  let drained = false;
  try {
    // nobody reads the echo: our reader pauses, the server stops reading, buffers fill, our queue grows
    for (let i = 0; i < 1024 && writer.transport.bufferedAmount <= 32 * 1024; i++) {
      writer.write(chunk);
      await sleep(1);
    }
    assert.ok(writer.transport.bufferedAmount > 32 * 1024, 'data is queued');
    const d = writer.drain().then(() => (drained = true));
    await sleep(50);
    assert.equal(drained, false, 'drain waits while nothing is read');
    while (!drained) await reader.read(1 << 20);
    await d;
  } finally {
    writer.close();
    server.close();
  }
  await done();
});

test('streams deliver every byte through injected EINTR, EAGAIN and short reads and writes', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const data = Buffer.allocUnsafe(1 << 20);
  fillRandom(data, 99);
  await withFaults({
    recv: { steps: [{ short: 3 }, 'EINTR', 'pass', 'EAGAIN'], repeat: true },
    send: { steps: [{ short: 100 }, 'EAGAIN', 'pass', 'EINTR'], repeat: true },
    writev: { steps: ['EINTR', { short: 4096 }, 'pass'], repeat: true },
  }, async (faults) => {
    const { reader, writer } = await openConnection('127.0.0.1', port);
    const back = reader.readExactly(data.length);
    for (let i = 0; i < data.length; i += 65536) {
      writer.write(data.subarray(i, i + 65536));
      await writer.drain();
    }
    assert.ok((await back).equals(data), 'the bytes survived');
    assert.ok(faults.total > 100, `faults were injected (${faults.total})`);
    writer.close();
    await writer.closed();
  });
  server.close();
  await done();
});

test('a unix stream connection works through openUnixConnection', async () => {
  const done = await trackFds();
  const name = `\0evloop-streams-${process.pid}`;
  const server = await startServer(async (reader, writer) => {
    writer.write(await reader.readExactly(3));
  }, { path: name });
  const { reader, writer } = await openUnixConnection(name);
  writer.write('abc');
  assert.equal(String(await reader.readExactly(3)), 'abc');
  assert.equal((await reader.read(1)).length, 0, 'the handler returned: EOF');
  writer.close();
  server.close();
  await done();
});

test('1 GiB of random data echoes through a slow reader with a matching checksum and bounded memory', { timeout: 180_000 }, async (t) => {
  const done = await trackFds();
  const total = Number(process.env.EVLOOP_BIG_ECHO_BYTES ?? 2 ** 30);
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  const t0 = performance.now();
  const sent = sha256();
  const received = sha256();
  const produce = async () => {
    const buf = Buffer.allocUnsafe(1 << 20); // reused: write() copies only what it must queue
    let state = 12345;
    for (let left = total; left > 0;) {
      const n = Math.min(left, buf.length);
      state = fillRandom(buf, state);
      const chunk = n === buf.length ? buf : buf.subarray(0, n);
      sent.update(chunk);
      writer.write(chunk);
      left -= n;
      await writer.drain();
    }
    writer.end();
  };
  const consume = async () => {
    let got = 0;
    let nextPause = 8 << 20;
    for (;;) {
      const chunk = await reader.read(1 << 20);
      if (chunk.length === 0) break;
      received.update(chunk);
      got += chunk.length;
      if (got >= nextPause) { // deliberately slow: stop reading for a moment every 8 MiB
        nextPause += 8 << 20;
        await sleep(1);
      }
    }
    return got;
  };
  try {
    const [, got] = await Promise.all([produce(), consume()]);
    const secs = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    t.diagnostic(`echoed ${got} bytes in ${secs.toFixed(2)} s: ${(got / secs / 2 ** 20).toFixed(0)} MiB/s; RSS ${(rss0 / 2 ** 20).toFixed(0)} MiB -> peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
    assert.equal(got, total);
    assert.equal(received.digest('hex'), sent.digest('hex'), 'the checksums match');
    assert.ok(peak - rss0 < 200 * 2 ** 20, `memory stayed bounded (peak grew by ${((peak - rss0) / 2 ** 20).toFixed(0)} MiB)`);
  } finally {
    clearInterval(sampler);
    writer.close();
    server.close();
  }
  await done();
});

test('openConnection honours highWaterMark and lowWaterMark: drain() waits above high and resolves at low, not at empty', async () => {
  const done = await trackFds();
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port, { highWaterMark: 1000, lowWaterMark: 600 });
  const t = writer.transport as SocketTransport;
  try {
    assert.deepEqual(t.writeBufferLimits, { high: 1000, low: 600 });
    const data = Buffer.allocUnsafe(2400);
    fillRandom(data, 7);
    const gate = sendGate(() => t.fd);
    await withFaults(gate.plan, async () => {
      for (let i = 0; i < data.length; i += 600) writer.write(data.subarray(i, i + 600));
      assert.equal(t.bufferedAmount, 2400, 'the kernel took nothing');
      let drained = false;
      const d = writer.drain().then(() => (drained = true));
      await sleep(20);
      assert.equal(drained, false, 'drain() waits with 2400 bytes queued over a 1000-byte high-water mark');
      gate.allowBytes(1200);
      await waitFor(() => t.bufferedAmount === 1200, '1200 bytes sent');
      await sleep(20);
      assert.equal(drained, false, 'drain() still waits at 1200 bytes, above the 600-byte low-water mark');
      gate.allowBytes(600);
      await waitFor(() => drained, 'drain() at the low-water mark');
      assert.equal(t.bufferedAmount, 600, 'drain() resolved at the low-water mark with bytes still queued');
      gate.allowBytes(600);
      await d;
    });
    assert.ok((await reader.readExactly(data.length)).equals(data), 'every byte came back, in order');
  } finally {
    writer.close();
    server.close();
  }
  await done();
});

test('a stream reader pauses its socket above twice its limit and resumes once reads bring it to the limit, with bytes still buffered', async () => {
  const done = await trackFds();
  const big = Buffer.alloc(512 * 1024, 0x61);
  const server = await startServer(async (_reader, writer) => {
    writer.write(big);
    await writer.drain();
    await writer.closed().catch(() => {});
  }, { host: '127.0.0.1', port: 0 });
  const { port } = server.address() as { port: number };
  const { reader, writer } = await openConnection('127.0.0.1', port, { limit: 1000 });
  try {
    await waitFor(() => !writer.transport.isReading, 'the reader paused its transport');
    const buffered = reader.bufferedAmount;
    assert.ok(buffered > 2000, `paused above 2 × limit (${buffered} bytes buffered)`);
    await reader.read(buffered - 1001);
    assert.equal(writer.transport.isReading, false, 'still paused at 1001 bytes, above the limit');
    await reader.read(1);
    assert.equal(reader.bufferedAmount, 1000);
    assert.equal(writer.transport.isReading, true, 'reading resumed at the limit, 1000 bytes still buffered');
  } finally {
    writer.close();
    server.close();
  }
  await done();
});

test('an error a stream handler throws goes to the server\'s onError; a connection error does not', async () => {
  const done = await trackFds();
  const reported: { message: string; what: string }[] = [];
  const server = await startServer(async (reader) => {
    const line = String(await reader.readLine());
    if (line.startsWith('bug')) throw new Error('handler bug');
    await reader.readExactly(100); // the client goes away first: ERR_INCOMPLETE_READ, the connection's own
  }, { host: '127.0.0.1', port: 0, onError: (err, what) => reported.push({ message: (err as Error).message, what }) });
  const { port } = server.address() as { port: number };
  try {
    for (const first of ['bug\n', 'fine\n']) {
      const { reader, writer } = await openConnection('127.0.0.1', port);
      writer.write(first);
      writer.end();
      assert.equal((await reader.read()).length, 0, 'the server closed the connection');
      writer.close();
      await writer.closed().catch(() => {});
    }
    await waitFor(() => server.connections === 0, 'both connections closed');
    assert.deepEqual(reported, [{ message: 'handler bug', what: 'stream handler' }]);
  } finally {
    server.close();
  }
  await done();
});
