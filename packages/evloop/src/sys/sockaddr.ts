/**
 * Socket addresses as plain objects, and their C encodings: `struct sockaddr_in`,
 * `sockaddr_in6` and `sockaddr_un`. Encoding writes into a caller-owned Buffer (reuse one per
 * socket or per call site: connect/sendto sit on hot paths) and returns the length to pass as
 * `socklen_t`; decoding reads a `sockaddr_storage` buffer plus the length the kernel returned.
 *
 * IP strings are validated with node:net and their bytes written here. Ports are network order,
 * `sa_family` and `sin6_scope_id` host order, `sin6_flowinfo` network order (as in the kernel).
 * Invalid addresses throw EvloopError `ERR_INVALID_ADDRESS`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { EvloopError } from '../errors.js';
import { C } from './constants/index.js';
import { sys } from './ffi.js';

/**
 * A socket address. IPv6 may carry a flow label (`flowinfo`) and a scope (`scopeid`, the
 * interface index of a link-local address; `'fe80::1%eth0'` is also accepted as `address`).
 * A unix `path` starting with `'\0'` is in Linux's abstract namespace; `''` is unnamed
 * (binding it asks the kernel to pick an abstract name).
 */
export type SocketAddress =
  | { family: 'IPv4'; address: string; port: number }
  | { family: 'IPv6'; address: string; port: number; flowinfo?: number; scopeid?: number }
  | { family: 'unix'; path: string };

/** The address families evloop speaks. */
export type AddressFamily = SocketAddress['family'];

/**
 * A Buffer big enough for any socket address (`sockaddr_storage`).
 *
 * @example
 * const storage = sockaddrStorage();
 * const len = encodeSockaddr({ family: 'IPv4', address: '127.0.0.1', port: 80 }, storage);
 */
export function sockaddrStorage(): Buffer {
  return Buffer.alloc(C.SOCKADDR_STORAGE_SIZE);
}

/** The `AF_*` constant of a family name. @example familyConstant('IPv6') === C.AF_INET6 */
export function familyConstant(family: AddressFamily): number {
  switch (family) {
    case 'IPv4': return C.AF_INET;
    case 'IPv6': return C.AF_INET6;
    case 'unix': return C.AF_UNIX;
    default: throw invalid(`unknown address family ${String(family)}`);
  }
}

function invalid(message: string): EvloopError {
  return new EvloopError('ERR_INVALID_ADDRESS', message);
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw invalid(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return port;
}

function checkU32(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw invalid(`${name} must be an unsigned 32-bit integer, got ${String(v)}`);
  }
  return v;
}

/**
 * Writes `addr` as a C sockaddr into `out` (at least `C.SOCKADDR_STORAGE_SIZE` bytes) and
 * returns its length. Throws ERR_INVALID_ADDRESS for a bad IP string, port or unix path.
 *
 * @example
 * const len = encodeSockaddr({ family: 'unix', path: '/tmp/s.sock' }, storage);
 * check(sys.connect(fd, storage, len), 'connect');
 */
export function encodeSockaddr(addr: SocketAddress, out: Uint8Array): number {
  if (out.byteLength < C.SOCKADDR_STORAGE_SIZE) {
    throw new EvloopError('ERR_INVALID_ARG', `sockaddr buffer must hold ${C.SOCKADDR_STORAGE_SIZE} bytes`);
  }
  const view = new DataView(out.buffer, out.byteOffset, C.SOCKADDR_STORAGE_SIZE);
  if (addr === null || typeof addr !== 'object') throw invalid(`not a socket address: ${String(addr)}`);
  switch (addr.family) {
    case 'IPv4': {
      const port = checkPort(addr.port);
      if (typeof addr.address !== 'string' || !isIPv4(addr.address)) throw invalid(`invalid IPv4 address ${String(addr.address)}`);
      out.fill(0, 0, C.SOCKADDR_IN_SIZE); // sin_zero must be zero
      view.setUint16(0, C.AF_INET, true);
      view.setUint16(C.SOCKADDR_PORT_OFFSET, port, false);
      writeIPv4(addr.address, out, C.SOCKADDR_IN_ADDR_OFFSET);
      return C.SOCKADDR_IN_SIZE;
    }
    case 'IPv6': {
      const port = checkPort(addr.port);
      if (typeof addr.address !== 'string' || !isIPv6(addr.address)) throw invalid(`invalid IPv6 address ${String(addr.address)}`);
      const [ip, zone] = splitZone(addr.address);
      let scopeid = checkU32('scopeid', addr.scopeid);
      if (zone !== undefined) scopeid = zoneIndex(zone);
      out.fill(0, 0, C.SOCKADDR_IN6_SIZE);
      view.setUint16(0, C.AF_INET6, true);
      view.setUint16(C.SOCKADDR_PORT_OFFSET, port, false);
      view.setUint32(C.SOCKADDR_IN6_FLOWINFO_OFFSET, checkU32('flowinfo', addr.flowinfo), false);
      writeIPv6(ip, out, C.SOCKADDR_IN6_ADDR_OFFSET);
      view.setUint32(C.SOCKADDR_IN6_SCOPE_ID_OFFSET, scopeid, true);
      return C.SOCKADDR_IN6_SIZE;
    }
    case 'unix': {
      const path = addr.path;
      if (typeof path !== 'string') throw invalid(`unix path must be a string, got ${typeof path}`);
      const abstract = path.length > 0 && path.charCodeAt(0) === 0;
      if (!abstract && path.includes('\0')) throw invalid('unix path contains a NUL byte');
      const bytes = Buffer.byteLength(path, 'utf8');
      // A filesystem path needs room for its terminating NUL; an abstract name uses every byte.
      const max = abstract ? C.SOCKADDR_UN_PATH_MAX : C.SOCKADDR_UN_PATH_MAX - 1;
      if (bytes > max) throw invalid(`unix path is ${bytes} bytes, the limit is ${max}`);
      view.setUint16(0, C.AF_UNIX, true);
      const start = C.SOCKADDR_UN_PATH_OFFSET;
      Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(path, start, 'utf8');
      if (abstract || bytes === 0) return start + bytes;
      out[start + bytes] = 0;
      return start + bytes + 1;
    }
    default:
      throw invalid(`unknown address family ${String((addr as { family: unknown }).family)}`);
  }
}

/**
 * Reads a C sockaddr of `len` bytes (as returned by accept4/getsockname/recvfrom).
 * Throws ERR_INVALID_ADDRESS for an unknown family or a truncated address.
 *
 * @example
 * const addr = decodeSockaddr(storage, lenBuf[0]); // { family: 'IPv4', address: '127.0.0.1', port: 41234 }
 */
export function decodeSockaddr(buf: Uint8Array, len: number): SocketAddress {
  if (len < 2 || len > buf.byteLength) throw invalid(`sockaddr length ${len} is out of range`);
  const view = new DataView(buf.buffer, buf.byteOffset, len);
  const family = view.getUint16(0, true);
  if (family === C.AF_INET) {
    if (len < C.SOCKADDR_IN_SIZE) throw invalid(`truncated sockaddr_in (${len} bytes)`);
    const a = C.SOCKADDR_IN_ADDR_OFFSET;
    return {
      family: 'IPv4',
      address: `${buf[a]}.${buf[a + 1]}.${buf[a + 2]}.${buf[a + 3]}`,
      port: view.getUint16(C.SOCKADDR_PORT_OFFSET, false),
    };
  }
  if (family === C.AF_INET6) {
    if (len < C.SOCKADDR_IN6_SIZE) throw invalid(`truncated sockaddr_in6 (${len} bytes)`);
    return {
      family: 'IPv6',
      address: formatIPv6(buf, C.SOCKADDR_IN6_ADDR_OFFSET),
      port: view.getUint16(C.SOCKADDR_PORT_OFFSET, false),
      flowinfo: view.getUint32(C.SOCKADDR_IN6_FLOWINFO_OFFSET, false),
      scopeid: view.getUint32(C.SOCKADDR_IN6_SCOPE_ID_OFFSET, true),
    };
  }
  if (family === C.AF_UNIX) {
    const start = C.SOCKADDR_UN_PATH_OFFSET;
    const b = Buffer.from(buf.buffer, buf.byteOffset, len);
    if (len === start) return { family: 'unix', path: '' }; // unnamed (e.g. a connecting client)
    if (b[start] === 0) return { family: 'unix', path: b.toString('utf8', start, len) }; // abstract: every byte counts
    const nul = b.indexOf(0, start);
    return { family: 'unix', path: b.toString('utf8', start, nul < 0 ? len : nul) };
  }
  throw invalid(`unsupported address family ${family}`);
}

/** A short human form: `127.0.0.1:80`, `[::1]:80`, `/tmp/s.sock`, `@abstract`. */
export function formatSocketAddress(addr: SocketAddress): string {
  if (addr.family === 'unix') return addr.path.startsWith('\0') ? `@${addr.path.slice(1)}` : addr.path;
  return addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
}

function writeIPv4(ip: string, out: Uint8Array, at: number): void {
  let part = 0;
  let n = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) { out[at + part++] = n; n = 0; } else n = n * 10 + (c - 0x30);
  }
  out[at + part] = n;
}

function splitZone(address: string): [string, string | undefined] {
  const pct = address.indexOf('%');
  return pct < 0 ? [address, undefined] : [address.slice(0, pct), address.slice(pct + 1)];
}

function zoneIndex(zone: string): number {
  if (/^[0-9]+$/.test(zone)) return checkU32('scope id', Number(zone));
  const index = sys.if_nametoindex(zone);
  if (index <= 0) throw invalid(`unknown network interface ${zone} in IPv6 zone`);
  return index;
}

/** Writes the 16 bytes of an IPv6 address already validated by isIPv6 (no zone). */
function writeIPv6(ip: string, out: Uint8Array, at: number): void {
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const parts = s.split(':');
    const words: number[] = [];
    for (const p of parts) {
      if (p.includes('.')) {
        const v4 = new Uint8Array(4);
        writeIPv4(p, v4, 0);
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else words.push(parseInt(p, 16));
    }
    return words;
  };
  const gap = ip.indexOf('::');
  let words: number[];
  if (gap < 0) words = groups(ip);
  else {
    const head = groups(ip.slice(0, gap));
    const tail = groups(ip.slice(gap + 2));
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  for (let i = 0; i < 8; i++) {
    out[at + 2 * i] = words[i]! >> 8;
    out[at + 2 * i + 1] = words[i]! & 0xff;
  }
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
function formatIPv6(b: Uint8Array, at: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted tail, as inet_ntop and Node print it.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}
