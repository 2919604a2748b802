/**
 * One HTTP/1.1 connection of the client: a Protocol on a transport, one exchange at a time (no
 * pipelining). It writes the request, feeds the socket to a response parser, hands the head to
 * the caller and the body to a ResponseBody, and runs the headers and body-idle timers.
 *
 * The connection goes back to its owner (the pool) only when the response was read to its end,
 * the request was written to its end, and both sides allow keep-alive. Any failure (abort,
 * timeout, parse error, reset) destroys it: a connection in an unknown state is never reused.
 * While idle it keeps reading, so a server closing it (EOF, reset) or sending stray bytes is
 * noticed at once and the connection dropped.
 */
import type { TimerHandle } from '../../loop/timer.js';
import type { Loop } from '../../loop/loop.js';
import type { Protocol, Transport } from '../../net/protocol.js';
import { HttpParser, type HttpMessageHead } from '../parser.js';
import { abortError, ClientTimeoutError, HTTP_CLIENT_CODES, HttpClientError } from './errors.js';
import { writeRequest, type PreparedBody, type SerializedHead, type WriteTarget } from './request-writer.js';
import { ResponseBody, type BodySource } from './response-body.js';
import { freshNow, startTimer } from './timer.js';

/** Who is told when a connection is free again or gone (the origin pool). */
export interface ConnectionOwner {
  released(conn: ClientConnection): void;
  closed(conn: ClientConnection): void;
}

export interface ExchangeOptions {
  method: string;
  head: SerializedHead;
  body: PreparedBody;
  signal?: AbortSignal | undefined;
  /** 0: no limit. Counted from the end of the request to the end of the response head. */
  headersTimeoutMs: number;
  /**
   * 0: no limit. Longest wait between two pieces of a body: of the response (not while we
   * paused it), and of a streamed request body (the source yielding nothing, or the server not
   * draining what we sent).
   */
  bodyTimeoutMs: number;
  highWaterMark: number;
}

export interface ResponseStart {
  head: HttpMessageHead;
  body: ResponseBody;
}

interface Exchange {
  opts: ExchangeOptions;
  resolve: (start: ResponseStart) => void;
  reject: (err: Error) => void;
  body: ResponseBody | null;
  gotBytes: boolean;
  requestWritten: boolean;
  messageDone: boolean;
  keepAlive: boolean;
  headersTimer: TimerHandle | null;
  bodyTimer: TimerHandle | null;
  /** Loop time of the last body progress (one timer per exchange, re-armed lazily). */
  lastBodyAt: number;
  /** While a streamed request body is written: its idle timer and last progress (a write or a drain). */
  sendTimer: TimerHandle | null;
  lastSendAt: number;
  onAbort: (() => void) | null;
}

/** The connection closed before the response was complete (or began). */
export function connectionClosed(): HttpClientError {
  return new HttpClientError(HTTP_CLIENT_CODES.CONNECTION_CLOSED, 'the server closed the connection before the response was complete');
}

export class ClientConnection implements Protocol, WriteTarget {
  readonly #loop: Loop;
  readonly #owner: ConnectionOwner;
  #transport: Transport | null = null;
  readonly #parser: HttpParser;
  #ex: Exchange | null = null;
  #closed = false;
  #writePaused = false;
  #drainWaiters: (() => void)[] = [];
  #exchanges = 0;
  #lastGotBytes = false;
  #keepAliveHintMs = -1;

  constructor(loop: Loop, owner: ConnectionOwner) {
    this.#loop = loop;
    this.#owner = owner;
    this.#parser = new HttpParser('response', {
      onHeadersComplete: (head) => this.#onHead(head),
      onBody: (chunk) => this.#onBody(chunk),
      onMessageComplete: () => this.#onMessageComplete(),
    });
  }

  /** Exchanges started on this connection (more than 1: it was reused). */
  get exchanges(): number {
    return this.#exchanges;
  }

  /** Whether the current (or last) exchange received any response byte. */
  get sawResponseBytes(): boolean {
    return this.#lastGotBytes;
  }

  /** The server's `Keep-Alive: timeout=N` in ms, or -1 when it sent none. */
  get keepAliveHintMs(): number {
    return this.#keepAliveHintMs;
  }

  /** Whether this connection keeps the process alive: not while it sits idle in the pool. */
  setRef(on: boolean): void {
    if (on) this.#transport?.ref();
    else this.#transport?.unref();
  }

  get closed(): boolean {
    return this.#closed || this.#transport === null || this.#transport.isClosing;
  }

  /** True while an exchange is running. */
  get busy(): boolean {
    return this.#ex !== null;
  }

  /** Closes the connection (idle timeout, pool closing). */
  close(): void {
    this.#transport?.close();
  }

  /** Drops the connection now, failing a running exchange with `err`. */
  destroy(err: Error): void {
    if (this.#ex !== null) this.#fail(err);
    else this.#transport?.abort();
  }

  /**
   * Sends one request and resolves with the response head and a body to read. Rejects (and
   * destroys the connection) on abort, headers timeout, parse error or connection loss.
   */
  send(opts: ExchangeOptions): Promise<ResponseStart> {
    if (this.#ex !== null) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, 'the connection is busy');
    return new Promise<ResponseStart>((resolve, reject) => {
      const ex: Exchange = {
        opts, resolve, reject, body: null, gotBytes: false, requestWritten: false, messageDone: false,
        keepAlive: !opts.head.close, headersTimer: null, bodyTimer: null, lastBodyAt: 0, sendTimer: null, lastSendAt: 0, onAbort: null,
      };
      this.#ex = ex;
      this.#exchanges++;
      this.#lastGotBytes = false;
      if (this.closed) return this.#fail(connectionClosed());
      const { signal } = opts;
      if (signal !== undefined) {
        if (signal.aborted) return this.#fail(abortError(signal));
        ex.onAbort = () => {
          if (this.#ex === ex) this.#fail(abortError(signal));
        };
        signal.addEventListener('abort', ex.onAbort, { once: true });
      }
      this.#parser.resume();
      this.#parser.expectResponseTo(opts.method);
      if (opts.body.kind === 'stream') this.#armSendTimer(ex);
      writeRequest(this, opts.head, opts.body).then(
        () => {
          if (this.#ex !== ex) return;
          ex.requestWritten = true;
          ex.sendTimer?.cancel();
          ex.sendTimer = null;
          if (ex.body === null) ex.headersTimer = this.#timer(opts.headersTimeoutMs, HTTP_CLIENT_CODES.HEADERS_TIMEOUT, 'waiting for the response headers');
          else if (ex.messageDone) this.#finish(ex);
        },
        (err: unknown) => {
          if (this.#ex === ex) this.#fail(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  // ---- WriteTarget (the request writer) ----------------------------------------------------

  write(data: Uint8Array): void {
    if (this.closed) return;
    this.#transport!.write(data);
    this.#sendProgress();
  }

  drained(): Promise<void> | null {
    if (!this.#writePaused || this.closed) return null;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  // ---- Protocol ----------------------------------------------------------------------------

  connectionMade(transport: Transport): void {
    this.#transport = transport;
  }

  dataReceived(data: Buffer): void {
    const ex = this.#ex;
    if (ex === null) {
      // Bytes nobody asked for: the connection's state is unknown, never reuse it.
      this.#transport?.abort();
      return;
    }
    ex.gotBytes = true;
    this.#lastGotBytes = true;
    let consumed: number;
    try {
      // The transport never reuses `data`, so body views into it may be queued without a copy.
      consumed = this.#parser.feed(data);
    } catch (err) {
      if (this.#ex === ex) this.#fail(err as Error);
      else this.#transport?.abort();
      return;
    }
    // The parser pauses at the end of each response: bytes after it answer nothing we sent.
    if (consumed < data.length) this.#transport?.abort();
  }

  eofReceived(): boolean {
    const ex = this.#ex;
    if (ex === null) return false;
    try {
      this.#parser.finish(); // completes a body delimited by the close
    } catch (err) {
      if (this.#ex === ex) this.#fail(err as Error);
      return false;
    }
    if (this.#ex === ex && !ex.messageDone) this.#fail(connectionClosed());
    return false;
  }

  connectionLost(err?: Error): void {
    this.#closed = true;
    this.#wakeWriters();
    if (this.#ex !== null) this.#fail(err ?? connectionClosed());
    this.#owner.closed(this);
  }

  pauseWriting(): void {
    this.#writePaused = true;
  }

  resumeWriting(): void {
    this.#writePaused = false;
    this.#sendProgress(); // the server took what was queued
    this.#wakeWriters();
  }

  /** A streamed request body moved: its idle timer counts from now (writes come from promise continuations: fresh clock). */
  #sendProgress(): void {
    const ex = this.#ex;
    if (ex !== null && ex.sendTimer !== null) ex.lastSendAt = freshNow(this.#loop);
  }

  #wakeWriters(): void {
    const ws = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of ws) w();
  }

  // ---- parser callbacks --------------------------------------------------------------------

  #onHead(head: HttpMessageHead): void {
    const ex = this.#ex;
    if (ex === null) throw new HttpClientError(HTTP_CLIENT_CODES.CONNECTION_CLOSED, 'a response nobody asked for');
    // 1xx informational responses (100 Continue, 103 Early Hints) precede the real one.
    if (head.statusCode < 200 && head.statusCode !== 101) return;
    if (head.upgrade) throw new HttpClientError(HTTP_CLIENT_CODES.UNEXPECTED_UPGRADE, `unexpected upgrade (status ${head.statusCode})`);
    ex.headersTimer?.cancel();
    ex.headersTimer = null;
    if (!head.keepAlive) ex.keepAlive = false;
    this.#keepAliveHintMs = keepAliveHint(head.headers);
    const source: BodySource = {
      pause: () => {
        this.#transport?.pauseReading();
        ex.bodyTimer?.cancel(); // waiting on our consumer is not the server's delay
        ex.bodyTimer = null;
      },
      resume: () => {
        if (this.#ex !== ex) return;
        this.#transport?.resumeReading();
        this.#armBodyTimer(ex);
      },
      cancel: () => {
        if (this.#ex === ex) this.#fail(new HttpClientError(HTTP_CLIENT_CODES.BODY_USED, 'the body was cancelled'), false);
      },
    };
    ex.body = new ResponseBody(source, ex.opts.highWaterMark);
    this.#armBodyTimer(ex);
    ex.resolve({ head, body: ex.body });
  }

  #onBody(chunk: Buffer): void {
    const ex = this.#ex!;
    ex.lastBodyAt = this.#loop.now();
    ex.body!.push(chunk);
  }

  #onMessageComplete(): void {
    const ex = this.#ex!;
    if (ex.body === null) return; // the end of a 1xx
    this.#parser.pause();
    ex.messageDone = true;
    ex.bodyTimer?.cancel();
    ex.bodyTimer = null;
    ex.body.end();
    if (ex.requestWritten) this.#finish(ex);
    else {
      // The server answered before the request was fully sent: the rest is not wanted, and the
      // connection's state is unclear, so it closes.
      ex.keepAlive = false;
      this.#finish(ex);
    }
  }

  // ---- ends of an exchange -----------------------------------------------------------------

  /** Starts the body-idle timer, counting from now. */
  #armBodyTimer(ex: Exchange): void {
    const ms = ex.opts.bodyTimeoutMs;
    if (ex.messageDone || ex.bodyTimer !== null) return;
    ex.lastBodyAt = freshNow(this.#loop);
    ex.bodyTimer = this.#idleTimer(ex, ms, () => ex.lastBodyAt, 'waiting for the response body', (t) => (ex.bodyTimer = t));
  }

  /** Starts the idle timer of a streamed request body: a source or a server that stalls ends the exchange. */
  #armSendTimer(ex: Exchange): void {
    ex.lastSendAt = freshNow(this.#loop);
    ex.sendTimer = this.#idleTimer(ex, ex.opts.bodyTimeoutMs, () => ex.lastSendAt, 'sending the request body', (t) => (ex.sendTimer = t));
  }

  /**
   * Fails the exchange with ERR_BODY_TIMEOUT once `since()` is `ms` in the past. One timer,
   * re-armed lazily for what is left (progress only moves a timestamp); `store` keeps the handle.
   */
  #idleTimer(ex: Exchange, ms: number, since: () => number, what: string, store: (t: TimerHandle | null) => void): TimerHandle | null {
    const check = (): void => {
      if (this.#ex !== ex) return;
      store(null);
      const idle = this.#loop.now() - since();
      if (idle >= ms) this.#fail(new ClientTimeoutError(HTTP_CLIENT_CODES.BODY_TIMEOUT, what, ms));
      else store(this.#loop.callLater(ms - idle, check));
    };
    return startTimer(this.#loop, ms, check);
  }

  #timer(ms: number, code: string, what: string): TimerHandle | null {
    const ex = this.#ex;
    return startTimer(this.#loop, ms, () => {
      if (this.#ex === ex) this.#fail(new ClientTimeoutError(code, what, ms));
    });
  }

  #cleanup(ex: Exchange): void {
    this.#ex = null;
    ex.headersTimer?.cancel();
    ex.bodyTimer?.cancel();
    ex.sendTimer?.cancel();
    ex.headersTimer = ex.bodyTimer = ex.sendTimer = null;
    if (ex.onAbort !== null) ex.opts.signal!.removeEventListener('abort', ex.onAbort);
    ex.onAbort = null;
  }

  /** The response arrived in full: back to the pool, or closed. */
  #finish(ex: Exchange): void {
    this.#cleanup(ex);
    const t = this.#transport;
    if (ex.keepAlive && !this.closed && t !== null) {
      t.resumeReading(); // to notice a close while idle
      this.#owner.released(this);
    } else t?.close();
  }

  /** Fails the exchange and destroys the connection. */
  #fail(err: Error, report = true): void {
    const ex = this.#ex;
    if (ex === null) return;
    this.#cleanup(ex);
    if (ex.body === null) ex.reject(err);
    else if (report) ex.body.error(err);
    this.#transport?.abort();
  }
}

/** `Keep-Alive: timeout=N` → N seconds in ms, or -1. */
function keepAliveHint(headers: readonly string[]): number {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'keep-alive') continue;
    const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(headers[i + 1]!);
    if (m !== null) return Number(m[1]) * 1000;
  }
  return -1;
}
