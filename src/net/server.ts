/**
 * Listening stream sockets (TCP over IPv4/IPv6, unix path and abstract) and their accept loop.
 *
 * Accept: accept4 until EAGAIN, at most `maxAcceptsPerEvent` per readiness event so one busy
 * listener cannot starve the turn. On EMFILE/ENFILE/ENOBUFS/ENOMEM the listener stops watching
 * (level-triggered polling would otherwise report it ready forever: a 100% CPU spin) and retries
 * on a timer with exponential backoff (10 ms … 1 s); it resumes at once when one of its own
 * connections closes and frees an fd.
 */
import { unlinkSync } from 'node:fs';
import { EvloopError } from '../errors.js';
import type { IoWatcher } from '../loop/io-watcher.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import type { TimerHandle } from '../loop/timer.js';
import { READABLE } from '../poller/poller.js';
import {
  accept, bind, close as closeFd, E, listen, localAddress, setNoDelay, setReuseAddr, setReusePort, setV6Only, socket, SysError,
  type SocketAddress,
} from '../sys/index.js';
import { NET_CODES } from './errors.js';
import type { AnyProtocol, ProtocolFactory } from './protocol.js';
import { resolveHost } from './resolve.js';
import { forEachTransport, SocketTransport, type TransportOwner } from './stream-transport.js';

export interface ServerOptions {
  /** Host name or IP to bind (TCP). Default '0.0.0.0'. */
  host?: string;
  /** Port (TCP); 0 (the default) picks a free one: read it back from `listen()` or `address()`. */
  port?: number;
  /** A unix socket path instead of host/port; a leading '\0' names an abstract socket. */
  path?: string;
  /** listen() backlog. Default 511 (as Node). */
  backlog?: number;
  /** SO_REUSEADDR (TCP). Default true. */
  reuseAddress?: boolean;
  /** SO_REUSEPORT: several listeners (processes, loops) share the port. Default false. */
  reusePort?: boolean;
  /** IPV6_V6ONLY for an IPv6 listener; default: the system's (dual stack on Linux). */
  ipv6Only?: boolean;
  /** TCP_NODELAY on accepted connections. Default true. */
  noDelay?: boolean;
  /** The loop; default getDefaultLoop(). */
  loop?: Loop;
  /** Connections accepted per readiness event at most. Default 128. */
  maxAcceptsPerEvent?: number;
}

/** Counters of a server's accept loop. */
export interface ServerStats {
  accepted: number;
  /** Times accepting was paused for lack of fds or memory. */
  acceptPauses: number;
  /** Readiness events handled by the accept loop. */
  acceptEvents: number;
  connections: number;
}

const MIN_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 1000;
const RETRYABLE_ACCEPT = new Set([E.EINTR, E.ECONNABORTED, E.ENETDOWN, E.ENOPROTOOPT, E.EHOSTDOWN, E.EHOSTUNREACH, E.EOPNOTSUPP, E.ENETUNREACH]);
const RESOURCE_ACCEPT = new Set([E.EMFILE, E.ENFILE, E.ENOBUFS, E.ENOMEM]);

/**
 * A listening socket that makes one protocol per accepted connection.
 *
 * @example
 * const server = createServer(() => new Echo(), { host: '127.0.0.1', port: 7000 });
 * const addr = await server.listen(); // { family: 'IPv4', address: '127.0.0.1', port: 7000 }
 * ...
 * server.close();
 */
export class Server implements TransportOwner {
  readonly loop: Loop;
  #factory: ProtocolFactory;
  #options: ServerOptions;
  #fd = -1;
  #watcher: IoWatcher | null = null;
  #address: SocketAddress | null = null;
  #connections = 0; // a count, not a set: an idle connection costs no entry here
  #retry: TimerHandle | null = null;
  #backoff = 0;
  #paused = false;
  #closed = false;
  #listening: Promise<SocketAddress> | null = null;
  #ref = true;
  #stats = { accepted: 0, acceptPauses: 0, acceptEvents: 0 };
  #maxAccepts: number;
  #noDelay: boolean;
  #tcp: boolean;

  constructor(factory: ProtocolFactory, options: ServerOptions = {}) {
    if (typeof factory !== 'function') throw new EvloopError('ERR_INVALID_ARG', 'protocolFactory must be a function');
    this.loop = options.loop ?? getDefaultLoop();
    this.#factory = factory;
    this.#options = options;
    this.#maxAccepts = options.maxAcceptsPerEvent ?? 128;
    this.#noDelay = options.noDelay ?? true;
    this.#tcp = options.path === undefined;
  }

  /**
   * Resolves the host, binds and listens; resolves to the bound address. Calling it again
   * returns the same promise. Rejects with SysError (EADDRINUSE, EACCES …) or ERR_DNS.
   */
  listen(): Promise<SocketAddress> {
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  async #listen(): Promise<SocketAddress> {
    const o = this.#options;
    let addr: SocketAddress;
    if (o.path !== undefined) addr = { family: 'unix', path: o.path };
    else addr = (await resolveHost(o.host ?? '0.0.0.0', o.port ?? 0))[0]!;
    if (this.#closed) throw new EvloopError('ERR_SERVER_CLOSED', 'the server was closed before it listened');
    const fd = socket(addr.family, 'stream');
    try {
      if (addr.family !== 'unix') {
        if (o.reuseAddress ?? true) setReuseAddr(fd);
        if (addr.family === 'IPv6' && o.ipv6Only !== undefined) setV6Only(fd, o.ipv6Only);
      }
      if (o.reusePort) setReusePort(fd);
      bind(fd, addr);
      listen(fd, o.backlog ?? 511);
      this.#address = localAddress(fd);
      this.#watcher = this.loop.watch(fd, READABLE, this.#onReadable);
      if (!this.#ref) this.#watcher.unref();
    } catch (err) {
      closeFd(fd);
      this.#address = null;
      throw err;
    }
    this.#fd = fd;
    return this.#address;
  }

  /** The bound address. Throws ERR_SERVER_NOT_LISTENING before listen() resolved or after close(). */
  address(): SocketAddress {
    if (this.#address === null || this.#closed) throw new EvloopError(NET_CODES.NOT_LISTENING, 'the server is not listening');
    return this.#address;
  }

  get listening(): boolean {
    return this.#fd >= 0;
  }

  /** Open connections accepted by this server. */
  get connections(): number {
    return this.#connections;
  }

  stats(): ServerStats {
    return { ...this.#stats, connections: this.#connections };
  }

  /** Lets the loop end while the server listens. */
  unref(): this {
    this.#ref = false;
    this.#watcher?.unref();
    this.#retry?.unref();
    return this;
  }

  ref(): this {
    this.#ref = true;
    this.#watcher?.ref();
    this.#retry?.ref();
    return this;
  }

  /**
   * Stops accepting and closes the listening socket (a unix socket file is removed). Accepted
   * connections stay open: close them with `closeConnections()`. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#retry?.cancel();
    this.#retry = null;
    if (this.#watcher !== null && !this.#watcher.closed) this.#watcher.close();
    this.#watcher = null;
    if (this.#fd >= 0) {
      closeFd(this.#fd);
      this.#fd = -1;
      const p = this.#options.path;
      if (p !== undefined && p.length > 0 && p.charCodeAt(0) !== 0) {
        try {
          unlinkSync(p);
        } catch {
          // already removed by someone else: nothing to clean up
        }
      }
    }
  }

  /** Closes every accepted connection: after flushing, or at once with `abort`. */
  closeConnections(abort = false): void {
    forEachTransport((t) => {
      if (t.owner !== this) return;
      if (abort) t.abort();
      else t.close();
    });
  }

  /** @internal a connection closed: an fd is free again, so a paused accept may resume now. */
  transportClosed(): void {
    this.#connections--;
    if (this.#paused) this.#resumeAccepting();
  }

  #onReadable = (): void => {
    this.#stats.acceptEvents++;
    const lfd = this.#fd;
    for (let i = 0; i < this.#maxAccepts && this.#fd === lfd; i++) {
      const fd = accept(lfd);
      if (fd >= 0) {
        this.#backoff = 0;
        this.#stats.accepted++;
        this.#onConnection(fd);
        continue;
      }
      const errno = -fd;
      if (errno === E.EAGAIN) return;
      if (RETRYABLE_ACCEPT.has(errno)) continue;
      if (RESOURCE_ACCEPT.has(errno)) return this.#pauseAccepting();
      this.loop.reportError(new SysError(errno, 'accept'), 'accept');
      return;
    }
  };

  #onConnection(fd: number): void {
    let t: SocketTransport | null = null;
    try {
      if (this.#tcp && this.#noDelay) setNoDelay(fd);
      const protocol: AnyProtocol = this.#factory();
      t = new SocketTransport(this.loop, fd, protocol, { tcp: this.#tcp, owner: this });
    } catch (err) {
      closeFd(fd);
      this.loop.reportError(err, 'protocol factory');
      return;
    }
    this.#connections++;
    try {
      t.start(); // closes the fd itself if it cannot watch it
    } catch (err) {
      this.#connections--;
      this.loop.reportError(err, 'accept');
    }
  }

  #pauseAccepting(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#stats.acceptPauses++;
    this.#watcher!.setInterest(0);
    this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.#backoff * 2));
    this.#retry = this.loop.callLater(this.#backoff, () => {
      this.#retry = null;
      this.#resumeAccepting();
    });
    if (!this.#ref) this.#retry.unref();
  }

  #resumeAccepting(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#retry?.cancel();
    this.#retry = null;
    if (!this.#closed && this.#watcher !== null) this.#watcher.setInterest(READABLE);
  }
}

/**
 * Creates a TCP (or, with `path`, unix) server; call `listen()` to start it.
 *
 * @example
 * const server = createServer(() => new Echo(), { host: '::1', port: 0 });
 * console.log(await server.listen());
 */
export function createServer(protocolFactory: ProtocolFactory, options?: ServerOptions): Server {
  return new Server(protocolFactory, options);
}

/**
 * Creates and starts a server in one step; resolves once it listens.
 *
 * @example
 * const server = await startListening(() => new Echo(), { port: 7000 });
 */
export async function startListening(protocolFactory: ProtocolFactory, options?: ServerOptions): Promise<Server> {
  const s = new Server(protocolFactory, options);
  try {
    await s.listen();
  } catch (err) {
    s.close();
    throw err;
  }
  return s;
}
