/**
 * Listening stream sockets (TCP over IPv4/IPv6, unix path and abstract) and their accept loop.
 *
 * Accept: accept4 until EAGAIN, at most `maxAcceptsPerEvent` per readiness event so one busy
 * listener cannot starve the turn. An error that belongs to one pending connection (ECONNABORTED,
 * EPROTO and the other network errors accept(2) hands over) skips it. Any other failure (EMFILE,
 * ENFILE, ENOBUFS, ENOMEM, EPERM, ETIMEDOUT, anything unexpected) is reported once per run and
 * the listener stops watching (level-triggered polling would otherwise report it ready forever:
 * a 100% CPU spin), retrying on a timer with exponential backoff (10 ms … 1 s); it resumes at
 * once when one of its own connections closes and frees an fd. The server never stops serving
 * because accept failed.
 *
 * Past `maxConnections` open connections a new one is accepted and closed at once: the client
 * gets a prompt EOF instead of waiting in a backlog that fills while fds run out.
 */
import { unlinkSync } from 'node:fs';
import { EvloopError } from '../errors.js';
import type { IoWatcher } from '../loop/io-watcher.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import type { TimerHandle } from '../loop/timer.js';
import { READABLE } from '../poller/poller.js';
import {
  accept, bind, chmod, close as closeFd, E, listen, localAddress, openFileLimit, setNoDelay, setReuseAddr, setReusePort, setV6Only,
  socket, SysError, type SocketAddress,
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
  /**
   * Open connections at most (Infinity: no cap). Past it a new connection is accepted and closed
   * at once, counted in `stats().rejected`. Default `defaultMaxConnections()`: the open-file
   * limit minus a reserve of 128 fds, so the cap is met before EMFILE is.
   *
   * @example createServer(factory, { port: 8080, maxConnections: 10_000 })
   */
  maxConnections?: number;
  /**
   * Permission bits of a unix socket file (e.g. 0o660: owner and group may connect). Applied
   * after bind and before listen, so no client connects before the mode holds. Default: the
   * umask's. Only with a `path` that is not abstract.
   *
   * @example createServer(factory, { path: '/run/app.sock', mode: 0o660 })
   */
  mode?: number;
  /**
   * Where this server's errors go: an accept() failure, a protocol factory or protocol callback
   * that threw. Default: the loop's `onError` when it has one, else logged with console.error —
   * an error in one connection never takes the process down.
   */
  onError?: (err: unknown, what: string) => void;
}

/** Counters of a server's accept loop. */
export interface ServerStats {
  /** Connections accepted and handed to a protocol. */
  accepted: number;
  /** Connections accepted and closed at once because `maxConnections` were open. */
  rejected: number;
  /** Failed accept() calls (EAGAIN aside), skipped or backed off from. */
  acceptErrors: number;
  /** Times accepting was paused (and retried after a backoff) after a failed accept(). */
  acceptPauses: number;
  /** Errors reported through the server's error sink (see `onError`). */
  errors: number;
  /** Readiness events handled by the accept loop. */
  acceptEvents: number;
  connections: number;
}

const MIN_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 1000;
/**
 * Failures of one pending connection, not of the listener: accept(2) hands over the new socket's
 * pending network error (the man page's list for TCP/IP, plus ECONNABORTED and EINTR). The next
 * connection may be fine, so accepting goes on at once.
 */
const CONNECTION_ACCEPT_ERRORS = new Set([
  E.EINTR, E.ECONNABORTED, E.EPROTO, E.ENONET, E.ENETDOWN, E.ENOPROTOOPT, E.EHOSTDOWN, E.EHOSTUNREACH, E.EOPNOTSUPP, E.ENETUNREACH,
]);
/** fds kept free beside the connection cap: the loop's own, files, outgoing connections, the accept that rejects. */
const FD_RESERVE = 128;

/**
 * The default `maxConnections`: RLIMIT_NOFILE's soft limit minus 128 reserved fds (at least 1;
 * Infinity when the limit is unlimited). Node raises its soft limit to the hard one at start, so
 * this is usually tens of thousands or more; a fixed cap (nginx's 512 per worker) would refuse
 * loads the machine can carry, while the fd limit is the ceiling that actually bites.
 *
 * @example defaultMaxConnections() // 19872 with `ulimit -n 20000`
 */
export function defaultMaxConnections(): number {
  const { soft } = openFileLimit();
  return soft === Infinity ? Infinity : Math.max(1, soft - FD_RESERVE);
}

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
  #stats = { accepted: 0, rejected: 0, acceptErrors: 0, acceptPauses: 0, errors: 0, acceptEvents: 0 };
  #maxAccepts: number;
  #maxConnections: number;
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
    const max = options.maxConnections ?? defaultMaxConnections();
    if (!(max === Infinity || (Number.isInteger(max) && max >= 0))) {
      throw new EvloopError('ERR_INVALID_ARG', `maxConnections must be an integer >= 0 or Infinity, got ${String(max)}`);
    }
    this.#maxConnections = max;
    const mode = options.mode;
    if (mode !== undefined) {
      if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new EvloopError('ERR_INVALID_ARG', `mode must be permission bits 0..0o777, got ${String(mode)}`);
      const p = options.path;
      if (p === undefined || p.length === 0 || p.charCodeAt(0) === 0) {
        throw new EvloopError('ERR_INVALID_ARG', 'mode applies to a unix socket path (not TCP, not an abstract name)');
      }
    }
  }

  /** Open connections at most; past it new ones are closed at once. */
  get maxConnections(): number {
    return this.#maxConnections;
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
    let bound = false;
    try {
      if (addr.family !== 'unix') {
        if (o.reuseAddress ?? true) setReuseAddr(fd);
        if (addr.family === 'IPv6' && o.ipv6Only !== undefined) setV6Only(fd, o.ipv6Only);
      }
      if (o.reusePort) setReusePort(fd);
      bind(fd, addr);
      bound = true;
      if (o.mode !== undefined) chmod(o.path!, o.mode); // before listen: connecting is refused until then
      listen(fd, o.backlog ?? 511);
      this.#address = localAddress(fd);
      this.#watcher = this.loop.watch(fd, READABLE, this.#onReadable);
      if (!this.#ref) this.#watcher.unref();
    } catch (err) {
      closeFd(fd);
      if (bound) this.#unlinkPath();
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
      this.#unlinkPath();
    }
  }

  #unlinkPath(): void {
    const p = this.#options.path;
    if (p !== undefined && p.length > 0 && p.charCodeAt(0) !== 0) {
      try {
        unlinkSync(p);
      } catch {
        // already removed by someone else: nothing to clean up
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

  /**
   * @internal The error sink of the accept loop and of every connection (TransportOwner): the
   * `onError` option, else the loop's onError, else console.error. Never throws.
   */
  reportError(err: unknown, what: string): void {
    this.#stats.errors++;
    const handler = this.#options.onError;
    if (handler !== undefined) {
      try {
        handler(err, what);
        return;
      } catch (inner) {
        err = inner; // a failing handler must not hide the failure
      }
    }
    if (this.loop.onError !== undefined) return this.loop.reportError(err, what);
    console.error(`evloop server ${this.#describe()}: ${what} failed:`, err);
  }

  #describe(): string {
    const a = this.#address;
    if (a === null) return '(not listening)';
    return a.family === 'unix' ? JSON.stringify(a.path) : `${a.address}:${a.port}`;
  }

  #onReadable = (): void => {
    this.#stats.acceptEvents++;
    const lfd = this.#fd;
    for (let i = 0; i < this.#maxAccepts && this.#fd === lfd; i++) {
      const fd = accept(lfd);
      if (fd >= 0) {
        this.#backoff = 0;
        if (this.#connections >= this.#maxConnections) {
          closeFd(fd); // at the cap: a prompt EOF for the client, and the backlog keeps moving
          this.#stats.rejected++;
          continue;
        }
        this.#stats.accepted++;
        this.#onConnection(fd);
        continue;
      }
      const errno = -fd;
      if (errno === E.EAGAIN) return;
      this.#stats.acceptErrors++;
      if (CONNECTION_ACCEPT_ERRORS.has(errno)) continue;
      // the first failure of a run is reported; retries after the backoff are only counted, so a
      // server starved of fds logs once, not once per retry
      if (this.#backoff === 0) this.reportError(new SysError(errno, 'accept', `(server ${this.#describe()} keeps serving and retries)`), 'accept');
      return this.#pauseAccepting();
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
      this.reportError(err, 'protocol factory');
      return;
    }
    this.#connections++;
    try {
      t.start(); // closes the fd itself if it cannot watch it
    } catch (err) {
      this.#connections--;
      this.reportError(err, 'accept');
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
