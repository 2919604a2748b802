/**
 * One HTTP/1.1 connection: a BufferedProtocol that reads into one buffer shared by every
 * connection of the thread (no allocation per read), feeds the parser, calls the handler
 * synchronously from the parser's callbacks, and flushes every response written during the read
 * in one send (see output.ts). Requests are answered strictly in order: while a response is
 * pending, the parser is paused at the end of the next request and the unparsed rest is kept.
 *
 * Flow control: a client that does not read its responses (the write buffer is over its
 * high-water mark) gets nothing more dispatched: reading stops, and the parser stops at the next
 * message boundary, keeping the unparsed rest (at most one read) until the buffer drains. So
 * pipelining N requests for large responses costs one response in memory, not N.
 *
 * Timeouts are deadlines checked by the server's sweep (one timer per server, none per request):
 * the header section must arrive within `headersTimeoutMs` of its first byte (slowloris), each
 * body piece within `bodyTimeoutMs` of the last, the whole request within `requestTimeoutMs` of
 * its first byte, and an idle keep-alive connection is closed after `keepAliveTimeoutMs`. Time
 * the server itself does not read a body (the handler has not read what arrived, or the client
 * does not read our responses) does not count against the client. Bytes waiting to be sent —
 * over the high-water mark, or any at all once the connection is closing — must be taken by the
 * client, some every `sendTimeoutMs`, else the connection is aborted.
 */
import type { Loop } from '../loop/loop.js';
import type { BufferedProtocol, Transport } from '../net/protocol.js';
import { HttpParseError } from './errors.js';
import { HttpParser, type HttpMessageHead, type HttpParserHandlers, type HttpParserLimits } from './parser.js';
import { beginDispatch, endDispatch, flushOutput, flushOutputOf, writeLatin1 } from './output.js';
import { ServerRequest, type RequestOwner } from './request.js';
import { R_CONNECT, R_HEAD, R_HTTP10, R_KEEP_ALIVE, ServerResponse, type ResponseOwner } from './response.js';
import { requestSemanticsError } from './semantics.js';
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';
import { statusLine } from './status.js';

/** A request handler of the native API. It may answer at once or later (async). */
export type HttpHandler = (req: ServerRequest, res: ServerResponse) => void | Promise<void>;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly loop: Loop;
  readonly handler: HttpHandler;
  readonly limits: HttpParserLimits;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly sendTimeoutMs: number;
  readonly draining: boolean;
  readonly dateLine: string;
  connectionOpened(c: HttpConnection): void;
  connectionClosed(c: HttpConnection): void;
  /** A request was dispatched to the handler. */
  requestStarted(): void;
  handlerFailed(err: unknown, req: ServerRequest | null): void;
}

const IN_SIZE = 64 * 1024;
/** The receive buffer of every connection of this thread: parsed at once, never kept. */
const IN = Buffer.allocUnsafeSlow(IN_SIZE);

// The view of IN's first n bytes, kept while n repeats (clients tend to send the same request
// again and again: no Buffer allocated per read). The parser keeps nothing of it after a feed.
let inViewLen = 0;
let inViewBuf: Buffer = IN.subarray(0, 0);

function inView(n: number): Buffer {
  if (n !== inViewLen) {
    inViewBuf = IN.subarray(0, n);
    inViewLen = n;
  }
  return inViewBuf;
}

// Where the connection is, for its deadline.
const P_IDLE = 0; // between requests (keep-alive timeout)
const P_HEAD = 1; // a header section is arriving (headers timeout, from its first byte)
const P_BODY = 2; // a body is arriving (body timeout, from the last piece)
const P_BUSY = 3; // the handler has the request (no deadline)

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** @internal made by HttpServer per accepted connection */
export class HttpConnection implements BufferedProtocol, HttpParserHandlers, RequestOwner, ResponseOwner {
  transport: Transport | null = null;
  /** Loop time after which checkTimeout acts. */
  deadline = Infinity;
  /** Loop time by which the client must have taken some of the bytes waiting for it. */
  sendDeadline = Infinity;
  /** Bytes waiting when sendDeadline was set: fewer at the deadline is progress. */
  #sendMark = 0;
  /** Loop time by which the current request must have arrived whole. */
  #requestDeadline = Infinity;
  /** Loop time since which the server holds back a body's reading (-1: it does not). */
  #heldSince = -1;
  #host: ConnectionHost;
  #parser: HttpParser;
  #phase = P_HEAD;
  #req: ServerRequest | null = null;
  #res: ServerResponse | null = null;
  #msgComplete = false;
  #resDone = false;
  #resKeepAlive = false;
  #headStarted = false; // bytes of the current head arrived (a 408 is due on timeout)
  #stopAfter = false; // no request after the current one (Connection: close, upgrade, EOF)
  #closing = false;
  #feeding = false;
  #pendingIn: Buffer | null = null;
  #expectContinue = false;
  #writePaused = false;
  #drain: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(host: ConnectionHost) {
    this.#host = host;
    this.#parser = new HttpParser('request', this, host.limits);
  }

  get dateLine(): string {
    return this.#host.dateLine;
  }

  get writePaused(): boolean {
    return this.#writePaused;
  }

  get draining(): boolean {
    return this.#host.draining;
  }

  /** True when no request is in progress, not even part of a head (a graceful close may end the connection now). */
  get idle(): boolean {
    return this.#req === null && this.#pendingIn === null && !this.#headStarted;
  }

  // ---- protocol ---------------------------------------------------------------------------

  connectionMade(t: Transport): void {
    this.transport = t;
    this.deadline = this.#host.loop.now() + this.#host.headersTimeoutMs;
    this.#host.connectionOpened(this);
  }

  getBuffer(): Uint8Array {
    return IN;
  }

  bufferUpdated(n: number): void {
    beginDispatch();
    try {
      const pending = this.#pendingIn;
      if (pending !== null) {
        // a read raced a pause: parse in order
        this.#pendingIn = null;
        this.#feed(Buffer.concat([pending, IN.subarray(0, n)]), false);
      } else this.#feed(inView(n), true);
    } finally {
      endDispatch();
    }
    // whoever owns the cork (a handler may have written to another connection's response)
    flushOutput();
  }

  eofReceived(): boolean {
    if (this.#req === null) {
      this.#closeAfterFlush(); // idle: close (the send deadline still holds for what is queued)
      return false;
    }
    if (!this.#msgComplete) {
      this.#req.failBody(httpError(HTTP_SERVER_CODES.CONNECTION_CLOSED, 'the client closed the connection in the middle of the request'));
      this.#res?.markClosed();
      this.#closeAfterFlush();
      return false;
    }
    this.#stopAfter = true; // answer, then close
    return true;
  }

  connectionLost(): void {
    this.transport = null;
    this.#closing = true;
    this.deadline = Infinity;
    const req = this.#req;
    const res = this.#res;
    if (req !== null && !(res !== null && res.finished)) {
      req.failBody(httpError(HTTP_SERVER_CODES.CONNECTION_CLOSED, 'the connection closed before the response was finished'));
    }
    res?.markClosed();
    this.#req = this.#res = null;
    this.#pendingIn = null;
    const d = this.#drain;
    if (d !== null) {
      this.#drain = null;
      d.reject(httpError(HTTP_SERVER_CODES.CONNECTION_CLOSED, 'the connection closed'));
    }
    this.#host.connectionClosed(this);
  }

  pauseWriting(): void {
    this.#writePaused = true;
    this.#armSendDeadline();
    // a client that does not read its responses gets no more requests parsed: memory stays
    // bounded (and the parser stops at the next message boundary, see #exchangeDone)
    if (this.#phase === P_BODY) this.#holdBody();
    this.transport?.pauseReading();
  }

  resumeWriting(): void {
    this.#writePaused = false;
    this.sendDeadline = Infinity;
    const d = this.#drain;
    if (d !== null) {
      this.#drain = null;
      d.resolve();
    }
    if (this.#closing) return;
    if (!this.#parser.paused) {
      this.#releaseBody();
      this.transport?.resumeReading();
    } else if (this.#req === null) {
      // held at a message boundary while the client did not read: it idles from now, and what
      // it pipelined meanwhile is dispatched
      this.#phase = P_IDLE;
      this.deadline = this.#host.loop.now() + this.#host.keepAliveTimeoutMs;
      this.#resumeInput();
    }
  }

  // ---- parser callbacks -------------------------------------------------------------------

  onMessageBegin(): void {
    const host = this.#host;
    const now = host.loop.now();
    this.#phase = P_HEAD;
    this.#headStarted = true;
    this.#requestDeadline = now + host.requestTimeoutMs;
    this.deadline = Math.min(now + host.headersTimeoutMs, this.#requestDeadline);
  }

  onHeadersComplete(head: HttpMessageHead): void {
    const refused = requestSemanticsError(head);
    if (refused !== null) throw refused; // out of parser.feed: answered by #parseFailed like a parse error
    const host = this.#host;
    const minor = head.versionMinor;
    const hasBody = head.chunked || head.contentLength > 0;
    let flags = (head.keepAlive && !head.upgrade ? R_KEEP_ALIVE : 0) | (minor === 0 ? R_HTTP10 : 0);
    if (head.method === 'HEAD') flags |= R_HEAD;
    else if (head.upgrade && head.method === 'CONNECT') flags |= R_CONNECT;
    if ((flags & R_KEEP_ALIVE) === 0) this.#stopAfter = true;
    const req = new ServerRequest(this, head.method, head.target, head.headers, minor, hasBody);
    const res = new ServerResponse(this, flags);
    this.#req = req;
    this.#res = res;
    this.#msgComplete = false;
    this.#resDone = false;
    this.#headStarted = false;
    this.#expectContinue = false;
    this.#heldSince = -1;
    if (hasBody) {
      this.#phase = P_BODY;
      this.deadline = Math.min(host.loop.now() + host.bodyTimeoutMs, this.#requestDeadline);
    } else {
      this.#phase = P_BUSY;
      this.deadline = Infinity;
    }
    const expect = findExpect(head.headers);
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') {
        // RFC 9110 §10.1.1: an expectation we cannot meet. Whether the client sends the body
        // anyway is unknown, so the framing is too: answer and close, the handler never runs.
        this.#sendErrorAndClose(417);
        return;
      }
      this.#expectContinue = hasBody && minor === 1;
    }
    host.requestStarted();
    try {
      const r = host.handler(req, res);
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
        (r as Promise<void>).then(undefined, (err: unknown) => this.#handlerFailed(req, res, err));
      }
    } catch (err) {
      this.#handlerFailed(req, res, err);
    }
  }

  onBody(chunk: Buffer): void {
    if (!this.#req!.pushBody(chunk)) {
      // the handler lags: stop reading, and the client is not to blame until it reads again
      this.#parser.pause();
      this.#holdBody();
    } else if (this.#heldSince < 0) {
      this.deadline = Math.min(this.#host.loop.now() + this.#host.bodyTimeoutMs, this.#requestDeadline);
    }
  }

  onMessageComplete(): void {
    this.#msgComplete = true;
    this.#heldSince = -1;
    this.#req!.endBody();
    if (this.#stopAfter) this.#parser.pause(); // nothing after this request is read
    if (this.#resDone) return this.#exchangeDone();
    this.#phase = P_BUSY;
    this.deadline = Infinity;
    this.#parser.pause(); // hold pipelined requests until this response is out
  }

  // ---- request/response owners --------------------------------------------------------------

  bodyWanted(): void {
    if (this.#expectContinue && this.#res !== null && !this.#res.headersSent) {
      this.#expectContinue = false;
      writeLatin1(this, CONTINUE);
    }
  }

  bodyDrained(): void {
    if (this.#msgComplete || this.#closing) return;
    this.#resumeInput();
  }

  responseStarted(): void {
    this.#expectContinue = false; // a final response makes the 100 moot
  }

  responseFinished(res: ServerResponse, keepAlive: boolean): void {
    if (res !== this.#res) return;
    this.#resDone = true;
    this.#resKeepAlive = keepAlive;
    if (this.#msgComplete) return this.#exchangeDone();
    // answered before the body was read: the rest of it is discarded as it arrives, unless the
    // client still waits for a 100 (then it may never send it: the framing is lost, close)
    this.#req!.discardBody();
    if (!keepAlive || this.#expectContinue) {
      this.#expectContinue = false;
      this.#closeAfterFlush();
      return;
    }
    if (this.#parser.paused && !this.#feeding) this.#resumeInput();
  }

  waitDrain(): Promise<void> {
    if (this.#drain === null) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // rejection is observed by whoever awaits; never unhandled here
      this.#drain = { promise, resolve, reject };
    }
    return this.#drain.promise;
  }

  // ---- server -------------------------------------------------------------------------------

  /** Called by the server's sweep: acts if a deadline passed. */
  checkTimeout(now: number): void {
    if (now >= this.sendDeadline) {
      // in every state, closing included: a closing transport waits for its queue otherwise
      const left = this.transport?.bufferedAmount ?? 0;
      if (left > 0 && left >= this.#sendMark) {
        // the client took nothing since the deadline was set: nothing more can be said to it
        this.#res?.markClosed();
        this.abort();
        return;
      }
      // it took some (a slow reader, not a stalled one): a new deadline from now
      this.#sendMark = left;
      this.sendDeadline = left > 0 ? now + this.#host.sendTimeoutMs : Infinity;
    }
    if (this.#closing || now < this.deadline) return;
    const phase = this.#phase;
    if (phase === P_HEAD && this.#headStarted) this.#sendErrorAndClose(408);
    else if (phase === P_BODY) {
      this.#req?.failBody(httpError(HTTP_SERVER_CODES.BODY_ABORTED, 'the request body timed out'));
      if (this.#res !== null && !this.#res.headersSent) this.#sendErrorAndClose(408);
      else this.#closeAfterFlush();
    } else this.#closeAfterFlush();
  }

  /** Graceful shutdown: an idle connection closes now, a busy one after its response. */
  shutdown(): void {
    if (this.idle) this.#closeAfterFlush();
  }

  abort(): void {
    this.#closing = true;
    this.transport?.abort();
  }

  // ---- internals ----------------------------------------------------------------------------

  #feed(chunk: Buffer, shared: boolean): void {
    if (this.#closing) return;
    const parser = this.#parser;
    let consumed: number;
    this.#feeding = true;
    try {
      consumed = parser.feed(chunk);
    } catch (err) {
      this.#feeding = false;
      this.#parseFailed(err);
      return;
    }
    this.#feeding = false;
    // Paused with bytes left over: keep them and stop reading until the parser resumes. Paused
    // with nothing left (the common async-handler case) reading goes on: a pause/resume pair
    // costs two epoll_ctl calls per request, and whatever arrives meanwhile is kept here anyway
    // (one read at most, then reading stops).
    if (parser.paused && consumed < chunk.length && !this.#closing) {
      if (!this.#stopAfter) {
        const rest = chunk.subarray(consumed);
        this.#pendingIn = shared ? Buffer.from(rest) : rest;
      }
      this.transport?.pauseReading();
    }
  }

  /** Parses what was held back (pipelined requests, a paused body) and reads again. */
  #resumeInput(): void {
    if (this.#closing || this.#feeding) return;
    const parser = this.#parser;
    parser.resume();
    this.#releaseBody();
    const pending = this.#pendingIn;
    if (pending !== null) {
      this.#pendingIn = null;
      beginDispatch();
      try {
        this.#feed(pending, false);
      } finally {
        endDispatch();
      }
      flushOutput();
    }
    if (!parser.paused && !this.#closing && !this.#writePaused) this.transport?.resumeReading();
  }

  #exchangeDone(): void {
    const keep = this.#resKeepAlive && !this.#stopAfter && !this.#host.draining;
    this.#req = this.#res = null;
    if (!keep) return this.#closeAfterFlush();
    this.#phase = P_IDLE;
    if (this.#writePaused) {
      // the client is not reading: dispatch nothing more (the rest of this read is kept by
      // #feed) until it does (resumeWriting); meanwhile only the send deadline runs
      this.#parser.pause();
      this.deadline = Infinity;
      return;
    }
    this.deadline = this.#host.loop.now() + this.#host.keepAliveTimeoutMs;
    if (this.#parser.paused && !this.#feeding) this.#resumeInput();
  }

  /** The client must take some of the queued bytes within sendTimeoutMs from now. */
  #armSendDeadline(): void {
    this.sendDeadline = this.#host.loop.now() + this.#host.sendTimeoutMs;
    this.#sendMark = this.transport?.bufferedAmount ?? 0;
  }

  /** The server stops reading a body (its own backpressure): the body/request deadlines stop. */
  #holdBody(): void {
    if (this.#heldSince >= 0) return;
    this.#heldSince = this.#host.loop.now();
    this.deadline = Infinity;
  }

  /** Reading a held body goes on: the deadlines go on too, the held time not counted. */
  #releaseBody(): void {
    const since = this.#heldSince;
    if (since < 0 || this.#writePaused || this.#parser.paused) return;
    this.#heldSince = -1;
    if (this.#phase !== P_BODY) return;
    const now = this.#host.loop.now();
    this.#requestDeadline += now - since;
    this.deadline = Math.min(now + this.#host.bodyTimeoutMs, this.#requestDeadline);
  }

  #parseFailed(err: unknown): void {
    if (!(err instanceof HttpParseError)) {
      // a bug on our side (or in a callback): never let it take the process down
      this.#host.handlerFailed(err, this.#req);
      this.#res?.markClosed();
      this.#closing = true;
      this.transport?.abort();
      return;
    }
    const req = this.#req;
    const res = this.#res;
    if (req !== null && !this.#msgComplete) req.failBody(httpError(HTTP_SERVER_CODES.BODY_ABORTED, `bad request body: ${err.message}`, err));
    if (err.code === 'HPE_CLOSED_CONNECTION' || (res !== null && res.headersSent)) {
      res?.markClosed();
      return this.#closeAfterFlush();
    }
    this.#sendErrorAndClose(err.status);
  }

  /** Answers `status` (no body) with Connection: close, then closes. */
  #sendErrorAndClose(status: number): void {
    this.#res?.markClosed();
    if (this.transport !== null && !this.#closing) {
      writeLatin1(this, `${statusLine(status)}${this.#host.dateLine}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    this.#closeAfterFlush();
  }

  #closeAfterFlush(): void {
    if (this.#closing) return;
    flushOutputOf(this);
    this.#closing = true;
    this.deadline = Infinity;
    this.#parser.pause();
    this.#pendingIn = null;
    const t = this.transport;
    if (t === null) return;
    t.close();
    // the queue still has to go out: the send deadline holds until it has
    if (this.sendDeadline === Infinity && t.bufferedAmount > 0) this.#armSendDeadline();
  }

  #handlerFailed(req: ServerRequest, res: ServerResponse, err: unknown): void {
    if (!res.closed) this.#host.handlerFailed(err, req);
    if (res !== this.#res || res.closed) return;
    if (!res.headersSent) {
      res.reset(500);
      res.setHeader('Connection', 'close');
      res.end();
    } else {
      // the head went out: a truncated body must not look complete
      res.markClosed();
      this.#closing = true;
      flushOutputOf(this);
      this.transport?.abort();
    }
  }
}

/** The Expect header's value, if any (the list is short: one length check per field). */
function findExpect(headers: string[]): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    if (n.length === 6 && n.toLowerCase() === 'expect') return headers[i + 1];
  }
  return undefined;
}
