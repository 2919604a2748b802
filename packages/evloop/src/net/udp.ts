/**
 * UDP endpoints (asyncio's create_datagram_endpoint): a DatagramProtocol receives whole
 * datagrams with their sender's address; a DatagramTransport sends them. Datagrams the kernel
 * cannot take at once (EAGAIN) are queued and sent when the socket turns writable. The queue is
 * bounded as a TCP transport's is: above the high-water mark `pauseWriting` is called and
 * `drain()` waits, at the low-water mark `resumeWriting` follows; a send that would pass the
 * hard bound `maxQueuedBytes` throws ERR_SEND_QUEUE_FULL (the datagram is not queued, and the
 * caller knows it). Errors on a datagram socket (ECONNREFUSED from an ICMP reply on a connected
 * socket …) are not fatal: they go to `errorReceived`.
 */
import { EvloopError } from '../errors.js';
import type { IoWatcher } from '../loop/io-watcher.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import { READABLE, WRITABLE } from '../poller/poller.js';
import {
  bind, close as closeFd, connect as sysConnect, E, localAddress, recvfrom, remoteAddress, send, sendto, setReuseAddr, setReusePort,
  socket, SysError, type PeerOut, type SocketAddress,
} from '../sys/index.js';
import { NET_CODES, transportClosed } from './errors.js';
import { resolveHost, type IpFamily } from './resolve.js';

export interface DatagramProtocol {
  connectionMade(transport: DatagramTransport): void;
  /** One datagram and who sent it. The Buffer is the protocol's to keep. */
  datagramReceived(data: Buffer, from: SocketAddress): void;
  /** A send or receive failed (ECONNREFUSED, EMSGSIZE …); the endpoint stays open. */
  errorReceived?(err: Error): void;
  connectionLost(err?: Error): void;
  /** The send queue rose above the high-water mark: stop sending until `resumeWriting`. */
  pauseWriting?(): void;
  /** The send queue fell to the low-water mark: send again. */
  resumeWriting?(): void;
}

export interface DatagramEndpointOptions {
  /** Bind here (host, port 0 = any free port). Default: any address of `remote`'s family. */
  local?: { host?: string; port?: number };
  /** Connect to this peer: `send(data)` needs no address and only its datagrams arrive. */
  remote?: { host: string; port: number };
  family?: IpFamily;
  reuseAddress?: boolean;
  reusePort?: boolean;
  loop?: Loop;
  /**
   * Send-queue high-water mark: bytes of datagrams the kernel could not take yet. Above it
   * `pauseWriting` is called and `drain()` waits. Default 64 KiB.
   */
  highWaterMark?: number;
  /** `resumeWriting` is called and `drain()` resolves at or below this. Default high / 4. */
  lowWaterMark?: number;
  /**
   * Hard bound of the send queue: a `send` that would queue past it throws ERR_SEND_QUEUE_FULL.
   * Default max(16 × high, 64 KiB) (1 MiB with the default marks); at least the high-water mark.
   *
   * @example createDatagramEndpoint(factory, { local: { port: 0 }, highWaterMark: 256 * 1024, maxQueuedBytes: 4 << 20 })
   */
  maxQueuedBytes?: number;
}

const DEFAULT_HIGH_WATER = 64 * 1024;

/** Largest UDP payload over IPv4/IPv6 (without jumbograms). */
const MAX_DATAGRAM = 65536;
const MAX_READS_PER_EVENT = 32;
const recvBuf = Buffer.allocUnsafeSlow(MAX_DATAGRAM);

/**
 * @example
 * const [t] = await createDatagramEndpoint(() => proto, { local: { host: '127.0.0.1', port: 0 } });
 * t.send(Buffer.from('ping'), { family: 'IPv4', address: '127.0.0.1', port: 5353 });
 */
export class DatagramTransport {
  readonly loop: Loop;
  #fd: number;
  #watcher: IoWatcher | null = null;
  #protocol: DatagramProtocol;
  #connected: boolean;
  #queue: { data: Buffer; to: SocketAddress | undefined }[] = [];
  #buffered = 0;
  #from: PeerOut = { address: null };
  #high = DEFAULT_HIGH_WATER;
  #low = DEFAULT_HIGH_WATER / 4;
  #max: number;
  #maxGiven: boolean;
  #writePaused = false;
  #drainWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(loop: Loop, fd: number, protocol: DatagramProtocol, connected: boolean, limits: Pick<DatagramEndpointOptions, 'highWaterMark' | 'lowWaterMark' | 'maxQueuedBytes'> = {}) {
    this.loop = loop;
    this.#fd = fd;
    this.#protocol = protocol;
    this.#connected = connected;
    this.#maxGiven = limits.maxQueuedBytes !== undefined;
    this.#max = limits.maxQueuedBytes ?? 0;
    this.setWriteBufferLimits(limits.highWaterMark, limits.lowWaterMark);
  }

  /** The send queue's marks and hard bound (bytes). */
  get writeBufferLimits(): { high: number; low: number; max: number } {
    return { high: this.#high, low: this.#low, max: this.#max };
  }

  /**
   * Sets the send queue's high/low water marks (as a TCP transport's). Throws ERR_INVALID_ARG
   * unless 0 <= low <= high <= maxQueuedBytes.
   */
  setWriteBufferLimits(high?: number, low?: number): void {
    const h = high ?? (low !== undefined ? 4 * low : DEFAULT_HIGH_WATER);
    const l = low ?? Math.floor(h / 4);
    const max = this.#maxGiven ? this.#max : Math.max(16 * h, MAX_DATAGRAM);
    if (!Number.isInteger(h) || !Number.isInteger(l) || !Number.isInteger(max) || l < 0 || h < l || max < h) {
      throw new EvloopError('ERR_INVALID_ARG', `datagram send limits need 0 <= low <= high <= maxQueuedBytes (integers), got low=${String(low)} high=${String(high)} max=${String(max)}`);
    }
    this.#high = h;
    this.#low = l;
    this.#max = max;
    this.#checkWriteLimits();
  }

  /**
   * Resolves once the send queue is at or below the low-water mark (at once when writing is not
   * paused). Rejects with ERR_TRANSPORT_CLOSED if the endpoint closes first (queued datagrams
   * are dropped then).
   *
   * @example
   * for (const d of datagrams) { t.send(d, to); await t.drain(); }
   */
  drain(): Promise<void> {
    if (this.#fd < 0) return Promise.reject(transportClosed('drain'));
    if (!this.#writePaused) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** @internal */
  start(): void {
    try {
      this.#watcher = this.loop.watch(this.#fd, READABLE, this.#onEvent);
    } catch (err) {
      closeFd(this.#fd);
      this.#fd = -1;
      throw err;
    }
    try {
      this.#protocol.connectionMade(this);
    } catch (err) {
      this.abort(err as Error);
      this.loop.reportError(err, 'datagram protocol');
    }
  }

  get fd(): number {
    return this.#fd;
  }

  get isClosing(): boolean {
    return this.#fd < 0;
  }

  /** Bytes of datagrams queued (the kernel could not take them yet). */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  get localAddress(): SocketAddress {
    if (this.#fd < 0) throw transportClosed('read the local address');
    return localAddress(this.#fd);
  }

  /** The connected peer; throws SysError ENOTCONN on an unconnected endpoint. */
  get remoteAddress(): SocketAddress {
    if (this.#fd < 0) throw transportClosed('read the remote address');
    return remoteAddress(this.#fd);
  }

  /**
   * Sends one datagram (to `to`, or to the connected peer); what the kernel cannot take now is
   * queued (copied). Throws ERR_TRANSPORT_CLOSED after close, ERR_INVALID_ARG without an address
   * on an unconnected endpoint, ERR_SEND_QUEUE_FULL when queuing it would pass `maxQueuedBytes`
   * (nothing is queued then: wait for `drain()` or `resumeWriting`).
   */
  send(data: Uint8Array | string, to?: SocketAddress): void {
    if (this.#fd < 0) throw transportClosed('send');
    if (to === undefined && !this.#connected) throw new EvloopError('ERR_INVALID_ARG', 'an unconnected datagram endpoint needs an address to send to');
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.#queue.length === 0) {
      const rc = this.#sendOne(buf, to);
      if (rc >= 0) return;
      if (-rc !== E.EAGAIN && -rc !== E.EINTR) return this.#error(new SysError(-rc, 'sendto'));
    }
    if (this.#buffered + buf.byteLength > this.#max) {
      throw new EvloopError(NET_CODES.SEND_QUEUE_FULL, `the datagram send queue holds ${this.#buffered} bytes: ${buf.byteLength} more would pass maxQueuedBytes (${this.#max}); the datagram was not sent, wait for drain()`);
    }
    const copy = Buffer.from(buf);
    this.#queue.push({ data: copy, to });
    this.#buffered += copy.length;
    this.#watcher!.setInterest(READABLE | WRITABLE);
    this.#checkWriteLimits();
  }

  #checkWriteLimits(): void {
    if (!this.#writePaused) {
      if (this.#buffered > this.#high && this.#fd >= 0) {
        this.#writePaused = true;
        this.#callFlow(this.#protocol.pauseWriting);
      }
    } else if (this.#buffered <= this.#low) {
      this.#writePaused = false;
      for (const w of this.#drainWaiters.splice(0)) w.resolve();
      if (this.#fd >= 0) this.#callFlow(this.#protocol.resumeWriting);
    }
  }

  #callFlow(fn: (() => void) | undefined): void {
    if (fn === undefined) return;
    try {
      fn.call(this.#protocol);
    } catch (err) {
      this.abort(err as Error);
      this.loop.reportError(err, 'datagram protocol');
    }
  }

  #sendOne(buf: Uint8Array, to: SocketAddress | undefined): number {
    return to === undefined ? send(this.#fd, buf) : sendto(this.#fd, buf, 0, buf.byteLength, to);
  }

  #onEvent = (events: number): void => {
    if (events & READABLE || (events & WRITABLE) === 0) this.#readReady();
    if (events & WRITABLE && this.#fd >= 0) this.#flush();
  };

  #readReady(): void {
    for (let i = 0; i < MAX_READS_PER_EVENT && this.#fd >= 0; i++) {
      const n = recvfrom(this.#fd, recvBuf, 0, MAX_DATAGRAM, this.#from);
      if (n < 0) {
        if (-n === E.EAGAIN || -n === E.EINTR) return;
        this.#error(new SysError(-n, 'recvfrom'));
        continue; // the error was consumed; more datagrams may follow
      }
      const data = Buffer.allocUnsafe(n);
      recvBuf.copy(data, 0, 0, n);
      const from = this.#from.address ?? { family: 'unix', path: '' };
      try {
        this.#protocol.datagramReceived(data, from);
      } catch (err) {
        this.abort(err as Error);
        this.loop.reportError(err, 'datagram protocol');
        return;
      }
    }
  }

  #flush(): void {
    const q = this.#queue;
    while (q.length > 0) {
      const { data, to } = q[0]!;
      const rc = this.#sendOne(data, to);
      if (rc < 0 && (-rc === E.EAGAIN || -rc === E.EINTR)) return;
      q.shift();
      this.#buffered -= data.length;
      if (rc < 0) this.#error(new SysError(-rc, 'sendto'));
      if (this.#fd < 0) return;
      if (this.#writePaused && this.#buffered <= this.#low) {
        this.#checkWriteLimits();
        if (this.#fd < 0) return;
      }
    }
    this.#watcher!.setInterest(READABLE);
  }

  #error(err: Error): void {
    try {
      this.#protocol.errorReceived?.(err);
    } catch (e) {
      this.loop.reportError(e, 'datagram protocol');
    }
  }

  /** Closes now (queued datagrams are dropped, as datagrams may be); connectionLost follows. */
  close(): void {
    this.abort();
  }

  abort(err?: Error): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    this.#queue = [];
    this.#buffered = 0;
    this.#writePaused = false;
    if (this.#drainWaiters.length > 0) {
      const e = err ?? transportClosed('drain');
      for (const w of this.#drainWaiters.splice(0)) w.reject(e);
    }
    if (this.#watcher !== null && !this.#watcher.closed) this.#watcher.close();
    this.#watcher = null;
    closeFd(fd);
    this.loop.callSoon(() => this.#protocol.connectionLost(err));
  }
}

/**
 * Opens a UDP socket bound to `local` and/or connected to `remote`.
 * Rejects with SysError (EADDRINUSE …) or ERR_DNS; nothing is left open on failure.
 *
 * @example
 * const [transport, protocol] = await createDatagramEndpoint(() => new MyDatagramProtocol(), {
 *   local: { host: '127.0.0.1', port: 0 },
 * });
 */
export async function createDatagramEndpoint<P extends DatagramProtocol>(
  protocolFactory: () => P, options: DatagramEndpointOptions = {},
): Promise<[DatagramTransport, P]> {
  const loop = options.loop ?? getDefaultLoop();
  if (options.local === undefined && options.remote === undefined) {
    throw new EvloopError('ERR_INVALID_ARG', 'a datagram endpoint needs a local or a remote address');
  }
  const remote = options.remote ? (await resolveHost(options.remote.host, options.remote.port, options.family))[0]! : undefined;
  const family = options.family ?? (remote ? (remote.family === 'IPv6' ? 6 : 4) : undefined);
  let local: SocketAddress | undefined;
  if (options.local !== undefined) {
    local = (await resolveHost(options.local.host ?? (family === 6 ? '::' : '0.0.0.0'), options.local.port ?? 0, family))[0]!;
  }
  const fam = (local ?? remote)!.family;
  const fd = socket(fam, 'dgram');
  let protocol: P;
  try {
    if (options.reuseAddress) setReuseAddr(fd);
    if (options.reusePort) setReusePort(fd);
    if (local) bind(fd, local);
    if (remote) {
      const rc = sysConnect(fd, remote);
      if (rc < 0) throw new SysError(-rc, 'connect');
    }
    protocol = protocolFactory();
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  let t: DatagramTransport;
  try {
    t = new DatagramTransport(loop, fd, protocol, remote !== undefined, options);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  t.start();
  return [t, protocol];
}
