/**
 * Outgoing stream connections (TCP, unix). A non-blocking connect: `connect()` gives EINPROGRESS,
 * the socket turns WRITABLE when the handshake ends, and SO_ERROR tells how it ended. Each
 * address a host name resolves to is tried in turn until one answers. The timeout covers the
 * whole attempt (DNS included); the AbortSignal cancels it. Every failure path closes the
 * socket and its watcher before rejecting.
 */
import { formatSocketAddress } from '../sys/sockaddr.js';
import { EvloopError } from '../errors.js';
import type { IoWatcher } from '../loop/io-watcher.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import { WRITABLE } from '../poller/poller.js';
import {
  bind, close as closeFd, connect as sysConnect, E, getSocketError, setKeepAlive, setNoDelay, socket, SysError,
  type SocketAddress,
} from '../sys/index.js';
import { CancelledError } from './errors.js';
import type { AnyProtocol, ProtocolFactory } from './protocol.js';
import { resolveHost, type IpFamily } from './resolve.js';
import { SocketTransport } from './stream-transport.js';

export interface ConnectOptions {
  /** Gives up after this many ms with SysError ETIMEDOUT (DNS included). Default: no limit. */
  timeout?: number;
  /** Cancels the attempt: rejects with CancelledError (code ERR_CANCELLED; the signal's reason as `reason`). */
  signal?: AbortSignal;
  loop?: Loop;
  /** Bind the socket here before connecting (host and/or port). */
  localAddress?: { host?: string; port?: number };
  /** Only IPv4 (4) or IPv6 (6) addresses of a host name. */
  family?: IpFamily;
  /** TCP_NODELAY. Default true (latency first; write whole messages). */
  noDelay?: boolean;
  /** SO_KEEPALIVE, or the idle seconds before the first probe. */
  keepAlive?: boolean | number;
}

/**
 * Connects to `host:port` over TCP; resolves once connected, after `connectionMade`.
 * Rejects with SysError (ECONNREFUSED, ETIMEDOUT, ENETUNREACH …), ERR_DNS or ERR_CANCELLED.
 *
 * @example
 * const [transport, protocol] = await connect('localhost', 7000, () => new MyProtocol(), { timeout: 5000 });
 */
export async function connect<P extends AnyProtocol>(
  host: string, port: number, protocolFactory: ProtocolFactory<P>, options: ConnectOptions = {},
): Promise<[SocketTransport, P]> {
  return connectWith(options, protocolFactory, true, () => resolveHost(host, port, options.family));
}

/**
 * Connects to a unix stream socket (`path`, or '\0name' for an abstract one).
 *
 * @example
 * const [transport] = await connectUnix('/run/app.sock', () => new MyProtocol());
 */
export async function connectUnix<P extends AnyProtocol>(
  path: string, protocolFactory: ProtocolFactory<P>, options: Omit<ConnectOptions, 'family' | 'localAddress' | 'noDelay' | 'keepAlive'> = {},
): Promise<[SocketTransport, P]> {
  return connectWith(options, protocolFactory, false, async () => [{ family: 'unix', path }]);
}

interface Cancel {
  reason: Error | null;
  onCancel: (() => void) | null;
}

async function connectWith<P extends AnyProtocol>(
  options: ConnectOptions, factory: ProtocolFactory<P>, tcp: boolean, addresses: () => Promise<SocketAddress[]>,
): Promise<[SocketTransport, P]> {
  if (typeof factory !== 'function') throw new EvloopError('ERR_INVALID_ARG', 'protocolFactory must be a function');
  const loop = options.loop ?? getDefaultLoop();
  const { signal, timeout } = options;
  if (signal?.aborted) throw cancelled(signal);
  const cancel: Cancel = { reason: null, onCancel: null };
  const fire = (err: Error) => {
    if (cancel.reason !== null) return;
    cancel.reason = err;
    cancel.onCancel?.();
  };
  const onAbort = () => fire(cancelled(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = timeout === undefined ? null : loop.callLater(timeout, () => fire(new SysError(E.ETIMEDOUT, 'connect', `(timeout after ${timeout} ms)`)));
  try {
    // DNS cannot be interrupted: race it against cancellation, dropping a late answer.
    const addrs = await new Promise<SocketAddress[]>((resolve, reject) => {
      cancel.onCancel = () => reject(cancel.reason);
      addresses().then(resolve, reject);
    });
    cancel.onCancel = null;
    let lastError: unknown;
    for (const addr of addrs) {
      if (cancel.reason !== null) throw cancel.reason;
      let conn: { fd: number; watcher: IoWatcher };
      try {
        conn = await attempt(loop, addr, options, cancel);
      } catch (err) {
        if (cancel.reason !== null && err === cancel.reason) throw err;
        lastError = err;
        continue;
      }
      if (cancel.reason !== null) {
        conn.watcher.close();
        closeFd(conn.fd);
        throw cancel.reason;
      }
      return establish(loop, conn, factory, tcp, options);
    }
    throw lastError;
  } finally {
    cancel.onCancel = null;
    timer?.cancel();
    signal?.removeEventListener('abort', onAbort);
  }
}

function establish<P extends AnyProtocol>(
  loop: Loop, conn: { fd: number; watcher: IoWatcher }, factory: ProtocolFactory<P>, tcp: boolean, options: ConnectOptions,
): [SocketTransport, P] {
  let protocol: P;
  try {
    if (tcp) {
      if (options.noDelay ?? true) setNoDelay(conn.fd);
      const ka = options.keepAlive;
      if (ka !== undefined && ka !== false) setKeepAlive(conn.fd, true, typeof ka === 'number' ? ka : undefined);
    }
    protocol = factory();
  } catch (err) {
    conn.watcher.close();
    closeFd(conn.fd);
    throw err;
  }
  const t = new SocketTransport(loop, conn.fd, protocol, { tcp, watcher: conn.watcher });
  t.start();
  return [t, protocol];
}

/** One address: socket, optional bind, connect, wait for WRITABLE, read SO_ERROR. */
async function attempt(loop: Loop, addr: SocketAddress, options: ConnectOptions, cancel: Cancel): Promise<{ fd: number; watcher: IoWatcher }> {
  let local: SocketAddress | undefined;
  if (options.localAddress !== undefined && addr.family !== 'unix') {
    const host = options.localAddress.host ?? (addr.family === 'IPv6' ? '::' : '0.0.0.0');
    const candidates = await resolveHost(host, options.localAddress.port ?? 0, addr.family === 'IPv6' ? 6 : 4);
    local = candidates[0];
    if (cancel.reason !== null) throw cancel.reason;
  }
  const fd = socket(addr.family, 'stream');
  let watcher: IoWatcher | null = null;
  const cleanup = () => {
    if (watcher !== null && !watcher.closed) watcher.close();
    closeFd(fd);
  };
  try {
    if (local !== undefined) bind(fd, local);
    const rc = sysConnect(fd, addr);
    if (rc < 0 && -rc !== E.EINPROGRESS) throw new SysError(-rc, 'connect', formatSocketAddress(addr));
    // Even a connect that completed at once gets a watcher: the transport adopts it.
    watcher = loop.watch(fd, rc === 0 ? 0 : WRITABLE, () => {});
  } catch (err) {
    cleanup();
    throw err;
  }
  const w = watcher;
  if (w.interest === 0) return { fd, watcher: w };
  return new Promise((resolve, reject) => {
    cancel.onCancel = () => {
      cancel.onCancel = null;
      cleanup();
      reject(cancel.reason);
    };
    w.callback = () => {
      cancel.onCancel = null;
      let rc: number;
      try {
        rc = getSocketError(fd);
      } catch (err) {
        cleanup();
        return reject(err);
      }
      if (rc < 0) {
        cleanup();
        return reject(new SysError(-rc, 'connect', formatSocketAddress(addr)));
      }
      w.setInterest(0);
      resolve({ fd, watcher: w });
    };
  });
}

function cancelled(signal: AbortSignal): Error {
  return new CancelledError(signal.reason, 'the connect was cancelled');
}
