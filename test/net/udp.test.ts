import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { createDatagramEndpoint, type DatagramProtocol, type DatagramTransport } from '../../src/net/udp.js';
import type { SocketAddress } from '../../src/sys/index.js';
import { requireIPv6 } from '../helpers/requires.js';
import { trackFds, waitFor } from './helpers.js';

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
