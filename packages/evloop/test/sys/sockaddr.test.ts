import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import {
  C, encodeSockaddr, decodeSockaddr, sockaddrStorage, familyConstant, formatSocketAddress,
  type SocketAddress,
} from '../../src/sys/index.js';

const openFdCount = () => readdirSync('/proc/self/fd').length;
const fdsAtStart = openFdCount();

function roundTrip(addr: SocketAddress): { len: number; bytes: Buffer; back: SocketAddress } {
  const buf = sockaddrStorage();
  const len = encodeSockaddr(addr, buf);
  return { len, bytes: buf.subarray(0, len), back: decodeSockaddr(buf, len) };
}

test('an IPv4 address encodes as sockaddr_in with the port in network order', () => {
  const { len, bytes, back } = roundTrip({ family: 'IPv4', address: '192.168.1.20', port: 0x1f90 });
  assert.equal(len, C.SOCKADDR_IN_SIZE);
  assert.equal(bytes.readUInt16LE(0), C.AF_INET);
  assert.deepEqual([...bytes.subarray(2, 8)], [0x1f, 0x90, 192, 168, 1, 20]);
  assert.deepEqual([...bytes.subarray(8, 16)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(back, { family: 'IPv4', address: '192.168.1.20', port: 8080 });
});

test('IPv4 edge values survive a round trip', () => {
  for (const [address, port] of [['0.0.0.0', 0], ['255.255.255.255', 65535], ['127.0.0.1', 1]] as const) {
    assert.deepEqual(roundTrip({ family: 'IPv4', address, port }).back, { family: 'IPv4', address, port });
  }
});

test('an IPv6 address encodes as sockaddr_in6 and decodes to its canonical text', () => {
  const { len, bytes, back } = roundTrip({ family: 'IPv6', address: '2001:DB8:0:0:0:0:0:1', port: 443, flowinfo: 5, scopeid: 3 });
  assert.equal(len, C.SOCKADDR_IN6_SIZE);
  assert.equal(bytes.readUInt16LE(0), C.AF_INET6);
  assert.equal(bytes.readUInt16BE(2), 443);
  assert.equal(bytes.readUInt32BE(4), 5);
  assert.deepEqual([...bytes.subarray(8, 12)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(bytes.readUInt32LE(24), 3);
  assert.deepEqual(back, { family: 'IPv6', address: '2001:db8::1', port: 443, flowinfo: 5, scopeid: 3 });
});

test('IPv6 text follows RFC 5952: longest zero run compressed, first on ties, single zeros kept', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['fe80:0000:0000:0000:0202:b3ff:fe1e:8329', 'fe80::202:b3ff:fe1e:8329'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::FFFF:7f00:1', '::ffff:127.0.0.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, canonical] of cases) {
    const { back } = roundTrip({ family: 'IPv6', address: input, port: 1 });
    assert.equal(back.family === 'IPv6' ? back.address : undefined, canonical, input);
  }
});

test('any 16 bytes format to valid IPv6 text that encodes back to the same bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(65535), (ip, port) => {
    const buf = sockaddrStorage();
    buf.writeUInt16LE(C.AF_INET6, 0);
    buf.writeUInt16BE(port, 2);
    buf.set(ip, 8);
    const addr = decodeSockaddr(buf, C.SOCKADDR_IN6_SIZE);
    assert.equal(addr.family, 'IPv6');
    if (addr.family !== 'IPv6') return;
    assert.ok(isIPv6(addr.address), addr.address);
    const again = sockaddrStorage();
    encodeSockaddr(addr, again);
    assert.deepEqual(again.subarray(0, C.SOCKADDR_IN6_SIZE), buf.subarray(0, C.SOCKADDR_IN6_SIZE));
  }));
});

test('a numeric IPv6 zone sets the scope id', () => {
  const { back } = roundTrip({ family: 'IPv6', address: 'fe80::1%7', port: 9 });
  assert.deepEqual(back, { family: 'IPv6', address: 'fe80::1', port: 9, flowinfo: 0, scopeid: 7 });
});

test('a named IPv6 zone is looked up as a network interface', () => {
  const { back } = roundTrip({ family: 'IPv6', address: 'fe80::1%lo', port: 9 });
  assert.equal(back.family === 'IPv6' && back.scopeid! > 0, true);
  assert.throws(() => roundTrip({ family: 'IPv6', address: 'fe80::1%nosuchif0', port: 9 }), { code: 'ERR_INVALID_ADDRESS' });
});

test('a unix path encodes with its terminating NUL and decodes back', () => {
  const { len, bytes, back } = roundTrip({ family: 'unix', path: '/tmp/evloop.sock' });
  assert.equal(len, C.SOCKADDR_UN_PATH_OFFSET + 16 + 1);
  assert.equal(bytes.readUInt16LE(0), C.AF_UNIX);
  assert.equal(bytes[len - 1], 0);
  assert.deepEqual(back, { family: 'unix', path: '/tmp/evloop.sock' });
});

test('an abstract unix name keeps its leading NUL and has no terminator', () => {
  const { len, back } = roundTrip({ family: 'unix', path: '\0evloop-test' });
  assert.equal(len, C.SOCKADDR_UN_PATH_OFFSET + 12);
  assert.deepEqual(back, { family: 'unix', path: '\0evloop-test' });
});

test('an unnamed unix address is just the family', () => {
  const { len, back } = roundTrip({ family: 'unix', path: '' });
  assert.equal(len, C.SOCKADDR_UN_PATH_OFFSET);
  assert.deepEqual(back, { family: 'unix', path: '' });
});

test('unix paths up to the limit are accepted, longer ones refused', () => {
  const longest = '/' + 'a'.repeat(C.SOCKADDR_UN_PATH_MAX - 2);
  assert.deepEqual(roundTrip({ family: 'unix', path: longest }).back, { family: 'unix', path: longest });
  assert.throws(() => roundTrip({ family: 'unix', path: longest + 'b' }), { code: 'ERR_INVALID_ADDRESS' });
  const abstract = '\0' + 'x'.repeat(C.SOCKADDR_UN_PATH_MAX - 1);
  assert.deepEqual(roundTrip({ family: 'unix', path: abstract }).back, { family: 'unix', path: abstract });
  assert.throws(() => roundTrip({ family: 'unix', path: abstract + 'x' }), { code: 'ERR_INVALID_ADDRESS' });
  // multi-byte characters count in bytes
  assert.throws(() => roundTrip({ family: 'unix', path: '/' + 'é'.repeat(60) }), { code: 'ERR_INVALID_ADDRESS' });
});

test('invalid addresses are refused with ERR_INVALID_ADDRESS', () => {
  const bad: unknown[] = [
    { family: 'IPv4', address: '256.1.1.1', port: 1 },
    { family: 'IPv4', address: '1.2.3', port: 1 },
    { family: 'IPv4', address: 'localhost', port: 1 },
    { family: 'IPv4', address: '::1', port: 1 },
    { family: 'IPv6', address: '127.0.0.1', port: 1 },
    { family: 'IPv6', address: '1:::2', port: 1 },
    { family: 'IPv6', address: '[::1]', port: 1 },
    { family: 'IPv4', address: '127.0.0.1', port: -1 },
    { family: 'IPv4', address: '127.0.0.1', port: 65536 },
    { family: 'IPv4', address: '127.0.0.1', port: 1.5 },
    { family: 'IPv4', address: '127.0.0.1', port: NaN },
    { family: 'IPv4', address: '127.0.0.1', port: '80' },
    { family: 'IPv6', address: '::1', port: 1, flowinfo: -1 },
    { family: 'IPv6', address: '::1', port: 1, scopeid: 2 ** 32 },
    { family: 'unix', path: '/tmp/a\0b' },
    { family: 'unix', path: 42 },
    { family: 'AppleTalk', address: 'x', port: 1 },
    null,
  ];
  for (const addr of bad) {
    assert.throws(() => encodeSockaddr(addr as SocketAddress, sockaddrStorage()), { code: 'ERR_INVALID_ADDRESS' }, JSON.stringify(addr));
  }
});

test('encoding into a buffer smaller than sockaddr_storage is refused', () => {
  assert.throws(() => encodeSockaddr({ family: 'IPv4', address: '1.2.3.4', port: 1 }, Buffer.alloc(16)), { code: 'ERR_INVALID_ARG' });
});

test('decoding an unknown family or a truncated address is refused', () => {
  const buf = sockaddrStorage();
  buf.writeUInt16LE(99, 0);
  assert.throws(() => decodeSockaddr(buf, 16), { code: 'ERR_INVALID_ADDRESS' });
  buf.writeUInt16LE(C.AF_INET6, 0);
  assert.throws(() => decodeSockaddr(buf, C.SOCKADDR_IN_SIZE), { code: 'ERR_INVALID_ADDRESS' });
  assert.throws(() => decodeSockaddr(buf, 1), { code: 'ERR_INVALID_ADDRESS' });
  assert.throws(() => decodeSockaddr(buf, 1000), { code: 'ERR_INVALID_ADDRESS' });
});

test('encoding reuses one buffer without leftovers from a longer address', () => {
  const buf = sockaddrStorage();
  encodeSockaddr({ family: 'IPv6', address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 }, buf);
  const len = encodeSockaddr({ family: 'IPv4', address: '10.0.0.1', port: 80 }, buf);
  assert.deepEqual([...buf.subarray(8, 16)], [0, 0, 0, 0, 0, 0, 0, 0], 'sin_zero cleared');
  assert.deepEqual(decodeSockaddr(buf, len), { family: 'IPv4', address: '10.0.0.1', port: 80 });
});

test('family names map to AF constants and addresses print in their usual form', () => {
  assert.equal(familyConstant('IPv4'), C.AF_INET);
  assert.equal(familyConstant('IPv6'), C.AF_INET6);
  assert.equal(familyConstant('unix'), C.AF_UNIX);
  assert.equal(formatSocketAddress({ family: 'IPv4', address: '1.2.3.4', port: 5 }), '1.2.3.4:5');
  assert.equal(formatSocketAddress({ family: 'IPv6', address: '::1', port: 5 }), '[::1]:5');
  assert.equal(formatSocketAddress({ family: 'unix', path: '\0name' }), '@name');
});

test('the sockaddr module opened no file descriptors', () => {
  assert.equal(openFdCount(), fdsAtStart);
});
