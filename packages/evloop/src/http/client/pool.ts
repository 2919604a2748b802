/**
 * The keep-alive pool of one origin (scheme, host, port). Rules:
 * - at most `maxSockets` connections (open or connecting); further requests wait in FIFO order
 *   and get the next connection released or the slot of the next one closed;
 * - a connection returns here only when its exchange ended cleanly with keep-alive on both
 *   sides (ClientConnection decides); it is closed after `idleTimeoutMs` unused, or sooner when
 *   the server announced a shorter `Keep-Alive: timeout`;
 * - idle connections are handed out most recently used first (the least likely to have been
 *   closed by the server); one closed while idle is dropped at once (it keeps reading, so EOF
 *   and resets are seen).
 */
import type { Loop } from '../../loop/loop.js';
import type { TimerHandle } from '../../loop/timer.js';
import { connect } from '../../net/connect.js';
import { ClientConnection, type ConnectionOwner } from './client-connection.js';
import { startTimer } from './timer.js';
import { abortError, ClientTimeoutError, HTTP_CLIENT_CODES, HttpClientError } from './errors.js';

export interface OriginPoolOptions {
  loop: Loop;
  host: string;
  port: number;
  maxSockets: number;
  idleTimeoutMs: number;
  /** false: every connection closes after one exchange. */
  keepAlive: boolean;
}

interface Waiter {
  resolve: (c: ClientConnection) => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
  connectTimeoutMs: number;
  onAbort: (() => void) | null;
}

/** A server's keep-alive hint is trusted up to this much less, so we close before it does. */
const HINT_MARGIN_MS = 500;

export class OriginPool implements ConnectionOwner {
  readonly #o: OriginPoolOptions;
  #idle: ClientConnection[] = [];
  #idleTimers = new Map<ClientConnection, TimerHandle>();
  #open = 0; // connections open or connecting
  #waiters: Waiter[] = [];
  #closed = false;
  /** Connections opened over the pool's life (for stats and tests). */
  #created = 0;

  constructor(options: OriginPoolOptions) {
    this.#o = options;
  }

  get stats(): { open: number; idle: number; queued: number; created: number } {
    return { open: this.#open, idle: this.#idle.length, queued: this.#waiters.length, created: this.#created };
  }

  /**
   * A connection for one exchange: an idle one, a new one, or the next one free. Rejects with
   * ABORT_ERR, ERR_CONNECT_TIMEOUT, a SysError (ECONNREFUSED …), ERR_DNS or ERR_CLIENT_CLOSED.
   */
  acquire(signal: AbortSignal | undefined, connectTimeoutMs: number): Promise<ClientConnection> {
    if (this.#closed) return Promise.reject(new HttpClientError(HTTP_CLIENT_CODES.CLIENT_CLOSED, 'the client is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    for (;;) {
      const conn = this.#idle.pop();
      if (conn === undefined) break;
      this.#clearIdleTimer(conn);
      if (!conn.closed) {
        conn.setRef(true);
        return Promise.resolve(conn);
      }
    }
    if (this.#open < this.#o.maxSockets) return this.#connect(signal, connectTimeoutMs);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, connectTimeoutMs, onAbort: null };
      if (signal !== undefined) {
        w.onAbort = () => {
          const i = this.#waiters.indexOf(w);
          if (i !== -1) this.#waiters.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#waiters.push(w);
    });
  }

  /** Opens a connection, counting it from the start; the connect timeout covers DNS too. */
  async #connect(signal: AbortSignal | undefined, connectTimeoutMs: number): Promise<ClientConnection> {
    this.#open++;
    this.#created++;
    const ac = new AbortController();
    let why: Error | null = null;
    const onAbort = (): void => {
      why = abortError(signal!);
      ac.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = startTimer(this.#o.loop, connectTimeoutMs, () => {
      why = new ClientTimeoutError(HTTP_CLIENT_CODES.CONNECT_TIMEOUT, `connecting to ${this.#o.host}:${this.#o.port}`, connectTimeoutMs);
      ac.abort();
    });
    try {
      const conn = new ClientConnection(this.#o.loop, this);
      await connect(this.#o.host, this.#o.port, () => conn, { signal: ac.signal, loop: this.#o.loop, noDelay: true });
      return conn;
    } catch (err) {
      this.#open--;
      this.#dispatch();
      throw why ?? err;
    } finally {
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A waiter takes a free slot (after a connection closed or a connect failed). */
  #dispatch(): void {
    while (this.#waiters.length > 0 && this.#open < this.#o.maxSockets) {
      const w = this.#waiters.shift()!;
      this.#unlisten(w);
      this.#connect(w.signal, w.connectTimeoutMs).then(w.resolve, w.reject);
    }
  }

  #unlisten(w: Waiter): void {
    if (w.onAbort !== null) w.signal!.removeEventListener('abort', w.onAbort);
    w.onAbort = null;
  }

  released(conn: ClientConnection): void {
    if (this.#closed || !this.#o.keepAlive) return conn.close();
    const w = this.#waiters.shift();
    if (w !== undefined) {
      this.#unlisten(w);
      return w.resolve(conn);
    }
    let ms = this.#o.idleTimeoutMs;
    const hint = conn.keepAliveHintMs;
    // Node announces `timeout=0` for sub-second timeouts: that one tells nothing.
    if (hint > 0) ms = Math.min(ms, Math.max(hint - HINT_MARGIN_MS, 1));
    if (!(ms > 0)) return conn.close();
    this.#idle.push(conn);
    conn.setRef(false); // an idle pool alone does not keep the process alive
    const timer = startTimer(this.#o.loop, ms, () => {
      this.#idleTimers.delete(conn);
      conn.close();
    });
    if (timer !== null) {
      timer.unref(); // an idle pool alone does not keep the process alive
      this.#idleTimers.set(conn, timer);
    }
  }

  closed(conn: ClientConnection): void {
    this.#open--;
    this.#clearIdleTimer(conn);
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    this.#dispatch();
  }

  #clearIdleTimer(conn: ClientConnection): void {
    const t = this.#idleTimers.get(conn);
    if (t !== undefined) {
      t.cancel();
      this.#idleTimers.delete(conn);
    }
  }

  /** Closes idle connections and refuses new requests; running exchanges finish, then close. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      this.#unlisten(w);
      w.reject(new HttpClientError(HTTP_CLIENT_CODES.CLIENT_CLOSED, 'the client was closed'));
    }
    for (const conn of this.#idle.splice(0)) {
      this.#clearIdleTimer(conn);
      conn.close();
    }
  }
}
