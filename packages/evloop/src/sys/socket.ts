/**
 * Socket helpers for the networking layer: thin, documented wrappers over the socket calls.
 *
 * Two kinds, by how often they run:
 * - **Checked** (throw SysError, or EvloopError ERR_INVALID_ADDRESS for a bad address):
 *   `socket`, `bind`, `listen`, `getSocketError` (the getsockopt itself), `getSockOptInt`,
 *   `setSockOptInt`, `setNoDelay`, `setKeepAlive`, `setReuseAddr`, `setReusePort`,
 *   `setV6Only`, `localAddress`, `remoteAddress`, `shutdown`, `close`.
 * - **Hot paths** (return the result, or `-errno`; they never throw for a failed call):
 *   `accept`, `connect`, `recv`, `send`, `writev`, `recvfrom`, `sendto`. Callers compare
 *   `-rc` with `E.EAGAIN`, `E.EINTR`, `E.EINPROGRESS` …, and use `check(rc, 'send')` for
 *   anything they do not handle. `getSocketError` also returns `-errno` (0 when none).
 *
 * Every socket is created with SOCK_NONBLOCK | SOCK_CLOEXEC, and every send uses MSG_NOSIGNAL
 * so a closed peer gives EPIPE instead of killing the process with SIGPIPE.
 * All calls go through `sys.x(...)` so fault.ts can inject failures underneath.
 */
import koffi from 'koffi';
import { EvloopError } from '../errors.js';
import { C } from './constants/index.js';
import { sys } from './ffi.js';
import { check } from './sys-error.js';
import { decodeSockaddr, encodeSockaddr, familyConstant, formatSocketAddress, type AddressFamily, type SocketAddress } from './sockaddr.js';

export { close } from './fds.js';

/** Stream (TCP, unix stream) or datagram (UDP, unix datagram). */
export type SocketType = 'stream' | 'dgram';

/** Out-parameter for calls that can report the peer's address without allocating otherwise. */
export interface PeerOut {
  address: SocketAddress | null;
}

// Scratch memory reused by every call (single-threaded; no call here re-enters another).
const addrBuf = Buffer.alloc(C.SOCKADDR_STORAGE_SIZE);
const lenBuf = new Uint32Array(1); // socklen_t
const intBuf = new Int32Array(1);
const iov = new BigUint64Array((C.IOV_MAX * C.IOVEC_SIZE) / 8);

/**
 * Creates a non-blocking, close-on-exec socket. Throws SysError (EMFILE, EAFNOSUPPORT …).
 *
 * @example
 * const fd = socket('IPv4', 'stream');
 */
export function socket(family: AddressFamily, type: SocketType): number {
  const t = type === 'stream' ? C.SOCK_STREAM : type === 'dgram' ? C.SOCK_DGRAM : badArg('type', type);
  return check(sys.socket(familyConstant(family), t | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0), 'socket');
}

function badArg(name: string, v: unknown): never {
  throw new EvloopError('ERR_INVALID_ARG', `invalid ${name}: ${String(v)}`);
}

/**
 * Binds a socket to an address (port 0 picks a free port; read it back with `localAddress`).
 * Throws SysError (EADDRINUSE, EACCES …).
 *
 * @example
 * bind(fd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
 */
export function bind(fd: number, addr: SocketAddress): void {
  const len = encodeSockaddr(addr, addrBuf);
  check(sys.bind(fd, addrBuf, len), 'bind', formatSocketAddress(addr));
}

/**
 * Marks a stream socket as accepting connections. Throws SysError.
 *
 * @example
 * listen(fd, 511);
 */
export function listen(fd: number, backlog: number = C.SOMAXCONN): void {
  check(sys.listen(fd, backlog), 'listen');
}

/**
 * Accepts one pending connection: returns the new fd (non-blocking, close-on-exec) or `-errno`
 * (`-E.EAGAIN` when none is pending). Hot path: call it in a loop until EAGAIN; on EMFILE or
 * ENFILE stop accepting for a while, or level-triggered polling spins. With `peer`, the peer's
 * address is decoded into `peer.address` (null when accept failed or the address is unknown).
 *
 * @example
 * for (;;) { const c = accept(lfd); if (c < 0) { if (-c === E.EAGAIN) break; ... } onConnection(c); }
 */
export function accept(fd: number, peer?: PeerOut): number {
  if (peer === undefined) return sys.accept4(fd, null, null, C.SOCK_NONBLOCK | C.SOCK_CLOEXEC);
  lenBuf[0] = C.SOCKADDR_STORAGE_SIZE;
  const rc = sys.accept4(fd, addrBuf, lenBuf, C.SOCK_NONBLOCK | C.SOCK_CLOEXEC);
  peer.address = rc >= 0 ? decodeOrNull(lenBuf[0]!) : null;
  return rc;
}

// Never throw after accept4 succeeded: the new fd would leak. An undecodable address is null.
function decodeOrNull(len: number): SocketAddress | null {
  try {
    return decodeSockaddr(addrBuf, len);
  } catch {
    return null;
  }
}

/**
 * Starts connecting: returns 0 (connected at once) or `-errno`. For a non-blocking TCP socket
 * expect `-E.EINPROGRESS`: wait for WRITABLE, then read the outcome with `getSocketError`.
 * A unix socket whose listener's backlog is full gives `-E.EAGAIN`. Throws only for an invalid
 * address (ERR_INVALID_ADDRESS).
 *
 * @example
 * const rc = connect(fd, { family: 'IPv4', address: '127.0.0.1', port: 8080 });
 * if (rc < 0 && -rc !== E.EINPROGRESS) check(rc, 'connect');
 */
export function connect(fd: number, addr: SocketAddress): number {
  const len = encodeSockaddr(addr, addrBuf);
  return sys.connect(fd, addrBuf, len);
}

/**
 * The socket's pending error (SO_ERROR), cleared by reading it: 0, or `-errno` so the result
 * feeds `check` directly. Throws SysError only if getsockopt itself fails.
 *
 * @example
 * check(getSocketError(fd), 'connect'); // throws SysError code 'ECONNREFUSED' if refused
 */
export function getSocketError(fd: number): number {
  const err = getSockOptInt(fd, C.SOL_SOCKET, C.SO_ERROR);
  return err === 0 ? 0 : -err;
}

/**
 * Reads an int socket option. Throws SysError.
 *
 * @example
 * const nodelay = getSockOptInt(fd, C.IPPROTO_TCP, C.TCP_NODELAY) !== 0;
 */
export function getSockOptInt(fd: number, level: number, name: number): number {
  intBuf[0] = 0;
  lenBuf[0] = 4;
  check(sys.getsockopt(fd, level, name, intBuf, lenBuf), 'getsockopt');
  return intBuf[0]!;
}

/**
 * Sets an int socket option. Throws SysError.
 *
 * @example
 * setSockOptInt(fd, C.SOL_SOCKET, C.SO_RCVBUF, 1 << 20);
 */
export function setSockOptInt(fd: number, level: number, name: number, value: number): void {
  intBuf[0] = value;
  check(sys.setsockopt(fd, level, name, intBuf, 4), 'setsockopt');
}

/** Disables (or re-enables) Nagle's algorithm: TCP_NODELAY. @example setNoDelay(fd) */
export function setNoDelay(fd: number, on = true): void {
  setSockOptInt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, on ? 1 : 0);
}

/**
 * Turns TCP keep-alive on or off; `idleSecs` (when on) is the idle time before the first probe
 * (TCP_KEEPIDLE). @example setKeepAlive(fd, true, 60)
 */
export function setKeepAlive(fd: number, on: boolean, idleSecs?: number): void {
  setSockOptInt(fd, C.SOL_SOCKET, C.SO_KEEPALIVE, on ? 1 : 0);
  if (on && idleSecs !== undefined) {
    if (!Number.isInteger(idleSecs) || idleSecs < 1) badArg('keep-alive idle seconds', idleSecs);
    setSockOptInt(fd, C.IPPROTO_TCP, C.TCP_KEEPIDLE, idleSecs);
  }
}

/** SO_REUSEADDR: rebind a listening port while old connections sit in TIME_WAIT. @example setReuseAddr(fd) */
export function setReuseAddr(fd: number, on = true): void {
  setSockOptInt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, on ? 1 : 0);
}

/** SO_REUSEPORT: several sockets (one per process or loop) listen on one port. @example setReusePort(fd) */
export function setReusePort(fd: number, on = true): void {
  setSockOptInt(fd, C.SOL_SOCKET, C.SO_REUSEPORT, on ? 1 : 0);
}

/** IPV6_V6ONLY: an IPv6 socket refuses IPv4-mapped peers. Set it before bind. @example setV6Only(fd) */
export function setV6Only(fd: number, on = true): void {
  setSockOptInt(fd, C.IPPROTO_IPV6, C.IPV6_V6ONLY, on ? 1 : 0);
}

/** The address a socket is bound to (getsockname). Throws SysError. @example localAddress(fd).port */
export function localAddress(fd: number): SocketAddress {
  lenBuf[0] = C.SOCKADDR_STORAGE_SIZE;
  check(sys.getsockname(fd, addrBuf, lenBuf), 'getsockname');
  return decodeSockaddr(addrBuf, lenBuf[0]!);
}

/** The connected peer's address (getpeername). Throws SysError ENOTCONN when not connected. @example remoteAddress(fd) */
export function remoteAddress(fd: number): SocketAddress {
  lenBuf[0] = C.SOCKADDR_STORAGE_SIZE;
  check(sys.getpeername(fd, addrBuf, lenBuf), 'getpeername');
  return decodeSockaddr(addrBuf, lenBuf[0]!);
}

// koffi passes a view by pointer to its first byte: a non-zero offset needs a subarray.
function slice(buf: Uint8Array, offset: number, length: number): Uint8Array {
  return offset === 0 && length === buf.byteLength ? buf : buf.subarray(offset, offset + length);
}

/**
 * Receives into `buf[offset, offset+length)`: bytes read, 0 at end of stream, or `-errno`
 * (`-E.EAGAIN` when nothing is available).
 *
 * @example
 * const n = recv(fd, buf); if (n === 0) onEof(); else if (n > 0) onData(buf.subarray(0, n));
 */
export function recv(fd: number, buf: Uint8Array, offset = 0, length = buf.byteLength - offset, flags = 0): number {
  return sys.recv(fd, slice(buf, offset, length), length, flags);
}

/**
 * Sends `buf[offset, offset+length)` with MSG_NOSIGNAL: bytes sent (maybe fewer than asked) or
 * `-errno` (`-E.EAGAIN` when the send buffer is full, `-E.EPIPE` after the peer closed).
 *
 * @example
 * const n = send(fd, data); if (n >= 0 && n < data.length) queue(data.subarray(n));
 */
export function send(fd: number, buf: Uint8Array, offset = 0, length = buf.byteLength - offset, flags = 0): number {
  return sys.send(fd, slice(buf, offset, length), length, flags | C.MSG_NOSIGNAL);
}

/**
 * Writes many buffers in one call (writev): bytes written (maybe fewer than their total) or
 * `-errno`. At most `C.IOV_MAX` buffers go per call; pass the rest next time. Writev does not
 * take MSG_NOSIGNAL: Node already ignores SIGPIPE, so a closed peer gives `-E.EPIPE`.
 *
 * @example
 * const n = writev(fd, queue); // then drop n bytes from the front of the queue
 */
export function writev(fd: number, chunks: readonly ArrayBufferView[]): number {
  const count = Math.min(chunks.length, C.IOV_MAX);
  for (let i = 0; i < count; i++) {
    const c = chunks[i]!;
    // The addresses are only used during this synchronous call, while `chunks` keeps them alive.
    iov[2 * i] = c.byteLength === 0 ? 0n : koffi.address(c);
    iov[2 * i + 1] = BigInt(c.byteLength);
  }
  return sys.writev(fd, iov, count);
}

/**
 * Receives one datagram into `buf[offset, offset+length)`: its byte count or `-errno`. With
 * `from`, the sender's address is decoded into `from.address`. A datagram longer than `length`
 * is truncated (the rest is lost).
 *
 * @example
 * const from: PeerOut = { address: null };
 * const n = recvfrom(fd, buf, 0, buf.length, from);
 */
export function recvfrom(fd: number, buf: Uint8Array, offset = 0, length = buf.byteLength - offset, from?: PeerOut): number {
  const target = slice(buf, offset, length);
  if (from === undefined) return sys.recvfrom(fd, target, length, 0, null, null);
  lenBuf[0] = C.SOCKADDR_STORAGE_SIZE;
  const rc = sys.recvfrom(fd, target, length, 0, addrBuf, lenBuf);
  // A connected stream socket reports no address (length 0).
  from.address = rc >= 0 && lenBuf[0]! > 0 ? decodeOrNull(lenBuf[0]!) : null;
  return rc;
}

/**
 * Sends one datagram of `buf[offset, offset+length)` to `to` (MSG_NOSIGNAL): bytes sent or
 * `-errno`. Throws only for an invalid address.
 *
 * @example
 * sendto(fd, Buffer.from('ping'), 0, 4, { family: 'IPv4', address: '127.0.0.1', port: 5353 });
 */
export function sendto(fd: number, buf: Uint8Array, offset: number, length: number, to: SocketAddress): number {
  const len = encodeSockaddr(to, addrBuf);
  return sys.sendto(fd, slice(buf, offset, length), length, C.MSG_NOSIGNAL, addrBuf, len);
}

/**
 * Shuts down one or both directions: `'write'` sends FIN (the peer reads EOF) while this side
 * still reads. Throws SysError (ENOTCONN when not connected).
 *
 * @example
 * shutdown(fd, 'write');
 */
export function shutdown(fd: number, how: 'read' | 'write' | 'both'): void {
  const h = how === 'read' ? C.SHUT_RD : how === 'write' ? C.SHUT_WR : how === 'both' ? C.SHUT_RDWR : badArg('shutdown how', how);
  check(sys.shutdown(fd, h), 'shutdown');
}
