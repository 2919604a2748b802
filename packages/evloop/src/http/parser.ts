import { HttpParseError, type HttpParseErrorCode } from './errors.js';
import * as intern from './intern.js';
import * as tokens from './tokens.js';

// Module-local copies: under a CJS-transpiling loader (tsx) every use of an imported binding is a
// getter call, which made the hot loops twice as slow.
const { TOKEN, FIELD_VALUE, FIELD_VCHAR, TARGET, QDTEXT, HEX } = tokens;
const { KNOWN_METHODS, COMMON_FIELD_NAMES } = intern;
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** Which side of the exchange a parser reads. */
export type HttpParserKind = 'request' | 'response';

/** The parsed start-line and header section of one message, handed to `onHeadersComplete`. */
export interface HttpMessageHead {
  /** Request method as sent (case-sensitive token); '' for responses. */
  method: string;
  /** Request-target exactly as sent (origin, absolute, authority or asterisk form); '' for responses. */
  target: string;
  /** Response status code; 0 for requests. */
  statusCode: number;
  /** Response reason phrase (may be ''); '' for requests. */
  statusText: string;
  versionMajor: number;
  versionMinor: number;
  /** Field lines flattened as [name, value, name, value, …], names in their raw case, values OWS-trimmed. */
  headers: string[];
  /** The Content-Length value, or -1 when absent. */
  contentLength: number;
  /** True when the body uses the chunked transfer coding. */
  chunked: boolean;
  /**
   * True when Transfer-Encoding lists codings other than `chunked` (e.g. `gzip, chunked`). The
   * parser only frames the message: it removes the chunked coding, the others stay on the body.
   * A server that implements none of them answers 501 (RFC 9112 §6.1; see semantics.ts).
   */
  otherCodings: boolean;
  /** True when the connection may carry another message after this one. */
  keepAlive: boolean;
  /**
   * True for CONNECT requests, requests with `Upgrade` + `Connection: upgrade`, 101 responses and
   * 2xx responses to CONNECT: after this message the bytes belong to another protocol and the
   * parser stops (see {@link HttpParser.upgraded}).
   */
  upgrade: boolean;
}

/** Callbacks of {@link HttpParser}. All run synchronously inside `feed()`/`finish()`. */
export interface HttpParserHandlers {
  /** The first byte of a message arrived. */
  onMessageBegin?(): void;
  /** The start-line and header section are complete and valid. */
  onHeadersComplete(head: HttpMessageHead): void;
  /** A piece of the (de-chunked) body: a view into the fed chunk, valid only during the call — copy to keep. */
  onBody?(chunk: Buffer): void;
  /** The message is complete; `trailers` is the flat trailer field list of a chunked body, if it had any. */
  onMessageComplete?(trailers: string[] | undefined): void;
}

/** Size limits; exceeding one throws an {@link HttpParseError} whose `status` says which. */
export interface HttpParserLimits {
  /** Bytes of start-line + header section including the final CRLF (and likewise of a trailer section). 431. */
  maxHeaderBytes: number;
  /** Field lines per header (or trailer) section. 431. */
  maxHeaderCount: number;
  /** Body bytes after de-chunking. 413. */
  maxBodyBytes: number;
}

export const DEFAULT_HTTP_PARSER_LIMITS: Readonly<HttpParserLimits> = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
});

// Buffer's own latin1 decoder without toString()'s argument checks (it is on every Buffer in Node).
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}
const latin1 = (buf: Buffer, start: number, end: number): string => (buf as Latin1Buffer).latin1Slice(start, end);

// Message-level states.
const S_START = 0; // before a message: empty lines (CRLF) are skipped
const S_START_LF = 1;
const S_HEAD = 2; // inside a header or trailer section (see the H_* states)
const S_BODY_LENGTH = 3;
const S_CHUNK_SIZE = 4;
const S_CHUNK_EXT = 5;
const S_CHUNK_SIZE_LF = 6;
const S_CHUNK_DATA = 7;
const S_CHUNK_DATA_CR = 8;
const S_CHUNK_DATA_LF = 9;
const S_BODY_EOF = 10;
const S_UPGRADED = 11; // states from here on consume nothing
const S_FINISHED = 12;
const S_ERROR = 13;

// Header-section scanner states.
const H_METHOD = 0;
const H_TARGET_START = 1;
const H_TARGET = 2;
const H_PROTO = 3;
const H_MAJOR = 4;
const H_DOT = 5;
const H_MINOR = 6;
const H_REQ_CR = 7;
const H_LINE_LF = 8;
const H_STATUS_SP = 9;
const H_STATUS = 10;
const H_STATUS_END = 11;
const H_REASON = 12;
const H_FIELD_FIRST = 13;
const H_FIELD_START = 14;
const H_NAME = 15;
const H_OWS = 16;
const H_VALUE = 17;
const H_FIELD_LF = 18;
const H_END_LF = 19;
const H_DONE = 20;

// Chunk-extension sub-states (RFC 9112 §7.1.1: *( BWS ";" BWS name [ BWS "=" BWS value ] )).
const E_BWS = 0; // whitespace after the size or a value: only ';' may follow
const E_AFTER_SEMI = 1;
const E_NAME = 2;
const E_AFTER_NAME = 3;
const E_AFTER_EQ = 4;
const E_VALUE = 5;
const E_QUOTED = 6;
const E_QUOTED_ESC = 7;
const E_AFTER_QUOTED = 8;

// Bits of `flags`.
const F_CONN_CLOSE = 1;
const F_CONN_KEEP_ALIVE = 2;
const F_CONN_UPGRADE = 4;
const F_UPGRADE = 8;
const F_TE_CHUNKED_LAST = 16;
const F_TE_OTHER = 32;

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
const MAX_HEX_PREFIX = Math.floor((Number.MAX_SAFE_INTEGER - 15) / 16);
const MAX_DEC_PREFIX = Math.floor((Number.MAX_SAFE_INTEGER - 9) / 10);

/** Compares the bytes at `p` with a lower-case ASCII literal, ignoring case (the bytes are tchars). */
function eqLower(buf: Buffer, p: number, lit: string): boolean {
  for (let j = 0; j < lit.length; j++) if ((buf[p + j]! | 0x20) !== lit.charCodeAt(j)) return false;
  return true;
}

/**
 * A strict, incremental RFC 9112 parser for HTTP/1.0 and HTTP/1.1 requests or responses.
 *
 * Bytes may be fed in any split (down to one byte per call) with identical results. Errors throw
 * {@link HttpParseError} from `feed`/`finish`; afterwards the parser rethrows the same error.
 * `feed` returns the bytes it consumed: all of them, except when paused (see {@link pause}) or
 * after an upgrade (the rest belongs to the new protocol).
 *
 * @example
 * const parser = new HttpParser('request', {
 *   onHeadersComplete(head) { console.log(head.method, head.target, head.headers) },
 *   onBody(chunk) { body.push(Buffer.from(chunk)) },
 *   onMessageComplete() { respond() },
 * });
 * socket.on('data', (chunk) => parser.feed(chunk));
 */
export class HttpParser {
  /** The kind this parser was created for. */
  readonly kind: HttpParserKind;
  private readonly isRequest: boolean;
  private readonly h: HttpParserHandlers;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaderCount: number;
  private readonly maxBodyBytes: number;

  private state = S_START;
  private error: HttpParseError | null = null;
  private isPaused = false;
  private closed = false; // the previous message ended the connection
  private streamOffset = 0; // stream offset of byte 0 of the chunk being fed

  // Header-section scanning. Positions are relative to the section's first byte; the bytes live
  // in the fed chunk (fast path) or, once a section spans chunks, in headBuf (slow path).
  private hs = H_METHOD;
  private inTrailers = false;
  private headAbs = 0; // stream offset of the section's first byte
  private headBase = 0; // index of that byte in the current chunk (fast path)
  private slow = false;
  private headBuf: Buffer | null = null;
  private headLen = 0;
  private lit = 0;
  private methodEnd = 0;
  private targetStart = 0;
  private targetEnd = 0;
  private reasonStart = 0;
  private reasonEnd = 0;
  private major = 0;
  private minor = 0;
  private status = 0;
  private readonly fields: Int32Array; // [nameStart, nameEnd, valueStart, valueEnd] per field line
  private fieldCount = 0;
  private nameStart = 0;
  private nameEnd = 0;
  private valueStart = 0;

  // The message being parsed.
  private keepAlive = true;
  private upgrade = false;
  private bodyRemaining = 0;
  private bodyBytes = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private chunkLineBytes = 0;
  private extState = E_BWS;
  private readonly requestMethods: string[] = [];
  // Framing fields seen so far (positions relative to the section start).
  private flags = 0;
  private contentLength = -1;
  private clAt = -1;
  private teAt = -1;
  private teChunkedCount = 0;

  constructor(kind: HttpParserKind, handlers: HttpParserHandlers, limits?: Partial<HttpParserLimits>) {
    this.kind = kind;
    this.isRequest = kind === 'request';
    this.h = handlers;
    this.maxHeaderBytes = limits?.maxHeaderBytes ?? DEFAULT_HTTP_PARSER_LIMITS.maxHeaderBytes;
    this.maxHeaderCount = limits?.maxHeaderCount ?? DEFAULT_HTTP_PARSER_LIMITS.maxHeaderCount;
    this.maxBodyBytes = limits?.maxBodyBytes ?? DEFAULT_HTTP_PARSER_LIMITS.maxBodyBytes;
    this.fields = new Int32Array(4 * this.maxHeaderCount);
  }

  /** True while paused: `feed` consumes nothing until {@link resume}. */
  get paused(): boolean {
    return this.isPaused;
  }

  /** True once an upgrade/CONNECT message completed: the parser consumes no more bytes. */
  get upgraded(): boolean {
    return this.state === S_UPGRADED;
  }

  /**
   * Stops parsing after the current callback returns: `feed` returns the bytes consumed so far.
   * Feed the unconsumed rest again after {@link resume}. Typically called from
   * `onMessageComplete` to hold pipelined requests until the response is written.
   */
  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }

  /**
   * For response parsers: the method of the next request whose response will arrive (queued, in
   * sending order). Responses to HEAD have no body; 2xx responses to CONNECT open a tunnel.
   * Without an entry a response is parsed as answering a GET.
   */
  expectResponseTo(method: string): void {
    this.requestMethods.push(method);
  }

  /** Forgets all state (including an error) so the parser can read a new connection. */
  reset(): void {
    this.state = S_START;
    this.error = null;
    this.isPaused = false;
    this.closed = false;
    this.streamOffset = 0;
    this.slow = false;
    this.requestMethods.length = 0;
    this.resetMessage();
  }

  /**
   * Parses `chunk`; callbacks fire synchronously. Returns the number of bytes consumed, which is
   * `chunk.length` unless the parser was paused or upgraded meanwhile.
   */
  feed(chunk: Buffer): number {
    if (this.state >= S_UPGRADED) {
      if (this.error !== null) throw this.error;
      if (this.state === S_FINISHED) this.fail('HPE_CLOSED_CONNECTION', 'Data after finish()', this.streamOffset);
      return 0;
    }
    if (this.isPaused) return 0;
    const end = chunk.length;
    let i = 0;
    while (i < end && !this.isPaused) {
      switch (this.state) {
        case S_START: {
          const c = chunk[i]!;
          if (c === CR) {
            this.state = S_START_LF;
            i++;
            break;
          }
          if (this.closed) this.fail('HPE_CLOSED_CONNECTION', 'Data after `Connection: close`', this.streamOffset + i);
          if (c === LF) this.fail('HPE_CR_EXPECTED', 'Bare LF before the start-line', this.streamOffset + i);
          this.beginSection(i, this.isRequest ? H_METHOD : H_PROTO);
          this.h.onMessageBegin?.();
          break;
        }
        case S_START_LF:
          if (chunk[i] !== LF) this.fail('HPE_LF_EXPECTED', 'Bare CR before the start-line', this.streamOffset + i);
          this.state = S_START;
          i++;
          break;
        case S_HEAD:
          i = this.feedHead(chunk, i, end);
          break;
        case S_BODY_LENGTH: {
          const n = Math.min(this.bodyRemaining, end - i);
          this.bodyRemaining -= n;
          i += n;
          this.h.onBody?.(chunk.subarray(i - n, i));
          if (this.bodyRemaining === 0) this.completeMessage(undefined);
          break;
        }
        case S_CHUNK_SIZE:
          i = this.chunkSizeByte(chunk, i);
          break;
        case S_CHUNK_EXT:
          i = this.chunkExtBytes(chunk, i, end);
          break;
        case S_CHUNK_SIZE_LF:
          if (chunk[i] !== LF) this.fail('HPE_LF_EXPECTED', 'Expected LF after chunk size', this.streamOffset + i);
          i++;
          if (this.chunkSize === 0) {
            this.beginSection(i, H_FIELD_FIRST);
            this.inTrailers = true;
          } else {
            if (this.chunkSize > this.maxBodyBytes - this.bodyBytes) {
              this.fail('HPE_BODY_TOO_LARGE', 'Body exceeds the limit', this.streamOffset + i - 1);
            }
            this.bodyBytes += this.chunkSize;
            this.bodyRemaining = this.chunkSize;
            this.state = S_CHUNK_DATA;
          }
          break;
        case S_CHUNK_DATA: {
          const n = Math.min(this.bodyRemaining, end - i);
          this.bodyRemaining -= n;
          i += n;
          if (this.bodyRemaining === 0) this.state = S_CHUNK_DATA_CR;
          this.h.onBody?.(chunk.subarray(i - n, i));
          break;
        }
        case S_CHUNK_DATA_CR:
          if (chunk[i] !== CR) this.fail('HPE_CR_EXPECTED', 'Expected CRLF after chunk data', this.streamOffset + i);
          this.state = S_CHUNK_DATA_LF;
          i++;
          break;
        case S_CHUNK_DATA_LF:
          if (chunk[i] !== LF) this.fail('HPE_LF_EXPECTED', 'Expected LF after chunk data', this.streamOffset + i);
          this.state = S_CHUNK_SIZE;
          this.chunkSize = 0;
          this.chunkDigits = 0;
          this.chunkLineBytes = 0;
          i++;
          break;
        case S_BODY_EOF: {
          const n = end - i;
          const room = this.maxBodyBytes - this.bodyBytes;
          if (n > room) {
            // Deliver up to the limit first so every split of the input reports the same body.
            if (room > 0) this.h.onBody?.(chunk.subarray(i, i + room));
            this.fail('HPE_BODY_TOO_LARGE', 'Body exceeds the limit', this.streamOffset + i + room);
          }
          this.bodyBytes += n;
          i = end;
          this.h.onBody?.(chunk.subarray(end - n, end));
          break;
        }
        default:
          // Upgraded: the rest belongs to the next protocol.
          this.streamOffset += i;
          return i;
      }
    }
    if (this.state === S_HEAD && !this.slow) {
      // A section began at the very end of this chunk (or before a pause): its bytes all come
      // with later chunks, so collect them in headBuf.
      this.headBuf ??= Buffer.allocUnsafe(this.maxHeaderBytes);
      this.headLen = 0;
      this.slow = true;
    }
    this.streamOffset += i;
    return i;
  }

  /**
   * Signals the end of the input (the peer closed). Completes a body delimited by the connection
   * close; throws HPE_INVALID_EOF_STATE when a message was cut short.
   */
  finish(): void {
    switch (this.state) {
      case S_ERROR:
        throw this.error!;
      case S_START:
      case S_START_LF:
      case S_UPGRADED:
      case S_FINISHED:
        break;
      case S_BODY_EOF:
        this.completeMessage(undefined);
        break;
      default:
        this.fail('HPE_INVALID_EOF_STATE', 'Connection closed in the middle of a message', this.streamOffset);
    }
    if (this.state !== S_UPGRADED) this.state = S_FINISHED;
  }

  // ---- header sections ---------------------------------------------------------------------

  private beginSection(i: number, hs: number): void {
    this.state = S_HEAD;
    this.hs = hs;
    this.lit = 0;
    this.headBase = i;
    this.headAbs = this.streamOffset + i;
    this.slow = false;
    this.fieldCount = 0;
  }

  /** Feeds bytes of a header/trailer section; returns the index after what was consumed. */
  private feedHead(chunk: Buffer, i: number, end: number): number {
    const max = this.maxHeaderBytes;
    if (!this.slow) {
      // Fast path: the section started in this chunk, parse it in place.
      const base = this.headBase;
      const bound = Math.min(end, base + max);
      const j = this.scanHead(chunk, i, bound, base);
      if (this.hs === H_DONE) {
        this.sectionComplete(chunk, base, j - base);
        return j;
      }
      if (bound < end) this.overflow(max);
      // The section continues in the next chunk: keep its bytes so the strings can be cut later.
      this.headBuf ??= Buffer.allocUnsafe(max);
      chunk.copy(this.headBuf, 0, base, end);
      this.headLen = end - base;
      this.slow = true;
      return end;
    }
    const buf = this.headBuf!;
    const from = this.headLen;
    const n = Math.min(end - i, max - from);
    chunk.copy(buf, from, i, i + n);
    const j = this.scanHead(buf, from, from + n, 0);
    if (this.hs === H_DONE) {
      this.slow = false;
      this.sectionComplete(buf, 0, j);
      return i + (j - from);
    }
    if (n < end - i) this.overflow(max);
    this.headLen = from + n;
    return end;
  }

  /**
   * The section passed `max` bytes: 414 while the scanner is still in the request-target (RFC
   * 9112 §3: a server MUST answer a target longer than it wishes to parse with 414), else 431.
   */
  private overflow(max: number): never {
    if (this.hs === H_TARGET || this.hs === H_TARGET_START) {
      this.fail('HPE_URI_TOO_LONG', 'Request-target exceeds the header size limit', this.headAbs + max);
    }
    this.fail('HPE_HEADER_OVERFLOW', 'Header section exceeds the limit', this.headAbs + max);
  }

  private failHead(base: number, i: number, code: HttpParseErrorCode, reason: string): never {
    this.fail(code, reason, this.headAbs + (i - base));
  }

  /**
   * The header-section state machine over `buf[i, end)`; `base` is the index of the section's
   * first byte in `buf`. Sets `hs` to H_DONE after the final CRLF and returns the index after it.
   */
  private scanHead(buf: Buffer, i: number, end: number, base: number): number {
    let hs = this.hs;
    while (i < end) {
      switch (hs) {
        case H_METHOD: {
          while (i < end && TOKEN[buf[i]!] === 1) i++;
          if (i === end) break;
          if (buf[i] !== SP || i === base) this.failHead(base, i, 'HPE_INVALID_METHOD', 'Invalid character in method');
          this.methodEnd = i - base;
          i++;
          hs = H_TARGET_START;
          break;
        }
        case H_TARGET_START:
          if (TARGET[buf[i]!] !== 1) this.failHead(base, i, 'HPE_INVALID_URL', 'Invalid request-target');
          this.targetStart = i - base;
          i++;
          hs = H_TARGET;
          break;
        case H_TARGET: {
          while (i < end && TARGET[buf[i]!] === 1) i++;
          if (i === end) break;
          const c = buf[i]!;
          if (c !== SP) {
            if (c === CR || c === LF) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Missing HTTP version (HTTP/0.9)');
            this.failHead(base, i, 'HPE_INVALID_URL', 'Invalid character in request-target');
          }
          this.targetEnd = i - base;
          this.checkTargetForm(buf, base);
          i++;
          hs = H_PROTO;
          this.lit = 0;
          break;
        }
        case H_PROTO:
          // Common case in one go: "HTTP/1.1" or "HTTP/1.0".
          if (
            this.lit === 0 &&
            end - i >= 8 &&
            buf[i] === 0x48 &&
            buf[i + 1] === 0x54 &&
            buf[i + 2] === 0x54 &&
            buf[i + 3] === 0x50 &&
            buf[i + 4] === 0x2f &&
            buf[i + 5] === 0x31 &&
            buf[i + 6] === 0x2e &&
            (buf[i + 7] === 0x31 || buf[i + 7] === 0x30)
          ) {
            this.major = 1;
            this.minor = buf[i + 7]! - 0x30;
            i += 8;
            hs = this.isRequest ? H_REQ_CR : H_STATUS_SP;
            break;
          }
          if (buf[i] !== HTTP_SLASH[this.lit]) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Expected "HTTP/"');
          i++;
          if (++this.lit === 5) hs = H_MAJOR;
          break;
        case H_MAJOR: {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Invalid major version');
          this.major = d;
          i++;
          hs = H_DOT;
          break;
        }
        case H_DOT:
          if (buf[i] !== 0x2e) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Expected "." in version');
          i++;
          hs = H_MINOR;
          break;
        case H_MINOR: {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Invalid minor version');
          this.minor = d;
          if (this.major !== 1 || d > 1) this.failHead(base, i, 'HPE_UNSUPPORTED_VERSION', 'Only HTTP/1.0 and HTTP/1.1 are supported');
          i++;
          hs = this.isRequest ? H_REQ_CR : H_STATUS_SP;
          break;
        }
        case H_REQ_CR:
          if (buf[i] !== CR) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Expected CRLF after version');
          i++;
          hs = H_LINE_LF;
          break;
        case H_LINE_LF:
          if (buf[i] !== LF) this.failHead(base, i, 'HPE_LF_EXPECTED', 'Expected LF after start-line');
          i++;
          hs = H_FIELD_FIRST;
          break;
        case H_STATUS_SP:
          if (buf[i] !== SP) this.failHead(base, i, 'HPE_INVALID_VERSION', 'Expected space after version');
          i++;
          hs = H_STATUS;
          this.lit = 0;
          this.status = 0;
          break;
        case H_STATUS: {
          const d = buf[i]! - 0x30;
          if (d < 0 || d > 9) this.failHead(base, i, 'HPE_INVALID_STATUS', 'Invalid status code');
          this.status = this.status * 10 + d;
          i++;
          if (++this.lit === 3) {
            if (this.status < 100) this.failHead(base, i - 1, 'HPE_INVALID_STATUS', 'Status code below 100');
            hs = H_STATUS_END;
          }
          break;
        }
        case H_STATUS_END: {
          const c = buf[i]!;
          if (c === SP) {
            this.reasonStart = i + 1 - base;
            hs = H_REASON;
          } else if (c === CR) {
            // A missing reason phrase (and its SP) is common and harmless: accepted.
            this.reasonStart = this.reasonEnd = i - base;
            hs = H_LINE_LF;
          } else {
            this.failHead(base, i, 'HPE_INVALID_STATUS', 'Expected space after status code');
          }
          i++;
          break;
        }
        case H_REASON: {
          while (i < end && FIELD_VALUE[buf[i]!] === 1) i++;
          if (i === end) break;
          const c = buf[i]!;
          if (c !== CR) {
            if (c === LF) this.failHead(base, i, 'HPE_CR_EXPECTED', 'Bare LF after status line');
            this.failHead(base, i, 'HPE_INVALID_STATUS', 'Invalid character in reason phrase');
          }
          this.reasonEnd = i - base;
          i++;
          hs = H_LINE_LF;
          break;
        }
        case H_FIELD_FIRST:
        case H_FIELD_START: {
          const c = buf[i]!;
          if (TOKEN[c] === 1) {
            this.nameStart = i - base;
            i++;
            hs = H_NAME;
          } else if (c === CR) {
            i++;
            hs = H_END_LF;
          } else if (c === SP || c === HTAB) {
            if (hs === H_FIELD_FIRST) this.failHead(base, i, 'HPE_UNEXPECTED_SPACE', 'Whitespace before the first field line');
            this.failHead(base, i, 'HPE_OBS_FOLD', 'Obsolete line folding is not accepted');
          } else if (c === LF) {
            this.failHead(base, i, 'HPE_CR_EXPECTED', 'Bare LF in header section');
          } else {
            this.failHead(base, i, 'HPE_INVALID_HEADER_TOKEN', 'Invalid character in field name');
          }
          break;
        }
        case H_NAME: {
          while (i < end && TOKEN[buf[i]!] === 1) i++;
          if (i === end) break;
          if (buf[i] !== 0x3a) this.failHead(base, i, 'HPE_INVALID_HEADER_TOKEN', 'Invalid character in field name');
          this.nameEnd = i - base;
          i++;
          hs = H_OWS;
          break;
        }
        case H_OWS: {
          let c = buf[i]!;
          while (c === SP || c === HTAB) {
            if (++i === end) break;
            c = buf[i]!;
          }
          if (i === end) break;
          if (FIELD_VCHAR[c] === 1) {
            this.valueStart = i - base;
            i++;
            hs = H_VALUE;
          } else if (c === CR) {
            this.addField(buf, base, i - base, i - base, i);
            i++;
            hs = H_FIELD_LF;
          } else if (c === LF) {
            this.failHead(base, i, 'HPE_CR_EXPECTED', 'Bare LF in header section');
          } else {
            this.failHead(base, i, 'HPE_INVALID_HEADER_VALUE', 'Invalid character in field value');
          }
          break;
        }
        case H_VALUE: {
          while (i < end && FIELD_VALUE[buf[i]!] === 1) i++;
          if (i === end) break;
          const c = buf[i]!;
          if (c !== CR) {
            if (c === LF) this.failHead(base, i, 'HPE_CR_EXPECTED', 'Bare LF in header section');
            this.failHead(base, i, 'HPE_INVALID_HEADER_VALUE', 'Invalid character in field value');
          }
          // Trailing OWS is not part of the value; the value began with a VCHAR, so this stops.
          let ve = i;
          while (buf[ve - 1] === SP || buf[ve - 1] === HTAB) ve--;
          this.addField(buf, base, this.valueStart, ve - base, i);
          i++;
          hs = H_FIELD_LF;
          break;
        }
        case H_FIELD_LF:
          if (buf[i] !== LF) this.failHead(base, i, 'HPE_LF_EXPECTED', 'Bare CR in header section');
          i++;
          hs = H_FIELD_START;
          break;
        case H_END_LF:
          if (buf[i] !== LF) this.failHead(base, i, 'HPE_LF_EXPECTED', 'Bare CR at the end of the header section');
          this.hs = H_DONE;
          return i + 1;
      }
    }
    this.hs = hs;
    return i;
  }

  private addField(buf: Buffer, base: number, valueStart: number, valueEnd: number, i: number): void {
    const k = this.fieldCount;
    if (k === this.maxHeaderCount) this.failHead(base, i, 'HPE_TOO_MANY_HEADERS', 'Too many field lines');
    const f = this.fields;
    const nameStart = this.nameStart;
    const nameEnd = this.nameEnd;
    f[4 * k] = nameStart;
    f[4 * k + 1] = nameEnd;
    f[4 * k + 2] = valueStart;
    f[4 * k + 3] = valueEnd;
    this.fieldCount = k + 1;
    const nl = nameEnd - nameStart;
    if ((nl === 14 || nl === 17 || nl === 10 || nl === 7) && !this.inTrailers) {
      this.framingField(buf, base, base + nameStart, nl, base + valueStart, base + valueEnd);
    }
  }

  /**
   * Interprets the fields that frame the message as soon as their line is complete, so that
   * smuggling attempts are rejected without waiting for the rest of the header section.
   */
  private framingField(buf: Buffer, base: number, ns: number, nl: number, vs: number, ve: number): void {
    if (nl === 14) {
      if (!eqLower(buf, ns, 'content-length')) return;
      if (vs === ve) this.failHead(base, vs, 'HPE_INVALID_CONTENT_LENGTH', 'Empty Content-Length');
      let v = 0;
      for (let p = vs; p < ve; p++) {
        const d = buf[p]! - 0x30;
        if (d < 0 || d > 9) this.failHead(base, p, 'HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
        if (v > MAX_DEC_PREFIX) this.failHead(base, p, 'HPE_INVALID_CONTENT_LENGTH', 'Content-Length overflow');
        v = v * 10 + d;
      }
      if (this.contentLength !== -1 && v !== this.contentLength) {
        this.failHead(base, vs, 'HPE_INVALID_CONTENT_LENGTH', 'Duplicate Content-Length with different values');
      }
      this.contentLength = v;
      if (this.clAt === -1) this.clAt = vs - base;
    } else if (nl === 17) {
      if (!eqLower(buf, ns, 'transfer-encoding')) return;
      if (this.minor === 0) this.failHead(base, vs, 'HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 message');
      if (this.teAt === -1) this.teAt = vs - base;
      // A list of transfer-codings, possibly over several field lines; track the last one.
      let p = vs;
      let elements = 0;
      let flags = this.flags;
      while (p < ve) {
        const c = buf[p]!;
        if (c === 0x2c || c === SP || c === HTAB) {
          p++;
          continue;
        }
        const ts = p;
        while (p < ve && TOKEN[buf[p]!] === 1) p++;
        if (p === ts) this.failHead(base, p, 'HPE_INVALID_TRANSFER_ENCODING', 'Invalid Transfer-Encoding');
        const bare = p === ve || buf[p] === 0x2c || buf[p] === SP || buf[p] === HTAB;
        const isChunked = p - ts === 7 && eqLower(buf, ts, 'chunked');
        while (p < ve && buf[p] !== 0x2c) p++; // transfer-parameters, if any
        elements++;
        if (isChunked && bare) {
          if (++this.teChunkedCount > 1) this.failHead(base, ts, 'HPE_INVALID_TRANSFER_ENCODING', 'chunked applied more than once');
          flags |= F_TE_CHUNKED_LAST;
        } else {
          flags = (flags | F_TE_OTHER) & ~F_TE_CHUNKED_LAST;
        }
      }
      this.flags = flags;
      if (elements === 0) this.failHead(base, vs, 'HPE_INVALID_TRANSFER_ENCODING', 'Empty Transfer-Encoding');
    } else if (nl === 10) {
      if (!eqLower(buf, ns, 'connection')) return;
      let p = vs;
      while (p < ve) {
        const c = buf[p]!;
        if (c === 0x2c || c === SP || c === HTAB) {
          p++;
          continue;
        }
        const ts = p;
        while (p < ve && buf[p] !== 0x2c && buf[p] !== SP && buf[p] !== HTAB) p++;
        const len = p - ts;
        if (len === 5 && eqLower(buf, ts, 'close')) this.flags |= F_CONN_CLOSE;
        else if (len === 10 && eqLower(buf, ts, 'keep-alive')) this.flags |= F_CONN_KEEP_ALIVE;
        else if (len === 7 && eqLower(buf, ts, 'upgrade')) this.flags |= F_CONN_UPGRADE;
      }
      return;
    } else {
      if (eqLower(buf, ns, 'upgrade')) this.flags |= F_UPGRADE;
      return;
    }
    if (this.clAt !== -1 && this.teAt !== -1) {
      this.failHead(base, vs, 'HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length together with Transfer-Encoding');
    }
  }

  /**
   * RFC 9112 §3.2 target forms: authority-form only (and always) for CONNECT; origin, absolute or
   * asterisk form otherwise. That the asterisk-form is only meaningful for OPTIONS (§3.2.4) is a
   * semantic rule, left to the server (semantics.ts) as llhttp and Node do. `PRI *` is rejected:
   * it is the start of the HTTP/2 connection preface, never an HTTP/1.1 request (RFC 9113 §3.4).
   */
  private checkTargetForm(buf: Buffer, base: number): void {
    const ms = base;
    const me = base + this.methodEnd;
    const ts = base + this.targetStart;
    const te = base + this.targetEnd;
    const isConnect = me - ms === 7 && KNOWN_METHODS.lookup(buf, ms, me) === 'CONNECT';
    const first = buf[ts]!;
    if (isConnect) {
      // authority-form: host ":" port, no userinfo, path, query or fragment.
      let colon = -1;
      for (let p = ts; p < te; p++) {
        const c = buf[p]!;
        if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x40) colon = -2;
        if (c === 0x3a && colon !== -2) colon = p;
      }
      let ok = colon > ts && colon < te - 1;
      for (let p = colon + 1; ok && p < te; p++) ok = buf[p]! >= 0x30 && buf[p]! <= 0x39;
      if (!ok) this.failHead(base, ts, 'HPE_INVALID_URL', 'CONNECT needs an authority-form target (host:port)');
      return;
    }
    if (first === 0x2f) return; // origin-form
    if (first === 0x2a && te - ts === 1) {
      if (me - ms === 3 && buf[ms] === 0x50 && buf[ms + 1] === 0x52 && buf[ms + 2] === 0x49) {
        this.failHead(base, ms, 'HPE_INVALID_METHOD', 'HTTP/2 connection preface');
      }
      return; // asterisk-form
    }
    // absolute-form: scheme "://" authority …, scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    // The "//" is required, as llhttp and nginx do: without it `example.com:80` would pass as the
    // scheme `example.com` (an authority-form, which only CONNECT may use). The authority itself
    // (host, port, no userinfo) and the scheme (http/https) are the server's check (semantics.ts).
    let p = ts;
    if ((first | 0x20) >= 0x61 && (first | 0x20) <= 0x7a) {
      p++;
      while (p < te) {
        const c = buf[p]!;
        const lc = c | 0x20;
        if ((lc >= 0x61 && lc <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) p++;
        else break;
      }
      if (p + 2 < te && buf[p] === 0x3a && buf[p + 1] === 0x2f && buf[p + 2] === 0x2f) return;
    }
    this.failHead(base, ts, 'HPE_INVALID_URL', 'Invalid request-target form');
  }

  /** `len` is the section's length in bytes, ending with its final CRLF. */
  private sectionComplete(buf: Buffer, base: number, len: number): void {
    if (this.inTrailers) {
      const n = this.fieldCount;
      let trailers: string[] | undefined;
      if (n > 0) {
        trailers = new Array<string>(2 * n);
        const f = this.fields;
        for (let k = 0; k < n; k++) {
          trailers[2 * k] = latin1(buf, base + f[4 * k]!, base + f[4 * k + 1]!);
          trailers[2 * k + 1] = latin1(buf, base + f[4 * k + 2]!, base + f[4 * k + 3]!);
        }
      }
      this.completeMessage(trailers);
      return;
    }
    this.headComplete(buf, base, len);
  }

  /** Decodes the head, applies the framing rules of RFC 9112 §6 and announces it. */
  private headComplete(buf: Buffer, base: number, len: number): void {
    const isRequest = this.isRequest;
    // One decode of the whole head, then JS slices: crossing into Buffer's C++ decoder once
    // instead of once per string is the biggest single saving. (Slices share the head's memory.)
    const text = latin1(buf, base, base + len);
    let method = '';
    let target = '';
    let statusText = '';
    if (isRequest) {
      method = KNOWN_METHODS.lookup(buf, base, base + this.methodEnd) ?? text.slice(0, this.methodEnd);
      target = text.slice(this.targetStart, this.targetEnd);
    } else if (this.reasonEnd > this.reasonStart) {
      statusText = text.slice(this.reasonStart, this.reasonEnd);
    }

    const n = this.fieldCount;
    const f = this.fields;
    const headers = new Array<string>(2 * n);
    for (let k = 0; k < n; k++) {
      const ns = f[4 * k]!;
      const ne = f[4 * k + 1]!;
      const vs = f[4 * k + 2]!;
      const ve = f[4 * k + 3]!;
      headers[2 * k] = COMMON_FIELD_NAMES.lookup(buf, base + ns, base + ne) ?? text.slice(ns, ne);
      headers[2 * k + 1] = vs === ve ? '' : text.slice(vs, ve);
    }
    const flags = this.flags;
    const contentLength = this.contentLength;
    const clAt = this.clAt;
    const teAt = this.teAt;

    const status = this.status;
    let reqMethod = 'GET';
    if (!isRequest && (status >= 200 || status === 101) && this.requestMethods.length > 0) {
      reqMethod = this.requestMethods.shift()!;
    }
    const teChunkedLast = (flags & F_TE_CHUNKED_LAST) !== 0;
    // RFC 9112 §6.3: a request whose final coding is not chunked has no determinable length.
    // Other codings before a final chunked do not affect the framing: they are reported in
    // `otherCodings` and judged by the server (501 when it implements none, §6.1).
    if (teAt !== -1 && isRequest && !teChunkedLast) {
      this.fail('HPE_INVALID_TRANSFER_ENCODING', 'The final transfer coding of a request must be chunked', this.headAbs + teAt);
    }
    const isChunked = teAt !== -1 && teChunkedLast;
    const connClose = (flags & F_CONN_CLOSE) !== 0;

    let upgrade: boolean;
    let noBody: boolean;
    if (isRequest) {
      const isConnect = method === 'CONNECT';
      // RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request.
      upgrade = isConnect || (this.minor === 1 && (flags & (F_UPGRADE | F_CONN_UPGRADE)) === (F_UPGRADE | F_CONN_UPGRADE));
      noBody = isConnect || (!isChunked && contentLength <= 0); // CONNECT has no content (RFC 9110 §9.3.6)
    } else {
      upgrade = status === 101 || (reqMethod === 'CONNECT' && status >= 200 && status < 300);
      noBody = upgrade || status < 200 || status === 204 || status === 304 || reqMethod === 'HEAD';
      if (!isChunked && contentLength === 0) noBody = true;
    }
    const eofBody = !noBody && !isChunked && contentLength === -1; // responses only
    let keepAlive = this.minor === 1 ? !connClose : (flags & F_CONN_KEEP_ALIVE) !== 0 && !connClose;
    if (eofBody) keepAlive = false;
    if (!noBody && !isChunked && contentLength > this.maxBodyBytes) {
      this.fail('HPE_BODY_TOO_LARGE', 'Content-Length exceeds the body limit', this.headAbs + clAt);
    }

    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.bodyBytes = 0;
    if (noBody) {
      this.state = S_BODY_LENGTH; // completed right after the callback below
      this.bodyRemaining = 0;
    } else if (isChunked) {
      this.state = S_CHUNK_SIZE;
      this.chunkSize = 0;
      this.chunkDigits = 0;
      this.chunkLineBytes = 0;
    } else if (eofBody) this.state = S_BODY_EOF;
    else {
      this.state = S_BODY_LENGTH;
      this.bodyRemaining = contentLength;
    }

    this.h.onHeadersComplete({
      method,
      target,
      statusCode: isRequest ? 0 : status,
      statusText,
      versionMajor: this.major,
      versionMinor: this.minor,
      headers,
      contentLength,
      chunked: isChunked,
      otherCodings: (flags & F_TE_OTHER) !== 0,
      keepAlive,
      upgrade,
    });
    if (noBody) this.completeMessage(undefined);
  }

  // ---- chunked bodies ----------------------------------------------------------------------

  private chunkLineByte(i: number): void {
    if (++this.chunkLineBytes > this.maxHeaderBytes) {
      this.fail('HPE_INVALID_CHUNK_EXTENSIONS', 'Chunk size line too long', this.streamOffset + i);
    }
  }

  private chunkSizeByte(chunk: Buffer, i: number): number {
    const c = chunk[i]!;
    const v = HEX[c]!;
    this.chunkLineByte(i);
    if (v !== 255) {
      if (this.chunkSize > MAX_HEX_PREFIX) this.fail('HPE_INVALID_CHUNK_SIZE', 'Chunk size overflow', this.streamOffset + i);
      this.chunkSize = this.chunkSize * 16 + v;
      this.chunkDigits++;
      return i + 1;
    }
    if (this.chunkDigits === 0) this.fail('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size', this.streamOffset + i);
    if (c === CR) this.state = S_CHUNK_SIZE_LF;
    else if (c === 0x3b) {
      this.state = S_CHUNK_EXT;
      this.extState = E_AFTER_SEMI;
    } else if (c === SP || c === HTAB) {
      this.state = S_CHUNK_EXT;
      this.extState = E_BWS;
    } else this.fail('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size', this.streamOffset + i);
    return i + 1;
  }

  /** Validates chunk extensions (they are not reported); returns the index after what was consumed. */
  private chunkExtBytes(chunk: Buffer, i: number, end: number): number {
    let e = this.extState;
    for (; i < end; i++) {
      const c = chunk[i]!;
      this.chunkLineByte(i);
      let ok = true;
      switch (e) {
        case E_BWS:
          if (c === 0x3b) e = E_AFTER_SEMI;
          else ok = c === SP || c === HTAB;
          break;
        case E_AFTER_SEMI:
          if (TOKEN[c] === 1) e = E_NAME;
          else ok = c === SP || c === HTAB;
          break;
        case E_NAME:
        case E_VALUE:
          if (TOKEN[c] === 1) break;
          if (c === 0x3b) e = E_AFTER_SEMI;
          else if (c === 0x3d && e === E_NAME) e = E_AFTER_EQ;
          else if (c === SP || c === HTAB) e = e === E_NAME ? E_AFTER_NAME : E_BWS;
          else if (c === CR) {
            this.state = S_CHUNK_SIZE_LF;
            return i + 1;
          } else ok = false;
          break;
        case E_AFTER_NAME:
          if (c === 0x3d) e = E_AFTER_EQ;
          else if (c === 0x3b) e = E_AFTER_SEMI;
          else ok = c === SP || c === HTAB;
          break;
        case E_AFTER_EQ:
          if (TOKEN[c] === 1) e = E_VALUE;
          else if (c === 0x22) e = E_QUOTED;
          else ok = c === SP || c === HTAB;
          break;
        case E_QUOTED:
          if (c === 0x22) e = E_AFTER_QUOTED;
          else if (c === 0x5c) e = E_QUOTED_ESC;
          else ok = QDTEXT[c] === 1;
          break;
        case E_QUOTED_ESC:
          ok = FIELD_VALUE[c] === 1;
          e = E_QUOTED;
          break;
        case E_AFTER_QUOTED:
          if (c === 0x3b) e = E_AFTER_SEMI;
          else if (c === SP || c === HTAB) e = E_BWS;
          else if (c === CR) {
            this.state = S_CHUNK_SIZE_LF;
            return i + 1;
          } else ok = false;
          break;
      }
      if (!ok) this.fail('HPE_INVALID_CHUNK_EXTENSIONS', 'Invalid character in chunk extensions', this.streamOffset + i);
    }
    this.extState = e;
    return i;
  }

  // ---- message boundaries ------------------------------------------------------------------

  private completeMessage(trailers: string[] | undefined): void {
    const upgrade = this.upgrade;
    this.closed = !this.keepAlive;
    this.resetMessage();
    this.state = upgrade ? S_UPGRADED : S_START;
    this.h.onMessageComplete?.(trailers);
  }

  private resetMessage(): void {
    this.inTrailers = false;
    this.flags = 0;
    this.contentLength = -1;
    this.clAt = -1;
    this.teAt = -1;
    this.teChunkedCount = 0;
    this.slow = false;
    this.fieldCount = 0;
    this.keepAlive = true;
    this.upgrade = false;
    this.bodyRemaining = 0;
    this.bodyBytes = 0;
  }

  private fail(code: HttpParseErrorCode, reason: string, offset: number): never {
    const err = new HttpParseError(code, reason, offset);
    this.error = err;
    this.state = S_ERROR;
    throw err;
  }
}
