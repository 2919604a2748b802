/**
 * The HTTP/1.1 server of the native API: a net Server whose connections are HttpConnections,
 * one sweep timer for every connection's deadline, the shared Date line, and a graceful close.
 */
import type { Loop } from '../loop/loop.js';
import { getDefaultLoop } from '../loop/loop.js';
import type { TimerHandle } from '../loop/timer.js';
import { Server } from '../net/server.js';
import type { SocketAddress } from '../sys/index.js';
import { DateCache } from './date-cache.js';
import { HttpConnection, type ConnectionHost, type HttpHandler } from './connection.js';
import { DEFAULT_HTTP_PARSER_LIMITS, type HttpParserLimits } from './parser.js';
import type { ServerRequest } from './request.js';
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';

export interface HttpServerOptions {
  /** Host to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 (default) picks a free one (read it from `listen()`). */
  port?: number;
  /** A unix socket path instead of host/port. */
  path?: string;
  /** SO_REUSEPORT: several processes serve the same port (see serveCluster). */
  reusePort?: boolean;
  backlog?: number;
  loop?: Loop;
  /** Bytes of the start-line + header section; more → 431. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Field lines per request; more → 431. Default 100. */
  maxHeaderCount?: number;
  /** Body bytes per request; more → 413. Default 64 MiB. */
  maxBodyBytes?: number;
  /**
   * A header section must be complete this long after its first byte (408 + close otherwise;
   * slowloris). A new connection must send its first byte within it too (else closed). Default 30 s.
   */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this long. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /**
   * Each piece of a request body must follow the previous one within this: 408 + close if no
   * response was started, else close. Time the server itself does not read (the handler has not
   * read what arrived yet, or the client is not reading the responses) does not count. Default 30 s.
   */
  bodyTimeoutMs?: number;
  /**
   * The whole request — header section and body — must arrive within this of its first byte,
   * however steadily it trickles (a body at 1 byte/s): 408 + close if no response was started,
   * else close. Time the server itself does not read does not count, as for `bodyTimeoutMs`.
   * `Infinity` turns it off. Default 300 s (Node's `requestTimeout`).
   *
   * @example
   * serve(handler, { requestTimeoutMs: 60_000, bodyTimeoutMs: 10_000 }); // uploads: 1 min in all
   */
  requestTimeoutMs?: number;
  /**
   * A client that stops reading: bytes waiting to be sent — once the write buffer is over its
   * high-water mark, and any at all once the connection is closing (`Connection: close`,
   * HTTP/1.0, keep-alive expiry, graceful close) — must be taken by the client, some of them
   * every this long, else the connection is aborted (`drain()` rejects). A slow client that keeps
   * reading is never cut off. Default 30 s.
   */
  sendTimeoutMs?: number;
  /**
   * Where handler exceptions go (the client gets a 500). Default: the loop's onError if set,
   * else console.error. Never re-thrown: a failing handler does not take the server down.
   */
  onError?: (err: unknown, req: ServerRequest | null) => void;
  /**
   * Open connections at most; past it a new connection is accepted and closed at once (counted
   * in `stats().rejected`). Default: the open-file limit minus 128 (see net's `maxConnections`).
   */
  maxConnections?: number;
  /** Permission bits of the unix socket file at `path` (e.g. 0o660). Default: the umask's. */
  mode?: number;
}

/** Counters of a server. */
export interface HttpServerStats {
  requests: number;
  connections: number;
  accepted: number;
  /** Connections closed at once because `maxConnections` were open. */
  rejected: number;
  handlerErrors: number;
}

export interface CloseOptions {
  /** Connections still busy after this long are aborted. Default 10 s. */
  timeoutMs?: number;
}

/**
 * An HTTP/1.1 server running a native handler.
 *
 * @example
 * const server = createHttpServer((req, res) => res.end('Hello, World!'), { port: 8080 });
 * const addr = await server.listen();
 * ...
 * await server.close({ timeoutMs: 5000 }); // finishes in-flight requests
 */
export class HttpServer implements ConnectionHost {
  readonly loop: Loop;
  readonly handler: HttpHandler;
  readonly limits: HttpParserLimits;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly sendTimeoutMs: number;
  draining = false;
  #net: Server;
  #dates: DateCache | null = null;
  #conns = new Set<HttpConnection>();
  #sweep: TimerHandle | null = null;
  #sweepMs: number;
  #onError: ((err: unknown, req: ServerRequest | null) => void) | undefined;
  #stats = { requests: 0, handlerErrors: 0 };
  #closed: Promise<void> | null = null;
  #allClosed: (() => void) | null = null;

  constructor(handler: HttpHandler, options: HttpServerOptions = {}) {
    if (typeof handler !== 'function') throw httpError('ERR_INVALID_ARG', 'handler must be a function');
    this.loop = options.loop ?? getDefaultLoop();
    this.handler = handler;
    this.limits = {
      maxHeaderBytes: options.maxHeaderBytes ?? DEFAULT_HTTP_PARSER_LIMITS.maxHeaderBytes,
      maxHeaderCount: options.maxHeaderCount ?? DEFAULT_HTTP_PARSER_LIMITS.maxHeaderCount,
      maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    };
    this.headersTimeoutMs = positive('headersTimeoutMs', options.headersTimeoutMs ?? 30_000);
    this.keepAliveTimeoutMs = positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs ?? 5_000);
    this.bodyTimeoutMs = positive('bodyTimeoutMs', options.bodyTimeoutMs ?? 30_000);
    this.requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs ?? 300_000);
    this.sendTimeoutMs = positive('sendTimeoutMs', options.sendTimeoutMs ?? 30_000);
    // deadlines are checked a few times per shortest timeout: at most 25% late
    const shortest = Math.min(this.headersTimeoutMs, this.keepAliveTimeoutMs, this.bodyTimeoutMs, this.requestTimeoutMs, this.sendTimeoutMs);
    this.#sweepMs = Math.max(5, Math.min(1000, shortest / 4));
    this.#onError = options.onError;
    this.#net = new Server(() => new HttpConnection(this), {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      path: options.path,
      reusePort: options.reusePort,
      backlog: options.backlog,
      maxConnections: options.maxConnections,
      mode: options.mode,
      loop: this.loop,
    });
  }

  /** Binds and listens; resolves to the address. */
  async listen(): Promise<SocketAddress> {
    this.#dates ??= DateCache.acquire(this.loop);
    try {
      return await this.#net.listen();
    } catch (err) {
      this.#dates.release();
      this.#dates = null;
      throw err;
    }
  }

  address(): SocketAddress {
    return this.#net.address();
  }

  /** Open connections. */
  get connections(): number {
    return this.#conns.size;
  }

  stats(): HttpServerStats {
    const net = this.#net.stats();
    return { ...this.#stats, connections: this.#conns.size, accepted: net.accepted, rejected: net.rejected };
  }

  /**
   * Graceful shutdown: stops accepting, closes idle keep-alive connections at once, lets busy
   * ones finish their current response (sent with Connection: close) — a connection in the
   * middle of a header section included, within its headers timeout — and aborts whatever is
   * left after `timeoutMs`. Resolves when every connection is closed. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.draining = true;
    this.#net.close();
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#closed = new Promise<void>((resolve) => {
      let timer: TimerHandle | null = null;
      this.#allClosed = () => {
        timer?.cancel();
        this.#stopSweep();
        this.#dates?.release();
        this.#dates = null;
        resolve();
      };
      for (const c of [...this.#conns]) c.shutdown();
      if (this.#conns.size === 0) return this.#allClosed();
      if (!this.loop.closed) {
        timer = this.loop.callLater(timeoutMs, () => {
          for (const c of [...this.#conns]) c.abort();
        });
      }
    });
    return this.#closed;
  }

  // ---- ConnectionHost -----------------------------------------------------------------------

  get dateLine(): string {
    return this.#dates!.line;
  }

  connectionOpened(c: HttpConnection): void {
    this.#conns.add(c);
    if (this.#sweep === null) this.#armSweep();
    if (this.draining) c.shutdown();
  }

  connectionClosed(c: HttpConnection): void {
    this.#conns.delete(c);
    if (this.#conns.size === 0) {
      this.#stopSweep();
      if (this.draining) this.#allClosed?.();
    }
  }

  requestStarted(): void {
    this.#stats.requests++;
  }

  handlerFailed(err: unknown, req: ServerRequest | null): void {
    this.#stats.handlerErrors++;
    try {
      if (this.#onError !== undefined) this.#onError(err, req);
      else if (this.loop.onError !== undefined) this.loop.reportError(err, 'http handler');
      else console.error('evloop http: handler failed:', err);
    } catch (inner) {
      console.error('evloop http: onError failed:', inner);
    }
  }

  #armSweep(): void {
    if (this.loop.closed) return;
    this.#sweep = this.loop.callLater(this.#sweepMs, this.#onSweep);
    this.#sweep.unref();
  }

  #stopSweep(): void {
    this.#sweep?.cancel();
    this.#sweep = null;
  }

  #onSweep = (): void => {
    this.#sweep = null;
    const now = this.loop.now();
    for (const c of this.#conns) c.checkTimeout(now);
    if (this.#conns.size > 0) this.#armSweep();
  };
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !(v > 0)) throw httpError('ERR_INVALID_ARG', `${name} must be a number > 0, got ${String(v)}`);
  return v;
}

/** Creates a server; call `listen()` to start it. */
export function createHttpServer(handler: HttpHandler, options?: HttpServerOptions): HttpServer {
  return new HttpServer(handler, options);
}

/**
 * Creates a server and listens; resolves once it accepts connections.
 *
 * @example
 * const server = await serve((req, res) => res.end('hi'), { port: 8080 });
 * console.log(server.address());
 */
export async function serve(handler: HttpHandler, options?: HttpServerOptions): Promise<HttpServer> {
  const s = new HttpServer(handler, options);
  try {
    await s.listen();
  } catch (err) {
    void s.close();
    throw err;
  }
  return s;
}

export { HTTP_SERVER_CODES };
