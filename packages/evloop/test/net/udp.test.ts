import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { createDatagramEndpoint, type DatagramProtocol, type DatagramTransport } from '../../src/net/udp.js';
import { withFaults, type SocketAddress } from '../../src/sys/index.js';
import { requireIPv6 } from '../helpers/requires.js';
import { sendGate, sleep, trackFds, waitFor } from './helpers.js';

class Inbox implements DatagramProtocol {
  t!: DatagramTransport;
  got: { data: string; from: SocketAddress }[] = [];
  errors: Error[] = [];
  lost: Error | undefined | null = null;
  connectionMade(t: DatagramTransport) { this.t = t; }
  datagramReceived(data: Buffer, from: SocketAddress) { this.got.push({ data: String(data), from }); }
  errorReceived(err: Error) { this.errors.push(err); }
  connectionLost(err?: Error) { this.lost = err; }
}

test('two UDP endpoints exchange datagrams with their senders addresses', async () => {
  const done = await trackFds();
  const [ta, a] = await createDatagramEndpoint(() => new Inbox(), { local: { host: '127.0.0.1', port: 0 } });
  const [tb, b] = await createDatagramEndpoint(() => new Inbox(), { local: { host: '127.0.0.1', port: 0 } });
  tb.send('hello a', ta.localAddress);
  tb.send(Buffer.from('second'), ta.localAddress);
  await waitFor(() => a.got.length === 2, 'two datagrams');
  assert.deepEqual(a.got.map((g) => g.data), ['hello a', 'second'], 'boundaries and order kept');
  assert.deepEqual(a.got[0]!.from, tb.localAddress);
  ta.send('reply', a.got[0]!.from);
  await waitFor(() => b.got.length === 1, 'the reply');
  assert.equal(b.got[0]!.data, 'reply');
  ta.close();
  tb.close();
  await waitFor(() => a.lost !== null && b.lost !== null, 'connectionLost');
  assert.equal(a.lost, undefined);
  assert.throws(() => ta.send('late', tb.localAddress), { code: 'ERR_TRANSPORT_CLOSED' });
  await done();
});

test('a connected UDP endpoint talks to a Node dgram peer without addresses', async () => {
  const done = await trackFds();
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  const peerPort = peer.address().port;
  peer.on('message', (msg, rinfo) => peer.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
  const [t, p] = await createDatagramEndpoint(() => new Inbox(), { remote: { host: '127.0.0.1', port: peerPort } });
  assert.deepEqual(t.remoteAddress, { family: 'IPv4', address: '127.0.0.1', port: peerPort });
  t.send('ping');
  await waitFor(() => p.got.length === 1, 'the answer');
  assert.equal(p.got[0]!.data, 'echo:ping');
  await new Promise<void>((r) => peer.close(() => r()));
  t.close();
  await done();
});

test('a datagram to a closed port on a connected endpoint reports ECONNREFUSED without closing it', async () => {
  const done = await trackFds();
  const closed = dgram.createSocket('udp4');
  await new Promise<void>((r) => closed.bind(0, '127.0.0.1', () => r()));
  const port = closed.address().port;
  await new Promise<void>((r) => closed.close(() => r()));
  const [t, p] = await createDatagramEndpoint(() => new Inbox(), { remote: { host: '127.0.0.1', port } });
  t.send('anyone?');
  await waitFor(() => p.errors.length > 0, 'the ICMP error');
  assert.equal((p.errors[0] as { code?: string }).code, 'ECONNREFUSED');
  assert.equal(t.isClosing, false, 'the endpoint stays open');
  t.close();
  await done();
});

test('an unconnected endpoint refuses to send without an address', async () => {
  const done = await trackFds();
  const [t] = await createDatagramEndpoint(() => new Inbox(), { local: { host: '127.0.0.1', port: 0 } });
  assert.throws(() => t.send('nowhere'), { code: 'ERR_INVALID_ARG' });
  t.close();
  await done();
});

test('UDP over IPv6 ::1 works when available', async (t) => {
  // probed with Node's net: a failure of evloop's own bind must fail here, not skip
  const skip = await requireIPv6();
  if (skip) return t.skip(skip);
  const [ta] = await createDatagramEndpoint(() => new Inbox(), { local: { host: '::1', port: 0 } });
  const [tb, b] = await createDatagramEndpoint(() => new Inbox(), { local: { host: '::1', port: 0 } });
  ta.send('v6', tb.localAddress);
  await waitFor(() => b.got.length === 1, 'the datagram');
  assert.equal(b.got[0]!.from.family, 'IPv6');
  ta.close();
  tb.close();
});

class FlowInbox extends Inbox {
  flow: string[] = [];
  pauseWriting() { this.flow.push(`pause@${this.t.bufferedAmount}`); }
  resumeWriting() { this.flow.push(`resume@${this.t.bufferedAmount}`); }
}

test('a UDP send queue pauses its protocol above the high-water mark and resumes at the low-water mark, not at empty', async () => {
  const done = await trackFds();
  const peer = dgram.createSocket('udp4');
  const got: string[] = [];
  peer.on('message', (m) => got.push(String(m).slice(0, 2)));
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  const [t, p] = await createDatagramEndpoint(() => new FlowInbox(), {
    remote: { host: '127.0.0.1', port: peer.address().port }, highWaterMark: 1000, lowWaterMark: 600,
  });
  try {
    assert.deepEqual(t.writeBufferLimits, { high: 1000, low: 600, max: 65536 });
    const gate = sendGate(() => t.fd);
    await withFaults(gate.plan, async () => {
      for (const tag of ['d1', 'd2', 'd3', 'd4']) t.send(tag + 'x'.repeat(598)); // 600 bytes each
      assert.equal(t.bufferedAmount, 2400, 'the kernel took nothing: all queued');
      assert.deepEqual(p.flow, ['pause@1200'], 'paused once, when the queue passed 1000 bytes');
      let drained = false;
      const d = t.drain().then(() => (drained = true));
      gate.allowCalls(2);
      await waitFor(() => t.bufferedAmount === 1200, 'two datagrams sent');
      await sleep(20);
      assert.equal(drained, false, 'drain() still waits at 1200 bytes (above the low-water mark)');
      gate.allowCalls(1);
      await waitFor(() => drained, 'drain() at the low-water mark');
      assert.equal(t.bufferedAmount, 600, 'drain() resolved with one datagram still queued');
      assert.deepEqual(p.flow, ['pause@1200', 'resume@600'], 'resumed at 600 bytes, not at 0');
      gate.allowCalls(10);
      await waitFor(() => t.bufferedAmount === 0, 'the queue empty');
      await d;
    });
    await waitFor(() => got.length === 4, 'every datagram at the peer');
    assert.deepEqual(got, ['d1', 'd2', 'd3', 'd4'], 'in order, none lost');
  } finally {
    t.close();
    await new Promise<void>((r) => peer.close(() => r()));
  }
  await done();
});

test('a send past maxQueuedBytes throws ERR_SEND_QUEUE_FULL and queues nothing; a pending drain() rejects on close', async () => {
  const done = await trackFds();
  const [t] = await createDatagramEndpoint(() => new FlowInbox(), {
    local: { host: '127.0.0.1', port: 0 }, highWaterMark: 1000, maxQueuedBytes: 2000,
  });
  const to = t.localAddress; // to itself: the datagrams would come back to datagramReceived
  try {
    const gate = sendGate(() => t.fd);
    await withFaults(gate.plan, async () => {
      t.send(Buffer.alloc(900), to);
      t.send(Buffer.alloc(900), to);
      assert.throws(() => t.send(Buffer.alloc(300), to), { code: 'ERR_SEND_QUEUE_FULL' });
      assert.equal(t.bufferedAmount, 1800, 'the refused datagram was not queued');
      t.send(Buffer.alloc(200), to); // exactly at the bound still fits
      assert.equal(t.bufferedAmount, 2000);
      const d = t.drain();
      t.close();
      await assert.rejects(d, { code: 'ERR_TRANSPORT_CLOSED' });
      await assert.rejects(t.drain(), { code: 'ERR_TRANSPORT_CLOSED' });
    });
  } finally {
    t.close();
  }
  await done();
});

test('datagram send limits are validated: 0 <= low <= high <= maxQueuedBytes', async () => {
  const done = await trackFds();
  const local = { host: '127.0.0.1', port: 0 };
  for (const bad of [{ highWaterMark: 100, lowWaterMark: 200 }, { highWaterMark: 1000, maxQueuedBytes: 999 }, { lowWaterMark: -1 }, { highWaterMark: 1.5 }]) {
    await assert.rejects(createDatagramEndpoint(() => new Inbox(), { local, ...bad }), { code: 'ERR_INVALID_ARG' }, JSON.stringify(bad));
  }
  const [t] = await createDatagramEndpoint(() => new Inbox(), { local });
  assert.deepEqual(t.writeBufferLimits, { high: 65536, low: 16384, max: 1 << 20 }, 'defaults: 64 KiB, 16 KiB, 1 MiB');
  t.close();
  await done();
});
