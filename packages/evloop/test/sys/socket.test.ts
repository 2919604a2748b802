import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  C, E, sys, check, SysError, socketpair,
  socket, bind, listen, accept, connect, getSocketError, getSockOptInt, setSockOptInt,
  setNoDelay, setKeepAlive, setReuseAddr, setReusePort, setV6Only, localAddress, remoteAddress,
  recv, send, writev, recvfrom, sendto, shutdown, close,
  withFaults, type SocketAddress, type PeerOut,
} from '../../src/sys/index.js';
import { requireIPv6 } from '../helpers/requires.js';

const openFdCount = () => readdirSync('/proc/self/fd').length;

/** Blocks up to `ms` for `events` on `fd`; returns revents (0 on timeout). */
function pollOnce(fd: number, events: number, ms = 2000): number {
  const pfd = Buffer.alloc(C.POLLFD_SIZE);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(events, 4);
  check(sys.poll(pfd, 1, ms), 'poll');
  return pfd.readInt16LE(6);
}

/** Tracks fds a test opens so they are closed even when an assertion fails. */
function fdScope() {
  const fds: number[] = [];
  return {
    add<T extends number>(fd: T): T { fds.push(fd); return fd; },
    closeAll() { for (const fd of fds.splice(0)) if (sys.fcntl(fd, C.F_GETFD) >= 0) close(fd); },
  };
}

/** Runs `body` with an fd scope, then checks every fd was closed. */
function withFds(body: (s: ReturnType<typeof fdScope>) => void): void {
  const before = openFdCount();
  const s = fdScope();
  try {
    body(s);
  } finally {
    s.closeAll();
  }
  assert.equal(openFdCount(), before, 'no fd leaked');
}

/** A listening TCP/unix socket and a connected, accepted pair. */
function connectedPair(s: ReturnType<typeof fdScope>, addr: SocketAddress) {
  const family = addr.family;
  const lfd = s.add(socket(family, 'stream'));
  if (family !== 'unix') setReuseAddr(lfd);
  bind(lfd, addr);
  listen(lfd, 16);
  const target = localAddress(lfd);
  const client = s.add(socket(family, 'stream'));
  const rc = connect(client, target);
  assert.ok(rc === 0 || rc === -E.EINPROGRESS, `connect gave ${rc}`);
  assert.ok(pollOnce(client, C.POLLOUT) & C.POLLOUT);
  assert.equal(getSocketError(client), 0);
  assert.ok(pollOnce(lfd, C.POLLIN) & C.POLLIN);
  const peer: PeerOut = { address: null };
  const server = accept(lfd, peer);
  assert.ok(server >= 0, `accept gave ${server}`);
  s.add(server);
  return { lfd, client, server, target, peer: peer.address };
}

/** A test body that needs the IPv6 loopback (probed with Node's net, not this bind): skipped without it, failed under CI. */
function withIPv6(body: () => void): (t: TestContext) => Promise<void> {
  return async (t) => {
    const skip = await requireIPv6();
    if (skip) return t.skip(skip);
    body();
  };
}

test('accept returns -EAGAIN when no connection is pending', () => withFds((s) => {
  const lfd = s.add(socket('IPv4', 'stream'));
  bind(lfd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(lfd);
  assert.equal(accept(lfd), -E.EAGAIN);
  const peer: PeerOut = { address: { family: 'unix', path: 'stale' } };
  assert.equal(accept(lfd, peer), -E.EAGAIN);
  assert.equal(peer.address, null);
}));

test('a non-blocking TCP connect over 127.0.0.1 is in progress, then completes with no SO_ERROR', () => withFds((s) => {
  const lfd = s.add(socket('IPv4', 'stream'));
  bind(lfd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(lfd);
  const target = localAddress(lfd);
  assert.ok(target.family === 'IPv4' && target.address === '127.0.0.1' && target.port > 0);
  const client = s.add(socket('IPv4', 'stream'));
  const rc = connect(client, target);
  assert.equal(rc, -E.EINPROGRESS);
  assert.ok(pollOnce(client, C.POLLOUT) & C.POLLOUT);
  assert.equal(getSocketError(client), 0);
  assert.deepEqual(remoteAddress(client), target);
}));

test('accept hands out a non-blocking close-on-exec fd and the peer address', () => withFds((s) => {
  const { client, server, peer, target } = connectedPair(s, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  assert.deepEqual(peer, localAddress(client));
  assert.deepEqual(localAddress(server), target);
  assert.ok(sys.fcntl(server, C.F_GETFL) & C.O_NONBLOCK);
  assert.ok(sys.fcntl(server, C.F_GETFD) & C.FD_CLOEXEC);
}));

test('send and recv move bytes over TCP and recv reports -EAGAIN when drained', () => withFds((s) => {
  const { client, server } = connectedPair(s, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  const buf = Buffer.alloc(64);
  assert.equal(recv(server, buf), -E.EAGAIN);
  assert.equal(send(client, Buffer.from('hello, evloop')), 13);
  assert.ok(pollOnce(server, C.POLLIN) & C.POLLIN);
  assert.equal(recv(server, buf), 13);
  assert.equal(buf.toString('utf8', 0, 13), 'hello, evloop');
  assert.equal(recv(server, buf), -E.EAGAIN);
}));

test('send and recv honour offset and length', () => withFds((s) => {
  const [a, b] = socketpair().map((fd) => s.add(fd)) as [number, number];
  assert.equal(send(a, Buffer.from('0123456789'), 3, 4), 4);
  const buf = Buffer.alloc(10, '.');
  assert.equal(recv(b, buf, 5, 2), 2);
  assert.equal(recv(b, buf, 1, 9), 2);
  assert.equal(buf.toString(), '.56..34...');
}));

test('TCP works over ::1 as well', withIPv6(() => withFds((s) => {
  const { client, server, peer, target } = connectedPair(s, { family: 'IPv6', address: '::1', port: 0 });
  assert.equal(target.family, 'IPv6');
  assert.ok(target.family === 'IPv6' && target.address === '::1');
  assert.deepEqual(peer, localAddress(client));
  assert.equal(send(server, Buffer.from('six')), 3);
  assert.ok(pollOnce(client, C.POLLIN) & C.POLLIN);
  const buf = Buffer.alloc(8);
  assert.equal(recv(client, buf), 3);
  assert.equal(buf.toString('utf8', 0, 3), 'six');
})));

test('connecting to a port nobody listens on surfaces as ECONNREFUSED', () => withFds((s) => {
  // Keep the port bound (but not listening) so no one else can take it during the test.
  const holder = s.add(socket('IPv4', 'stream'));
  bind(holder, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  const client = s.add(socket('IPv4', 'stream'));
  const rc = connect(client, localAddress(holder));
  if (rc === -E.EINPROGRESS) {
    assert.ok(pollOnce(client, C.POLLOUT) & (C.POLLOUT | C.POLLERR));
    const err = getSocketError(client);
    assert.equal(err, -E.ECONNREFUSED);
    assert.throws(() => check(err, 'connect'), (e: unknown) =>
      e instanceof SysError && e.code === 'ECONNREFUSED' && e.errno === E.ECONNREFUSED && e.syscall === 'connect');
    assert.equal(getSocketError(client), 0, 'reading SO_ERROR clears it');
  } else {
    assert.equal(rc, -E.ECONNREFUSED);
  }
}));

test('binding a taken port throws EADDRINUSE naming the address', () => withFds((s) => {
  const a = s.add(socket('IPv4', 'stream'));
  bind(a, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(a);
  const taken = localAddress(a);
  const b = s.add(socket('IPv4', 'stream'));
  assert.throws(() => bind(b, taken), (e: unknown) =>
    e instanceof SysError && e.code === 'EADDRINUSE' && e.syscall === 'bind' && e.message.includes('127.0.0.1:'));
}));

test('SO_REUSEPORT lets two listeners share one port', () => withFds((s) => {
  const a = s.add(socket('IPv4', 'stream'));
  setReusePort(a);
  bind(a, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(a);
  const b = s.add(socket('IPv4', 'stream'));
  setReusePort(b);
  bind(b, localAddress(a));
  listen(b);
  assert.deepEqual(localAddress(b), localAddress(a));
}));

test('shutdown for writing half-closes: the peer reads EOF and can still answer', () => withFds((s) => {
  const { client, server } = connectedPair(s, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  assert.equal(send(client, Buffer.from('last words')), 10);
  shutdown(client, 'write');
  const buf = Buffer.alloc(32);
  assert.ok(pollOnce(server, C.POLLIN) & C.POLLIN);
  assert.equal(recv(server, buf), 10);
  assert.ok(pollOnce(server, C.POLLIN) & C.POLLIN);
  assert.equal(recv(server, buf), 0, 'EOF');
  assert.equal(send(server, Buffer.from('reply')), 5);
  assert.ok(pollOnce(client, C.POLLIN) & C.POLLIN);
  assert.equal(recv(client, buf), 5);
  assert.equal(buf.toString('utf8', 0, 5), 'reply');
  assert.equal(send(client, Buffer.from('x')), -E.EPIPE, 'no more writing after shutdown');
}));

test('shutdown of an unconnected socket throws ENOTCONN', () => withFds((s) => {
  const fd = s.add(socket('IPv4', 'stream'));
  assert.throws(() => shutdown(fd, 'both'), { code: 'ENOTCONN', syscall: 'shutdown' });
  assert.throws(() => remoteAddress(fd), { code: 'ENOTCONN', syscall: 'getpeername' });
}));

test('send to a closed peer returns -EPIPE instead of raising SIGPIPE', () => withFds((s) => {
  const [a, b] = socketpair().map((fd) => s.add(fd)) as [number, number];
  close(b);
  assert.equal(send(a, Buffer.from('anyone?')), -E.EPIPE);
}));

test('send and sendto always pass MSG_NOSIGNAL (Node ignores SIGPIPE, but embedders may not)', () => withFds((s) => {
  const [a, b] = socketpair().map((fd) => s.add(fd)) as [number, number];
  const u = s.add(socket('IPv4', 'dgram'));
  bind(u, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  const flags: number[] = [];
  const spy = (_n: number, args: readonly unknown[]) => { flags.push(args[3] as number); return 'pass' as const; };
  withFaults({ send: spy, sendto: spy }, () => {
    assert.equal(send(a, Buffer.from('x'), 0, 1, C.MSG_DONTWAIT), 1);
    assert.equal(sendto(u, Buffer.from('y'), 0, 1, localAddress(u)), 1);
  });
  assert.deepEqual(flags, [C.MSG_DONTWAIT | C.MSG_NOSIGNAL, C.MSG_NOSIGNAL]);
  assert.equal(recv(b, Buffer.alloc(1)), 1);
  assert.equal(recvfrom(u, Buffer.alloc(1)), 1);
}));

test('writev sends many buffers, including empty ones and views with offsets, in one call', () => withFds((s) => {
  const [a, b] = socketpair().map((fd) => s.add(fd)) as [number, number];
  const backing = Buffer.from('..abc..');
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    chunks.push(Buffer.from(`<${i}>`), Buffer.alloc(0), backing.subarray(2, 5));
  }
  const expected = Buffer.concat(chunks);
  assert.equal(writev(a, chunks), expected.length);
  const got = Buffer.alloc(expected.length + 10);
  assert.equal(recv(b, got), expected.length);
  assert.deepEqual(got.subarray(0, expected.length), expected);
}));

test('writev takes at most IOV_MAX buffers per call', () => withFds((s) => {
  const [a, b] = socketpair().map((fd) => s.add(fd)) as [number, number];
  const chunks = Array.from({ length: C.IOV_MAX + 500 }, (_, i) => Buffer.from([i & 0xff]));
  assert.equal(writev(a, chunks), C.IOV_MAX);
  const got = Buffer.alloc(C.IOV_MAX + 500);
  assert.equal(recv(b, got), C.IOV_MAX);
  assert.deepEqual(got.subarray(0, C.IOV_MAX), Buffer.concat(chunks.slice(0, C.IOV_MAX)));
}));

test('writev into a full socket writes a prefix, then returns -EAGAIN', () => withFds((s) => {
  const [a, b] = socketpair().map((fd) => s.add(fd)) as [number, number];
  setSockOptInt(a, C.SOL_SOCKET, C.SO_SNDBUF, 4096);
  const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const n = writev(a, chunks);
  assert.ok(n > 0 && n < total, `wrote ${n} of ${total}`);
  assert.equal(writev(a, chunks), -E.EAGAIN);
  const got = Buffer.alloc(n);
  let read = 0;
  while (read < n) {
    const r = recv(b, got, read);
    assert.ok(r > 0, `recv gave ${r}`);
    read += r;
  }
  assert.deepEqual(got, Buffer.concat(chunks).subarray(0, n));
}));

test('unix stream sockets connect over a filesystem path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evloop-sock-'));
  try {
    withFds((s) => {
      const path = join(dir, 's.sock');
      const { client, server, peer, target } = connectedPair(s, { family: 'unix', path });
      assert.deepEqual(target, { family: 'unix', path });
      assert.ok(existsSync(path));
      assert.deepEqual(peer, { family: 'unix', path: '' }, 'an unbound client is unnamed');
      assert.deepEqual(remoteAddress(client), { family: 'unix', path });
      assert.equal(send(client, Buffer.from('unix')), 4);
      const buf = Buffer.alloc(8);
      assert.ok(pollOnce(server, C.POLLIN) & C.POLLIN);
      assert.equal(recv(server, buf), 4);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unix sockets work in the abstract namespace', () => withFds((s) => {
  const path = `\0evloop-test-${process.pid}-${Date.now()}`;
  const { client, server, target } = connectedPair(s, { family: 'unix', path });
  assert.deepEqual(target, { family: 'unix', path });
  assert.equal(send(server, Buffer.from('abstract')), 8);
  const buf = Buffer.alloc(8);
  assert.ok(pollOnce(client, C.POLLIN) & C.POLLIN);
  assert.equal(recv(client, buf), 8);
  assert.equal(buf.toString(), 'abstract');
}));

test('UDP datagrams keep their boundaries and carry the sender address', () => withFds((s) => {
  const a = s.add(socket('IPv4', 'dgram'));
  const b = s.add(socket('IPv4', 'dgram'));
  bind(a, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  bind(b, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  const buf = Buffer.alloc(64);
  const from: PeerOut = { address: null };
  assert.equal(recvfrom(b, buf, 0, buf.length, from), -E.EAGAIN);
  assert.equal(from.address, null);
  assert.equal(sendto(a, Buffer.from('xxping'), 2, 4, localAddress(b)), 4);
  assert.equal(sendto(a, Buffer.from('pong!'), 0, 5, localAddress(b)), 5);
  assert.ok(pollOnce(b, C.POLLIN) & C.POLLIN);
  assert.equal(recvfrom(b, buf, 0, buf.length, from), 4);
  assert.equal(buf.toString('utf8', 0, 4), 'ping');
  assert.deepEqual(from.address, localAddress(a));
  assert.equal(recvfrom(b, buf, 10, 3), 3, 'a datagram longer than the buffer is truncated');
  assert.equal(buf.toString('utf8', 10, 13), 'pon');
  assert.equal(recvfrom(b, buf), -E.EAGAIN, 'the truncated rest is gone');
}));

test('UDP works over ::1 as well', withIPv6(() => withFds((s) => {
  const a = s.add(socket('IPv6', 'dgram'));
  const b = s.add(socket('IPv6', 'dgram'));
  bind(a, { family: 'IPv6', address: '::1', port: 0 });
  bind(b, { family: 'IPv6', address: '::1', port: 0 });
  assert.equal(sendto(a, Buffer.from('v6'), 0, 2, localAddress(b)), 2);
  assert.ok(pollOnce(b, C.POLLIN) & C.POLLIN);
  const from: PeerOut = { address: null };
  const buf = Buffer.alloc(8);
  assert.equal(recvfrom(b, buf, 0, 8, from), 2);
  assert.deepEqual(from.address, localAddress(a));
})));

test('socket options read back what was set', () => withFds((s) => {
  const fd = s.add(socket('IPv4', 'stream'));
  assert.equal(getSockOptInt(fd, C.SOL_SOCKET, C.SO_TYPE), C.SOCK_STREAM);
  setNoDelay(fd);
  assert.equal(getSockOptInt(fd, C.IPPROTO_TCP, C.TCP_NODELAY), 1);
  setNoDelay(fd, false);
  assert.equal(getSockOptInt(fd, C.IPPROTO_TCP, C.TCP_NODELAY), 0);
  setKeepAlive(fd, true, 42);
  assert.equal(getSockOptInt(fd, C.SOL_SOCKET, C.SO_KEEPALIVE), 1);
  assert.equal(getSockOptInt(fd, C.IPPROTO_TCP, C.TCP_KEEPIDLE), 42);
  setKeepAlive(fd, false);
  assert.equal(getSockOptInt(fd, C.SOL_SOCKET, C.SO_KEEPALIVE), 0);
  assert.throws(() => setKeepAlive(fd, true, 0), { code: 'ERR_INVALID_ARG' });
  setReuseAddr(fd);
  assert.equal(getSockOptInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR), 1);
  setReusePort(fd);
  assert.equal(getSockOptInt(fd, C.SOL_SOCKET, C.SO_REUSEPORT), 1);
  setSockOptInt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 8192);
  assert.ok(getSockOptInt(fd, C.SOL_SOCKET, C.SO_RCVBUF) >= 8192, 'the kernel doubles SO_RCVBUF');
  assert.throws(() => getSockOptInt(fd, C.SOL_SOCKET, 9999), { code: 'ENOPROTOOPT', syscall: 'getsockopt' });
}));

test('IPV6_V6ONLY reads back on an IPv6 socket', withIPv6(() => withFds((s) => {
  const fd = s.add(socket('IPv6', 'stream'));
  setV6Only(fd, true);
  assert.equal(getSockOptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY), 1);
  setV6Only(fd, false);
  assert.equal(getSockOptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY), 0);
})));

test('every socket is non-blocking and close-on-exec', () => withFds((s) => {
  for (const [family, type] of [['IPv4', 'stream'], ['IPv4', 'dgram'], ['unix', 'stream'], ['unix', 'dgram']] as const) {
    const fd = s.add(socket(family, type));
    assert.ok(sys.fcntl(fd, C.F_GETFL) & C.O_NONBLOCK, `${family} ${type} non-blocking`);
    assert.ok(sys.fcntl(fd, C.F_GETFD) & C.FD_CLOEXEC, `${family} ${type} cloexec`);
  }
}));

test('bad arguments are refused before any system call', () => withFds((s) => {
  assert.throws(() => socket('IPv4', 'raw' as 'stream'), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => socket('ipx' as 'IPv4', 'stream'), { code: 'ERR_INVALID_ADDRESS' });
  const fd = s.add(socket('IPv4', 'stream'));
  assert.throws(() => connect(fd, { family: 'IPv4', address: '300.0.0.1', port: 80 }), { code: 'ERR_INVALID_ADDRESS' });
  assert.throws(() => bind(fd, { family: 'IPv4', address: '127.0.0.1', port: 70000 }), { code: 'ERR_INVALID_ADDRESS' });
  assert.throws(() => shutdown(fd, 'sideways' as 'read'), { code: 'ERR_INVALID_ARG' });
}));

test('calls on a closed fd fail with EBADF in both conventions', () => {
  const before = openFdCount();
  const fd = socket('IPv4', 'stream');
  close(fd);
  assert.equal(accept(fd), -E.EBADF);
  assert.equal(recv(fd, Buffer.alloc(1)), -E.EBADF);
  assert.equal(writev(fd, [Buffer.from('x')]), -E.EBADF);
  assert.throws(() => listen(fd), { code: 'EBADF', syscall: 'listen' });
  assert.throws(() => close(fd), { code: 'EBADF' });
  assert.equal(openFdCount(), before);
});
