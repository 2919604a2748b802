/**
 * The native response: status, headers, then either `end(body)` (the fast path: one head string,
 * Content-Length computed, both appended to the connection's cork) or streaming with
 * `write(chunk)` (chunked transfer coding when no Content-Length was set; `write` returns false
 * while the transport is above its high-water mark and `await res.drain()` waits for room).
 */
import {
  checkFields, checkHeader, fieldFlag, framingConflict, H_CONNECTION_CLOSE, H_CONTENT_LENGTH, H_DATE, H_FRAMING, H_TRANSFER_ENCODING,
  headerFlag, parseContentLength, PreparedHeaders, type HeaderInit, type HeaderValue,
} from './headers.js';
import { writeBytes, writeLatin1, writeShared, writeUtf8, type OutputSink } from './output.js';
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';
import { isValidStatus, statusLine } from './status.js';

/** What a response needs from its connection. */
export interface ResponseOwner extends OutputSink {
  /** The cached "Date: …\r\n" line. */
  readonly dateLine: string;
  /** True while the transport is above its high-water mark. */
  readonly writePaused: boolean;
  /** True once the server is shutting down: the response says Connection: close. */
  readonly draining: boolean;
  /** The response head went out (a 100 Continue is no longer due). */
  responseStarted(res: ServerResponse): void;
  /** The response is complete; `keepAlive` false closes the connection after it. */
  responseFinished(res: ServerResponse, keepAlive: boolean): void;
  /** Resolves when writing may go on; rejects with ERR_HTTP_CONNECTION_CLOSED if the connection goes. */
  waitDrain(): Promise<void>;
}

const S_OPEN = 0;
const S_STREAMING = 1;
const S_ENDED = 2;

/** How the request shapes the response (bit flags). */
export const R_HEAD = 1; // a HEAD request: no body bytes
export const R_HTTP10 = 2; // an HTTP/1.0 request: no chunked coding
export const R_KEEP_ALIVE = 4; // the request allows another one after it
export const R_CONNECT = 8; // a CONNECT request: a 2xx to it carries no framing fields

type Body = string | Uint8Array;

/** The head of the last response sent through the fast path, and what it was built from. */
const lastHead = {
  prepared: null as PreparedHeaders | null,
  status: 0,
  bodyLength: -1,
  req: -1,
  date: '',
  noBody: false,
  keepAlive: false,
  contentLength: -1,
  bytes: Buffer.alloc(0),
  /** The string body last sent after that head, and head + body encoded together. */
  body: null as string | null,
  whole: Buffer.alloc(0),
};

/** String bodies up to this many UTF-16 units are cached with the head (one copy per response). */
const WHOLE_MAX = 1024;

/**
 * @example
 * function handler(req: ServerRequest, res: ServerResponse) {
 *   res.setHeader('Content-Type', 'text/plain');
 *   res.end('Hello, World!');
 * }
 * // streaming, with backpressure:
 * async function stream(req: ServerRequest, res: ServerResponse) {
 *   for (const part of parts) if (!res.write(part)) await res.drain();
 *   res.end();
 * }
 */
export class ServerResponse {
  /** The status code sent with the head (default 200). */
  statusCode = 200;
  #owner: ResponseOwner;
  #req: number;
  #state = S_OPEN;
  #names: string[] | null = null;
  #values: string[] | null = null;
  #prepared: PreparedHeaders | null = null;
  #flags = 0;
  #contentLength = -1;
  #written = 0;
  #chunked = false;
  #noBody = false;
  #keepAlive = false;
  #closed = false;

  /** @internal made by the connection for each request */
  constructor(owner: ResponseOwner, requestFlags: number) {
    this.#owner = owner;
    this.#req = requestFlags;
  }

  /** True once the head was handed to the connection (headers can no longer change). */
  get headersSent(): boolean {
    return this.#state !== S_OPEN;
  }

  /** True once `end()` was called. */
  get finished(): boolean {
    return this.#state === S_ENDED;
  }

  /** True once the connection is gone: writes are dropped, drain() rejects. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sets a header, replacing any field of the same name set before (case-insensitive; a prepared
   * block's fields stay). Arrays send one field each. Throws, and replaces nothing:
   * ERR_HTTP_INVALID_HEADER for a name that is not a token, a value with a character outside
   * HTAB, 0x20–0x7E, 0x80–0xFF, a Content-Length that is not a decimal number, or a
   * Transfer-Encoding whose final coding is not `chunked` (or that applies it twice: the server
   * frames with chunked only, RFC 9112 §6.1); ERR_HTTP_FRAMING_CONFLICT when the response would
   * carry two framing fields (RFC 9112 §6.2, RFC 9110 §5.3): a Content-Length next to a
   * Transfer-Encoding or the reverse, an array of two, or one next to a prepared block's.
   */
  setHeader(name: string, value: HeaderValue): this {
    this.#assertOpen();
    if (typeof value === 'number') value = String(value);
    if (typeof value === 'string') {
      const f = this.#check(name, value, 1); // before removing: a refused value leaves the old one in place
      this.removeHeader(name);
      this.#store(name, value, f);
    } else if (Array.isArray(value)) {
      let f = 0;
      for (const v of value as readonly string[]) f = fieldFlag(name, v);
      if (value.length > 0) this.#check(name, value[0]!, value.length); // the values first: a bad one is ERR_HTTP_INVALID_HEADER
      this.removeHeader(name);
      for (const v of value as readonly string[]) this.#store(name, v, f);
    } else checkHeader(name, value as unknown as string); // not a string: throws the typed error
    return this;
  }

  /**
   * Adds a header field without replacing others of the same name (Set-Cookie); throws as
   * setHeader does, and ERR_HTTP_FRAMING_CONFLICT for a Content-Length or Transfer-Encoding on a
   * response that already has one of them (never two framing fields: use setHeader to replace).
   */
  appendHeader(name: string, value: string): this {
    this.#assertOpen();
    const f = fieldFlag(name, value);
    if ((f & H_FRAMING) !== 0 && (this.#flags & H_FRAMING) !== 0) throw framingConflict();
    this.#store(name, value, f);
    return this;
  }

  /** The first value of a header (case-insensitive), or undefined. */
  getHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    const names = this.#names;
    if (names !== null) for (let i = 0; i < names.length; i++) if (names[i]!.toLowerCase() === lower) return this.#values![i];
    const p = this.#prepared;
    if (p !== null) for (const [n, v] of p.fields) if (n.toLowerCase() === lower) return v;
    return undefined;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  /** Removes every field of that name (case-insensitive). */
  removeHeader(name: string): this {
    this.#assertOpen();
    const names = this.#names;
    if (names === null) return this;
    const lower = name.toLowerCase();
    const values = this.#values!;
    let removed = false;
    for (let i = names.length - 1; i >= 0; i--) {
      if (names[i]!.toLowerCase() === lower) {
        names.splice(i, 1);
        values.splice(i, 1);
        removed = true;
      }
    }
    if (removed) this.#recomputeFlags();
    return this;
  }

  /**
   * Sets the status and (optionally) headers; the head goes out with the first write/end.
   *
   * As in Node, the headers given here replace the fields of the same names set before with
   * setHeader/appendHeader (case-insensitive; all the values given here are kept), so
   * `setHeader('Content-Length', '5')` then `writeHead(200, { 'Content-Length': '3' })` sends one
   * `Content-Length: 3`. A prepared block replaces an earlier prepared block wholesale, framing
   * included. Checked as setHeader does, before anything changes: on a throw the status and the
   * headers stay as they were. A Content-Length or Transfer-Encoding next to a prepared block's,
   * or two framing fields given at once, throw ERR_HTTP_FRAMING_CONFLICT.
   *
   * A PreparedHeaders block is sent as it is (see prepareHeaders), except for the framing fields
   * a status forbids: 1xx, 204, 205 and a 2xx to CONNECT never carry the handler's
   * Content-Length or Transfer-Encoding (a 205 gets `Content-Length: 0`), an HTTP/1.0 request
   * never gets its Transfer-Encoding.
   *
   * To an HTTP/1.0 request, `writeHead(1xx)` is a no-op (RFC 9110 §15.2: no 1xx to an HTTP/1.0
   * client): status and headers stay as they were, and the final response follows as usual.
   */
  writeHead(status: number, headers?: HeaderInit | PreparedHeaders): this {
    this.#assertOpen();
    if (!isValidStatus(status)) throw httpError(HTTP_SERVER_CODES.INVALID_STATUS, `invalid status code ${String(status)}`);
    if (status < 200 && (this.#req & R_HTTP10) !== 0) return this;
    if (headers instanceof PreparedHeaders) this.#setPrepared(headers);
    else if (headers !== undefined) this.#setFields(headers);
    this.statusCode = status;
    return this;
  }

  /**
   * Sends the head now (without body bytes): for event streams and long polls. Without a
   * Content-Length the body that follows is chunked.
   */
  flushHeaders(): void {
    if (this.#state === S_OPEN) this.#sendHead(-1);
  }

  /**
   * Writes a piece of the body (the head first, if not yet sent). Returns false while the
   * connection's write buffer is above its high-water mark: then `await res.drain()`.
   * Throws ERR_HTTP_RESPONSE_ENDED after end().
   */
  write(chunk: Body): boolean {
    if (this.#state === S_ENDED) throw httpError(HTTP_SERVER_CODES.RESPONSE_ENDED, 'write after end()');
    if (this.#state === S_OPEN) this.#sendHead(-1);
    if (this.#closed) return false;
    this.#body(chunk);
    return !this.#owner.writePaused;
  }

  /**
   * Ends the response, with an optional last piece of body. On a fresh response this is the fast
   * path: one head with Content-Length, body appended, no chunking. `headers` (prepared) are
   * added to the head as by `writeHead(statusCode, headers)`: they replace the fields of the same
   * names set before, and an earlier prepared block.
   */
  end(body?: Body, headers?: PreparedHeaders): void {
    if (this.#state === S_ENDED) throw httpError(HTTP_SERVER_CODES.RESPONSE_ENDED, 'end() called twice');
    if (this.#state === S_OPEN) {
      if (headers !== undefined) this.#setPrepared(headers);
      // The same head and string body as the previous response: copy both as one block.
      if (typeof body === 'string' && body === lastHead.body && this.#sameHead(lastHead.bodyLength)) {
        this.#endCached(lastHead.bodyLength);
        return;
      }
      const n = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      this.#sendHead(n);
      if (n > 0 && !this.#noBody && !this.#closed) {
        if (this.#chunked) this.#body(body!); // end(body) with the handler's Transfer-Encoding
        else {
          this.#written = n;
          if (typeof body === 'string') {
            if (body.length <= WHOLE_MAX && lastHead.body === null && this.#names === null && !this.#owner.draining) this.#cacheWhole(body, n);
            writeUtf8(this.#owner, body);
          } else writeBytes(this.#owner, body!);
        }
      }
    } else if (body !== undefined) {
      this.#body(body);
    }
    this.#state = S_ENDED;
    if (this.#chunked && !this.#noBody && !this.#closed) writeLatin1(this.#owner, '0\r\n\r\n');
    // fewer bytes than the Content-Length promised: the peer cannot find the next response
    if (this.#contentLength >= 0 && this.#written !== this.#contentLength && !this.#noBody) this.#keepAlive = false;
    if (!this.#closed) this.#owner.responseFinished(this, this.#keepAlive);
  }

  /** Resolves when the connection can take more (at once if it can); rejects if it closed. */
  drain(): Promise<void> {
    if (this.#closed) return Promise.reject(httpError(HTTP_SERVER_CODES.CONNECTION_CLOSED, 'the connection is closed'));
    if (!this.#owner.writePaused) return Promise.resolve();
    return this.#owner.waitDrain();
  }

  /** @internal the connection is gone */
  markClosed(): void {
    this.#closed = true;
  }

  /** @internal a fresh response whose request turned out bad (500 after a throw): drop what was set */
  reset(status: number): void {
    this.statusCode = status;
    this.#names = this.#values = null;
    this.#prepared = null;
    this.#flags = 0;
    this.#contentLength = -1;
  }

  // ---- internals ----------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#state !== S_OPEN) throw httpError(HTTP_SERVER_CODES.HEADERS_SENT, 'the headers were already sent');
  }

  /**
   * Throws unless `count` fields of this name and value may replace those of the name set before
   * (see setHeader); returns the field's flag (H_*).
   */
  #check(name: string, value: string, count: number): number {
    const f = fieldFlag(name, value);
    // a framing field replaces its own name's fields only: any other framing field that stays
    // (the other name, or a prepared block's) would make two
    if ((f & H_FRAMING) !== 0 && (count > 1 || (((this.#flags & ~f) | (this.#prepared?.flags ?? 0)) & H_FRAMING) !== 0)) throw framingConflict();
    return f;
  }

  /** writeHead's fields: all checked, then they replace the fields of their names (Node's writeHead). */
  #setFields(init: HeaderInit): void {
    const { names, values, flags, contentLength: cl } = checkFields(init);
    const framing = flags & H_FRAMING;
    if (framing !== 0 && (((this.#flags & ~framing) | (this.#prepared?.flags ?? 0)) & H_FRAMING) !== 0) throw framingConflict();
    if (this.#names === null) {
      // nothing set before (the usual writeHead): the checked fields are the response's
      this.#names = names;
      this.#values = values;
    } else {
      if (this.#removeNamed(names.map((n) => n.toLowerCase()))) this.#recomputeFlags();
      this.#names.push(...names);
      this.#values!.push(...values);
    }
    this.#flags |= flags;
    if (cl >= 0) this.#contentLength = cl;
  }

  /** Removes the fields whose lower-cased name is in `lower`; true if any was. */
  #removeNamed(lower: readonly string[]): boolean {
    const names = this.#names!;
    const values = this.#values!;
    let removed = false;
    for (let i = names.length - 1; i >= 0; i--) {
      if (lower.includes(names[i]!.toLowerCase())) {
        names.splice(i, 1);
        values.splice(i, 1);
        removed = true;
      }
    }
    return removed;
  }

  /** Adds a field that passed #check, `f` its framing flag. */
  #store(name: string, value: string, f: number): void {
    if (f === H_CONTENT_LENGTH) this.#contentLength = Number(value);
    this.#flags |= f;
    (this.#names ??= []).push(name);
    (this.#values ??= []).push(value);
  }

  /** A prepared block replaces the earlier one and the fields of its names (see writeHead). */
  #setPrepared(p: PreparedHeaders): void {
    const names = this.#names;
    if (names === null) {
      // the hot path (end(body, prepared) on a fresh response): the block is all there is
      this.#prepared = p;
      this.#flags = p.flags;
      this.#contentLength = p.contentLength;
      return;
    }
    if ((p.flags & H_FRAMING) !== 0) {
      // a framing field that stays (not of the block's names) would be the second one
      const values = this.#values!;
      for (let i = 0; i < names.length; i++) {
        if ((headerFlag(names[i]!, values[i]!) & H_FRAMING) !== 0 && !p.lowerNames.includes(names[i]!.toLowerCase())) throw framingConflict();
      }
    }
    this.#removeNamed(p.lowerNames);
    this.#prepared = p;
    this.#recomputeFlags();
  }

  #recomputeFlags(): void {
    this.#flags = this.#prepared?.flags ?? 0;
    this.#contentLength = this.#prepared?.contentLength ?? -1;
    const names = this.#names!;
    for (let i = 0; i < names.length; i++) {
      const f = headerFlag(names[i]!, this.#values![i]!);
      if (f === H_CONTENT_LENGTH) this.#contentLength = parseContentLength(this.#values![i]!);
      this.#flags |= f;
    }
  }

  /** True when the head to send is the cached one (same inputs, same Date second). */
  #sameHead(bodyLength: number): boolean {
    const h = lastHead;
    return (
      this.#names === null && h.prepared === this.#prepared && h.status === this.statusCode && h.bodyLength === bodyLength &&
      h.req === this.#req && bodyLength >= 0 && h.date === this.#owner.dateLine && !this.#owner.draining
    );
  }

  /** end(body) when head and body are the cached ones: one copy, no encoding. */
  #endCached(n: number): void {
    const h = lastHead;
    const owner = this.#owner;
    this.#state = S_ENDED;
    this.#noBody = h.noBody;
    this.#keepAlive = h.keepAlive;
    if (h.contentLength >= 0) this.#contentLength = h.contentLength;
    if (!h.noBody) {
      this.#written = n;
      // a prepared Content-Length that differs from the body: the peer cannot find the next response
      if (this.#contentLength !== n) this.#keepAlive = false;
    }
    if (this.#closed) return;
    writeShared(owner, h.noBody ? h.bytes : h.whole);
    owner.responseStarted(this);
    owner.responseFinished(this, this.#keepAlive);
  }

  /** Remembers head + body bytes after a head was cached (called right after #sendHead). */
  #cacheWhole(body: string, n: number): void {
    const h = lastHead;
    if (h.prepared !== this.#prepared || h.status !== this.statusCode || h.bodyLength !== n || h.req !== this.#req) return;
    const head = h.bytes;
    const whole = Buffer.allocUnsafe(head.length + n);
    head.copy(whole, 0);
    whole.write(body, head.length, n, 'utf8');
    h.whole = whole;
    h.body = body;
  }

  /** `bodyLength` >= 0: end(body) with that many bytes; -1: streaming follows. */
  #sendHead(bodyLength: number): void {
    const owner = this.#owner;
    const status = this.statusCode;
    // The same head as the previous response (hello world, a JSON API with prepared headers)?
    // Then copy its bytes instead of building and encoding the string again.
    const h = lastHead;
    if (this.#sameHead(bodyLength)) {
      this.#state = S_STREAMING;
      this.#noBody = h.noBody;
      this.#keepAlive = h.keepAlive;
      if (h.contentLength >= 0) this.#contentLength = h.contentLength;
      if (this.#closed) return;
      writeShared(owner, h.bytes);
      owner.responseStarted(this);
      return;
    }
    if (!isValidStatus(status)) throw httpError(HTTP_SERVER_CODES.INVALID_STATUS, `invalid status code ${String(status)}`);
    const req = this.#req;
    // a 1xx set through statusCode (writeHead(1xx) is a no-op for HTTP/1.0): RFC 9110 §15.2
    if (status < 200 && (req & R_HTTP10) !== 0) throw httpError(HTTP_SERVER_CODES.INVALID_STATUS, `a ${status} response to an HTTP/1.0 request`);
    let flags = this.#flags;
    this.#state = S_STREAMING;
    let keepAlive = (req & R_KEEP_ALIVE) !== 0 && (flags & H_CONNECTION_CLOSE) === 0 && !owner.draining;
    let noBody = (req & R_HEAD) !== 0;
    let framed = true; // the server adds Content-Length or chunked coding unless the handler set one
    let strip = 0; // framing fields the handler set that this response must not carry
    if (status < 300 && (status < 200 || status === 204 || status === 205 || (req & R_CONNECT) !== 0)) {
      // no content and no framing fields: 1xx, 204 (RFC 9110 §8.6, RFC 9112 §6.1), 205 (§15.3.6:
      // Content-Length: 0 below), a 2xx to CONNECT (§9.3.6: the bytes after it belong to the
      // tunnel, which evloop does not provide, so the connection closes after the head)
      noBody = true;
      framed = false;
      strip = H_FRAMING;
      if (status >= 200 && (req & R_CONNECT) !== 0) keepAlive = false;
    } else if (status === 304) {
      noBody = true; // the handler's Content-Length (the 200's) may stay
      framed = false;
    }
    if ((req & R_HTTP10) !== 0) strip |= H_TRANSFER_ENCODING; // RFC 9112 §6.1
    strip &= flags;
    if (strip !== 0) {
      flags &= ~strip;
      if ((strip & H_CONTENT_LENGTH) !== 0) this.#contentLength = -1;
    }
    let head = statusLine(status);
    if ((flags & H_DATE) === 0) head += owner.dateLine;
    const names = this.#names;
    if (names !== null) {
      const values = this.#values!;
      if (strip === 0) for (let i = 0; i < names.length; i++) head += names[i] + ': ' + values[i] + '\r\n';
      else for (let i = 0; i < names.length; i++) if ((headerFlag(names[i]!, values[i]!) & strip) === 0) head += names[i] + ': ' + values[i] + '\r\n';
    }
    const prepared = this.#prepared;
    if (prepared !== null) head += (prepared.flags & strip) === 0 ? prepared.text : fieldsWithout(prepared, strip);
    if (status === 205 && (req & R_CONNECT) === 0) head += 'Content-Length: 0\r\n';
    this.#noBody = noBody;
    if (framed && (flags & H_CONTENT_LENGTH) === 0) {
      if ((flags & H_TRANSFER_ENCODING) !== 0) {
        this.#chunked = true; // the handler's Transfer-Encoding (HTTP/1.1 only: stripped above for 1.0), never a Content-Length too
      } else if (bodyLength >= 0) {
        head += 'Content-Length: ' + bodyLength + '\r\n';
        this.#contentLength = bodyLength;
      } else if ((req & R_HTTP10) !== 0) {
        keepAlive = false; // the body ends with the connection
      } else {
        this.#chunked = true;
        head += 'Transfer-Encoding: chunked\r\n';
      }
    }
    if (!keepAlive) {
      if ((flags & H_CONNECTION_CLOSE) === 0) head += 'Connection: close\r\n';
    } else if ((req & R_HTTP10) !== 0) {
      head += 'Connection: keep-alive\r\n';
    }
    this.#keepAlive = keepAlive;
    if (this.#closed) return;
    head += '\r\n';
    if (this.#names === null && bodyLength >= 0 && !owner.draining && !this.#chunked) {
      const c = lastHead;
      c.prepared = this.#prepared;
      c.status = status;
      c.bodyLength = bodyLength;
      c.req = req;
      c.date = owner.dateLine;
      c.noBody = this.#noBody;
      c.keepAlive = keepAlive;
      c.contentLength = this.#contentLength;
      c.bytes = Buffer.from(head, 'latin1');
      c.body = null;
      writeShared(owner, c.bytes);
    } else {
      writeLatin1(owner, head);
    }
    owner.responseStarted(this);
  }

  #body(chunk: Body): void {
    const n = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (n === 0) return;
    if (this.#contentLength >= 0 && this.#written + n > this.#contentLength) {
      throw httpError(HTTP_SERVER_CODES.CONTENT_LENGTH_MISMATCH, `body exceeds the Content-Length of ${this.#contentLength} bytes`);
    }
    this.#written += n;
    if (this.#noBody || this.#closed) return;
    const owner = this.#owner;
    if (this.#chunked) writeLatin1(owner, n.toString(16) + '\r\n');
    if (typeof chunk === 'string') writeUtf8(owner, chunk);
    else writeBytes(owner, chunk);
    if (this.#chunked) writeLatin1(owner, '\r\n');
  }
}

/** The lines of a prepared block without the framing fields in `strip` (rare: a status that forbids them). */
function fieldsWithout(p: PreparedHeaders, strip: number): string {
  let text = '';
  for (const [n, v] of p.fields) if ((headerFlag(n, v) & strip) === 0) text += n + ': ' + v + '\r\n';
  return text;
}
