/**
 * The transport of a connected stream socket (TCP or unix): the hot path of every connection.
 *
 * Read path (asyncio's _read_ready): recv into one scratch buffer shared by all transports, copy
 * out exactly the bytes read (the protocol owns them); EAGAIN/EINTR → return (level-triggered
 * polling calls again); 0 → EOF; any other error → close, error to connectionLost.
 * A BufferedProtocol receives straight into its own buffer instead (no copy, no allocation).
 *
 * Write path: try at once; queue what the kernel did not take (a copy, or the bytes themselves
 * when the caller says they are immutable); WRITABLE interest only while the queue is non-empty;
 * the queue is flushed with one writev. High/low water marks call pauseWriting/resumeWriting on
 * the protocol.
 *
 * The fd is closed as soon as the transport closes (its watcher first, so stale events are
 * dropped); connectionLost follows on the next turn, exactly once.
 */
import { EvloopError } from '../errors.js';
import type { IoWatcher } from '../loop/io-watcher.js';
import type { Loop } from '../loop/loop.js';
import { ERROR, HANGUP, READABLE, WRITABLE } from '../poller/poller.js';
import {
  close as closeFd, E, localAddress, recv, remoteAddress, send, setKeepAlive, setNoDelay, shutdown, SysError, writev,
  type SocketAddress,
} from '../sys/index.js';
import { NET_CODES, transportClosed } from './errors.js';
import type { AnyProtocol, BufferedProtocol, Protocol, Transport } from './protocol.js';
import { readStrategy } from './read-strategy.js';

/** Bytes asked of one recv. */
const READ_SIZE = 65536;
/** Reads per readiness event at most (bounds one connection's share of a turn). */
const MAX_READS_PER_EVENT = 16;
const DEFAULT_HIGH_WATER = 64 * 1024;
const DEFAULT_LOW_WATER = 16 * 1024;

// One scratch buffer for every transport: reads copy out only the bytes received.
const scratch = Buffer.allocUnsafeSlow(READ_SIZE);

// Open transports by fd (fd numbers are unique in the process, whatever the loop): lets every
// watcher share one callback instead of a closure per connection (~64 bytes each).
const byFd: (SocketTransport | undefined)[] = [];

/** Calls `fn` for every open stream transport of the process (servers closing their connections). */
export function forEachTransport(fn: (t: SocketTransport) => void): void {
  for (const t of byFd.slice()) if (t !== undefined) fn(t);
}

// State bits, packed into one field to keep an idle connection small.
const F_READING = 1; // the protocol wants data (not paused)
const F_EOF = 2; // the peer sent EOF
const F_CLOSING = 4; // close/abort called, or the connection was lost
const F_ENDING = 8; // end() called: EOF goes out after the queue
const F_WROTE_EOF = 16; // shutdown(SHUT_WR) done
const F_WRITE_PAUSED = 32; // protocol.pauseWriting was called
const F_BUFFERED = 64; // the protocol is a BufferedProtocol
const F_TCP = 128;
const F_UNREF = 256; // unref() called: the connection does not keep the loop alive

/** Who wants to know when a transport is gone (the server counting its connections). */
export interface TransportOwner {
  transportClosed(t: SocketTransport): void;
  /** Where a protocol callback's exception goes instead of the loop (a server's error sink). */
  reportError?(err: unknown, what: string): void;
}

export interface SocketTransportOptions {
  /** TCP (socket options apply) or unix. */
  tcp: boolean;
  /** A watcher already on the fd (from connecting) to adopt instead of creating one. */
  watcher?: IoWatcher;
  owner?: TransportOwner;
}

/**
 * A connected stream socket driven by the loop. Made by servers and `connect`; you get it in
 * `connectionMade`.
 *
 * @example
 * const [transport] = await connect('127.0.0.1', 7000, () => new MyProtocol());
 * transport.write('hello');
 * transport.end();
 */
export class SocketTransport implements Transport {
  #fd: number;
  #loop: Loop;
  #protocol: AnyProtocol;
  #watcher: IoWatcher | null = null;
  #flags: number;
  #queue: Uint8Array[] | null = null;
  #buffered = 0;
  #high = DEFAULT_HIGH_WATER;
  #low = DEFAULT_LOW_WATER;
  #owner: TransportOwner | undefined;
  #local: SocketAddress | null = null;
  #remote: SocketAddress | null = null;

  constructor(loop: Loop, fd: number, protocol: AnyProtocol, options: SocketTransportOptions) {
    this.#loop = loop;
    this.#fd = fd;
    this.#protocol = protocol;
    this.#owner = options.owner;
    this.#flags = F_READING | (options.tcp ? F_TCP : 0) | (typeof (protocol as BufferedProtocol).getBuffer === 'function' ? F_BUFFERED : 0);
    if (options.watcher) {
      this.#watcher = options.watcher;
      options.watcher.callback = SocketTransport.#dispatch;
    }
    byFd[fd] = this;
  }

  /**
   * Starts watching the fd and calls `connectionMade`. If watching fails the fd is closed and the
   * error thrown (the caller still owns nothing).
   */
  start(): void {
    try {
      if (this.#watcher === null) this.#watcher = this.#loop.watch(this.#fd, READABLE, SocketTransport.#dispatch);
      else this.#watcher.setInterest(READABLE);
      if (this.#flags & F_UNREF) this.#watcher.unref();
    } catch (err) {
      if (this.#watcher !== null && !this.#watcher.closed) this.#watcher.close();
      this.#watcher = null;
      byFd[this.#fd] = undefined;
      closeFd(this.#fd);
      this.#fd = -1;
      this.#flags |= F_CLOSING;
      throw err;
    }
    this.#callProtocol(() => this.#protocol.connectionMade(this));
  }

  /** Keep the loop alive while this connection is open (the default). */
  ref(): void {
    this.#flags &= ~F_UNREF;
    this.#watcher?.ref();
  }

  /** Let the loop (and the process) end while this connection is open, e.g. idle in a pool. */
  unref(): void {
    this.#flags |= F_UNREF;
    this.#watcher?.unref();
  }

  get fd(): number {
    return this.#fd;
  }

  get loop(): Loop {
    return this.#loop;
  }

  /** @internal who accepted this transport (a server), if anyone */
  get owner(): TransportOwner | undefined {
    return this.#owner;
  }

  get protocol(): AnyProtocol {
    return this.#protocol;
  }

  get isReading(): boolean {
    return (this.#flags & (F_READING | F_CLOSING)) === F_READING;
  }

  get isClosing(): boolean {
    return (this.#flags & F_CLOSING) !== 0;
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  get writeBufferLimits(): { high: number; low: number } {
    return { high: this.#high, low: this.#low };
  }

  setWriteBufferLimits(high?: number, low?: number): void {
    const h = high ?? (low !== undefined ? 4 * low : DEFAULT_HIGH_WATER);
    const l = low ?? Math.floor(h / 4);
    if (!Number.isInteger(h) || !Number.isInteger(l) || l < 0 || h < l) {
      throw new EvloopError('ERR_INVALID_ARG', `write buffer limits need 0 <= low <= high (integers), got high=${String(high)} low=${String(low)}`);
    }
    this.#high = h;
    this.#low = l;
    this.#checkWriteLimits();
  }

  get localAddress(): SocketAddress {
    if (this.#local === null) {
      if (this.#fd < 0) throw transportClosed('read the local address');
      this.#local = localAddress(this.#fd);
    }
    return this.#local;
  }

  get remoteAddress(): SocketAddress {
    if (this.#remote === null) {
      if (this.#fd < 0) throw transportClosed('read the remote address');
      this.#remote = remoteAddress(this.#fd);
    }
    return this.#remote;
  }

  setNoDelay(on = true): void {
    if (this.#fd < 0) throw transportClosed('set TCP_NODELAY');
    if (this.#flags & F_TCP) setNoDelay(this.#fd, on);
  }

  setKeepAlive(on: boolean, idleSecs?: number): void {
    if (this.#fd < 0) throw transportClosed('set SO_KEEPALIVE');
    if (this.#flags & F_TCP) setKeepAlive(this.#fd, on, idleSecs);
  }

  // ---- reading ----------------------------------------------------------------------------

  pauseReading(): void {
    if ((this.#flags & F_READING) === 0) return;
    this.#flags &= ~F_READING;
    this.#syncInterest();
  }

  resumeReading(): void {
    if ((this.#flags & F_READING) !== 0) return;
    this.#flags |= F_READING;
    this.#syncInterest();
  }

  static #dispatch = (events: number, w: IoWatcher): void => {
    byFd[w.fd]!.#onEvent(events);
  };

  #onEvent(events: number): void {
    const f = this.#flags;
    // ERROR/HANGUP while reading: the read reports the error or EOF.
    if ((events & READABLE) !== 0 || ((events & (ERROR | HANGUP)) !== 0 && (f & (F_READING | F_EOF | F_CLOSING)) === F_READING)) {
      if ((f & F_BUFFERED) !== 0) this.#readIntoProtocol();
      else this.#readReady();
    }
    // ERROR/HANGUP with writes pending: the flush reports the error.
    if ((events & (WRITABLE | ERROR | HANGUP)) !== 0 && this.#buffered > 0 && this.#fd >= 0) this.#flush();
  }

  #readReady(): void {
    const strategy = readStrategy();
    for (let i = 0; i < MAX_READS_PER_EVENT; i++) {
      const n = recv(this.#fd, scratch, 0, READ_SIZE);
      if (n > 0) {
        const data = Buffer.allocUnsafe(n); // small sizes come from Node's pool: no syscall, no GC pressure
        scratch.copy(data, 0, 0, n);
        try {
          (this.#protocol as Protocol).dataReceived(data);
        } catch (err) {
          return this.#protocolFailed(err);
        }
        if (strategy === 'once' || (strategy === 'short' && n < READ_SIZE)) return;
        if ((this.#flags & (F_READING | F_CLOSING)) !== F_READING) return;
        continue;
      }
      if (n === 0) return this.#eofReceived();
      if (-n === E.EAGAIN || -n === E.EINTR) return;
      return this.#fatal(new SysError(-n, 'read'));
    }
  }

  #readIntoProtocol(): void {
    const p = this.#protocol as BufferedProtocol;
    const strategy = readStrategy();
    for (let i = 0; i < MAX_READS_PER_EVENT; i++) {
      let buf: Uint8Array;
      try {
        buf = p.getBuffer(READ_SIZE);
      } catch (err) {
        return this.#protocolFailed(err);
      }
      if (!(buf instanceof Uint8Array) || buf.byteLength === 0) {
        return this.#protocolFailed(new EvloopError('ERR_INVALID_RETURN', 'BufferedProtocol.getBuffer must return a non-empty Uint8Array'));
      }
      const n = recv(this.#fd, buf, 0, buf.byteLength);
      if (n > 0) {
        try {
          p.bufferUpdated(n);
        } catch (err) {
          return this.#protocolFailed(err);
        }
        if (strategy === 'once' || (strategy === 'short' && n < buf.byteLength)) return;
        if ((this.#flags & (F_READING | F_CLOSING)) !== F_READING) return;
        continue;
      }
      if (n === 0) return this.#eofReceived();
      if (-n === E.EAGAIN || -n === E.EINTR) return;
      return this.#fatal(new SysError(-n, 'read'));
    }
  }

  #eofReceived(): void {
    this.#flags |= F_EOF;
    this.#syncInterest();
    let keepOpen: boolean | void = false;
    try {
      keepOpen = this.#protocol.eofReceived?.();
    } catch (err) {
      return this.#protocolFailed(err);
    }
    if (this.#flags & F_CLOSING) return;
    // Both directions done (we already sent EOF), or the protocol does not want a half-open socket.
    if (keepOpen !== true || (this.#flags & F_WROTE_EOF) !== 0) this.close();
  }

  // ---- writing ----------------------------------------------------------------------------

  write(data: Uint8Array | string, immutable = false): void {
    const f = this.#flags;
    if ((f & (F_CLOSING | F_ENDING)) !== 0) {
      if (f & F_CLOSING) throw transportClosed('write');
      throw new EvloopError(NET_CODES.WRITE_AFTER_END, 'cannot write after end()');
    }
    let buf: Uint8Array;
    if (typeof data === 'string') {
      buf = Buffer.from(data);
      immutable = true; // our own bytes: nobody else can change them
    } else buf = data;
    const len = buf.byteLength;
    if (len === 0) return;
    if (this.#buffered === 0) {
      const n = send(this.#fd, buf, 0, len);
      if (n === len) return;
      if (n < 0 && -n !== E.EAGAIN && -n !== E.EINTR) return this.#fatal(new SysError(-n, 'write'));
      this.#enqueue(buf, n > 0 ? n : 0, immutable);
      this.#syncInterest();
    } else {
      this.#enqueue(buf, 0, immutable);
    }
    if (this.#buffered > this.#high) this.#checkWriteLimits();
  }

  /**
   * Queues what the kernel did not take: a private copy (the caller may reuse its buffer once
   * write() returns), or, for bytes nobody modifies, the bytes themselves (a 4 MiB response
   * queued N times costs no N × 4 MiB).
   */
  #enqueue(buf: Uint8Array, from: number, immutable: boolean): void {
    let rest: Uint8Array;
    if (immutable) rest = from === 0 ? buf : buf.subarray(from);
    else {
      rest = Buffer.allocUnsafe(buf.byteLength - from);
      rest.set(from === 0 ? buf : buf.subarray(from));
    }
    (this.#queue ??= []).push(rest);
    this.#buffered += rest.byteLength;
  }

  #flush(): void {
    const q = this.#queue!;
    const n = q.length === 1 ? send(this.#fd, q[0]!) : writev(this.#fd, q);
    if (n < 0) {
      if (-n === E.EAGAIN || -n === E.EINTR) return;
      return this.#fatal(new SysError(-n, 'write'));
    }
    this.#buffered -= n;
    let left = n;
    let k = 0;
    while (k < q.length && left >= q[k]!.byteLength) left -= q[k++]!.byteLength;
    if (k > 0) q.splice(0, k);
    if (left > 0) q[0] = q[0]!.subarray(left);
    if (this.#buffered === 0) {
      this.#queue = null;
      this.#syncInterest();
    }
    this.#checkWriteLimits();
    if (this.#buffered === 0 && this.#fd >= 0) {
      const f = this.#flags;
      if (f & F_CLOSING) this.#destroy(undefined);
      else if ((f & (F_ENDING | F_WROTE_EOF)) === F_ENDING) this.#shutdownWrite();
    }
  }

  #checkWriteLimits(): void {
    const f = this.#flags;
    if ((f & F_WRITE_PAUSED) === 0) {
      if (this.#buffered > this.#high && (f & F_CLOSING) === 0) {
        this.#flags |= F_WRITE_PAUSED;
        this.#callProtocol(() => this.#protocol.pauseWriting?.());
      }
    } else if (this.#buffered <= this.#low) {
      this.#flags &= ~F_WRITE_PAUSED;
      if ((f & F_CLOSING) === 0) this.#callProtocol(() => this.#protocol.resumeWriting?.());
    }
  }

  end(): void {
    const f = this.#flags;
    if (f & F_CLOSING) throw transportClosed('end');
    if (f & F_ENDING) return;
    this.#flags |= F_ENDING;
    if (this.#buffered === 0) this.#shutdownWrite();
  }

  #shutdownWrite(): void {
    this.#flags |= F_WROTE_EOF;
    try {
      shutdown(this.#fd, 'write');
    } catch (err) {
      return this.#fatal(err as Error); // ENOTCONN: the peer reset meanwhile
    }
    if (this.#flags & F_EOF) this.close();
  }

  // ---- closing ----------------------------------------------------------------------------

  close(): void {
    if (this.#flags & F_CLOSING) return;
    this.#flags |= F_CLOSING;
    if (this.#buffered === 0) this.#destroy(undefined);
    else this.#syncInterest(); // stop reading; keep flushing
  }

  abort(err?: Error): void {
    if (this.#fd < 0) return;
    this.#flags |= F_CLOSING;
    this.#destroy(err);
  }

  #fatal(err: Error): void {
    this.abort(err);
  }

  #protocolFailed(err: unknown): void {
    const e = err instanceof Error ? err : new EvloopError('ERR_PROTOCOL', String(err));
    this.abort(e);
    const o = this.#owner;
    if (o?.reportError !== undefined) o.reportError(err, 'protocol callback');
    else this.#loop.reportError(err, 'protocol callback');
  }

  #destroy(err: Error | undefined): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    this.#flags |= F_CLOSING;
    this.#queue = null;
    this.#buffered = 0;
    const w = this.#watcher;
    this.#watcher = null;
    if (w !== null && !w.closed) w.close();
    byFd[fd] = undefined;
    closeFd(fd);
    this.#owner?.transportClosed(this);
    this.#loop.callSoon(() => this.#connectionLost(err));
  }

  #connectionLost(err: Error | undefined): void {
    try {
      this.#protocol.connectionLost(err);
    } catch (e) {
      this.#protocolFailed(e); // the fd is gone already: this only reports
    }
  }

  /** Interest follows state: READABLE while reading (not paused, no EOF, not closing), WRITABLE while the queue is non-empty. */
  #syncInterest(): void {
    const w = this.#watcher;
    if (w === null || this.#fd < 0) return;
    const f = this.#flags;
    const want = ((f & (F_READING | F_EOF | F_CLOSING)) === F_READING ? READABLE : 0) | (this.#buffered > 0 ? WRITABLE : 0);
    if (w.interest !== want) w.setInterest(want);
  }

  #callProtocol(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#protocolFailed(err);
    }
  }
}
