/**
 * One HTTP/1.1 connection: a BufferedProtocol that reads into one buffer shared by every
 * connection of the thread (no allocation per read), feeds the parser, calls the handler
 * synchronously from the parser's callbacks, and flushes every response written during the read
 * in one send (see output.ts). Requests are answered strictly in order: while a response is
 * pending, the parser is paused at the end of the next request and the unparsed rest is kept.
 *
 * Timeouts are deadlines checked by the server's sweep (one timer per server, none per request):
 * the header section must arrive within `headersTimeoutMs` of its first byte (slowloris), each
 * body piece within `bodyTimeoutMs` of the last, and an idle keep-alive connection is closed
 * after `keepAliveTimeoutMs`.
 */
import type { Loop } from '../loop/loop.js';
import type { BufferedProtocol, Transport } from '../net/protocol.js';
import { HttpParseError } from './errors.js';
import { HttpParser, type HttpMessageHead, type HttpParserHandlers, type HttpParserLimits } from './parser.js';
import { beginDispatch, endDispatch, flushOutput, flushOutputOf, writeLatin1 } from './output.js';
import { ServerRequest, type RequestOwner } from './request.js';
import { R_HEAD, R_HTTP10, R_KEEP_ALIVE, ServerResponse, type ResponseOwner } from './response.js';
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
  /** Loop time by which a paused write buffer must have drained to its low-water mark. */
  sendDeadline = Infinity;
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

  /** True when no request is in progress (a graceful close may end the connection now). */
  get idle(): boolean {
    return this.#req === null && this.#pendingIn === null;
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
    if (this.#req === null) return false; // idle: close
    if (!this.#msgComplete) {
      this.#req.failBody(httpError(HTTP_SERVER_CODES.CONNECTION_CLOSED, 'the client closed the connection in the middle of the request'));
      this.#res?.markClosed();
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
    this.sendDeadline = this.#host.loop.now() + this.#host.sendTimeoutMs;
    // a client that does not read its responses gets no more requests parsed: memory stays bounded
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
    if (!this.#parser.paused && !this.#closing) this.transport?.resumeReading();
  }

  // ---- parser callbacks -------------------------------------------------------------------

  onMessageBegin(): void {
    this.#phase = P_HEAD;
    this.#headStarted = true;
    this.deadline = this.#host.loop.now() + this.#host.headersTimeoutMs;
  }

  onHeadersComplete(head: HttpMessageHead): void {
    const refused = requestSemanticsError(head);
    if (refused !== null) throw refused; // out of parser.feed: answered by #parseFailed like a parse error
    const host = this.#host;
    const minor = head.versionMinor;
    const hasBody = head.chunked || head.contentLength > 0;
    let flags = (head.keepAlive && !head.upgrade ? R_KEEP_ALIVE : 0) | (minor === 0 ? R_HTTP10 : 0);
    if (head.method === 'HEAD') flags |= R_HEAD;
    if ((flags & R_KEEP_ALIVE) === 0) this.#stopAfter = true;
    const req = new ServerRequest(this, head.method, head.target, head.headers, minor, hasBody);
    const res = new ServerResponse(this, flags);
    this.#req = req;
    this.#res = res;
    this.#msgComplete = false;
    this.#resDone = false;
    this.#headStarted = false;
    this.#expectContinue = false;
    if (hasBody) {
      this.#phase = P_BODY;
      this.deadline = host.loop.now() + host.bodyTimeoutMs;
    } else {
      this.#phase = P_BUSY;
      this.deadline = Infinity;
    }
    const expect = findExpect(head.headers);
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') {
        res.writeHead(417).end();
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
    const req = this.#req!;
    this.deadline = this.#host.loop.now() + this.#host.bodyTimeoutMs;
    if (!req.pushBody(chunk)) this.#parser.pause();
  }

  onMessageComplete(): void {
    this.#msgComplete = true;
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

  /** Called by the server's sweep: acts if the deadline passed. */
  checkTimeout(now: number): void {
    if (this.#closing) return;
    if (now >= this.sendDeadline) {
      // the client stopped reading what we send: nothing more can be said to it
      this.#res?.markClosed();
      this.abort();
      return;
    }
    if (now < this.deadline) return;
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
    this.deadline = this.#host.loop.now() + this.#host.keepAliveTimeoutMs;
    if (this.#parser.paused && !this.#feeding) this.#resumeInput();
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
    this.transport?.close();
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
