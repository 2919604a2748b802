/**
 * Header helpers: the one validator of header names and values (server and client: nothing that
 * could split a message gets through) and prepared response header blocks, serialized once and
 * reused by every response that sends them.
 */
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';

// Names are RFC 9110 tokens; values take exactly what Node's checkInvalidHeaderChar takes. Heads
// are written as latin1, so a code unit above 0xFF would be cut to its low byte (U+010A → LF):
// refusing it, and every control but HTAB, is what keeps a value from splitting the message.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE_CHAR_RE = /[^\t\x20-\x7e\x80-\xff]/;
// request-target (client) and Host: visible ASCII only, as the server's parser accepts.
const INVALID_TARGET_CHAR_RE = /[^\x21-\x7e]/;

/** A header name (or method) is an RFC 9110 token: one or more tchar. */
export function isHeaderName(name: string): boolean {
  return typeof name === 'string' && TOKEN_RE.test(name);
}

/** A header value has only HTAB, 0x20–0x7E and 0x80–0xFF (Node's rule, byte for byte). */
export function isHeaderValue(value: string): boolean {
  return typeof value === 'string' && !INVALID_VALUE_CHAR_RE.test(value);
}

/** A request-target or Host value: non-empty, visible ASCII only (no space, control or non-ASCII). */
export function isWireTarget(target: string): boolean {
  return typeof target === 'string' && target.length > 0 && !INVALID_TARGET_CHAR_RE.test(target);
}

/**
 * Why a field is refused, or null when it may go on the wire. Each layer throws its own typed
 * error with this message (ERR_HTTP_INVALID_HEADER on the server, ERR_INVALID_HEADER in the client).
 */
export function headerProblem(name: string, value: string): string | null {
  if (!isHeaderName(name)) return `invalid header name ${describe(name)}`;
  if (typeof value !== 'string') return `the value of header ${name} is not a string`;
  const bad = INVALID_VALUE_CHAR_RE.exec(value);
  if (bad === null) return null;
  return `invalid character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} at index ${bad.index} in the value of header ${name}`;
}

/** A name in a message: quoted, every code unit outside printable ASCII escaped. */
function describe(s: unknown): string {
  return typeof s === 'string' ? JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : typeof s;
}

/** A header name/value pair as handlers give it. Numbers are formatted; arrays repeat the field. */
export type HeaderValue = string | number | readonly string[];
export type HeaderInit = Readonly<Record<string, HeaderValue>> | readonly (readonly [string, string])[];

/** Throws ERR_HTTP_INVALID_HEADER unless name is a token and value passes {@link isHeaderValue}. */
export function checkHeader(name: string, value: string): void {
  // the fast path: two precompiled tests, no allocation
  if (typeof name === 'string' && typeof value === 'string' && TOKEN_RE.test(name) && !INVALID_VALUE_CHAR_RE.test(value)) return;
  throw httpError(HTTP_SERVER_CODES.INVALID_HEADER, headerProblem(name, value)!);
}

/** Calls fn(name, value) for each field of a HeaderInit (arrays give one field per element). */
export function forEachHeader(init: HeaderInit, fn: (name: string, value: string) => void): void {
  if (Array.isArray(init)) {
    for (const [n, v] of init as readonly (readonly [string, string | number])[]) fn(n, typeof v === 'number' ? String(v) : v);
    return;
  }
  for (const name of Object.keys(init)) {
    const v = (init as Record<string, HeaderValue>)[name]!;
    if (typeof v === 'string') fn(name, v);
    else if (typeof v === 'number') fn(name, String(v));
    else for (const x of v) fn(name, x);
  }
}

/** What the server must know about the framing headers a block sets. */
export const H_CONTENT_LENGTH = 1;
export const H_TRANSFER_ENCODING = 2;
export const H_CONNECTION_CLOSE = 4;
export const H_DATE = 8;

/** The framing flag a header sets (H_*), 0 for other headers; `value` is read for Connection. */
export function headerFlag(name: string, value: string): number {
  switch (name.length) {
    case 14:
      return name.toLowerCase() === 'content-length' ? H_CONTENT_LENGTH : 0;
    case 17:
      return name.toLowerCase() === 'transfer-encoding' ? H_TRANSFER_ENCODING : 0;
    case 10:
      return name.toLowerCase() === 'connection' && /(^|[\s,])close($|[\s,])/i.test(value) ? H_CONNECTION_CLOSE : 0;
    case 4:
      return name.toLowerCase() === 'date' ? H_DATE : 0;
    default:
      return 0;
  }
}

/** Content-Length and Transfer-Encoding: at most one of them, once, in a response. */
export const H_FRAMING = H_CONTENT_LENGTH | H_TRANSFER_ENCODING;

/**
 * Checks a response field as checkHeader does, and the value of a framing field: a Content-Length
 * must be a decimal number, a Transfer-Encoding must end in `chunked` and apply it once
 * (RFC 9112 §6.1: the server frames a response with chunked only). Returns its flag (H_*).
 */
export function fieldFlag(name: string, value: string): number {
  checkHeader(name, value);
  const f = headerFlag(name, value);
  if (f === H_CONTENT_LENGTH) parseContentLength(value);
  else if (f === H_TRANSFER_ENCODING) checkTransferEncoding(value);
  return f;
}

/**
 * Throws ERR_HTTP_INVALID_HEADER unless the last transfer coding of `value` is `chunked` (case-
 * insensitive, no parameters) and no earlier one is: any other final coding would leave the
 * message without a length the server can give it, and chunked applied twice is forbidden
 * (RFC 9112 §6.1). Empty list elements are skipped (RFC 9110 §5.6.1).
 */
export function checkTransferEncoding(value: string): void {
  let chunked = 0;
  let last = '';
  for (const part of value.split(',')) {
    const coding = part.trim().toLowerCase();
    if (coding === '') continue;
    last = coding;
    if (coding === 'chunked') chunked++;
  }
  if (last === 'chunked' && chunked === 1) return;
  throw httpError(
    HTTP_SERVER_CODES.INVALID_HEADER,
    `invalid response Transfer-Encoding ${JSON.stringify(value)}: the server frames a response with chunked only, so chunked must be the final coding, applied once (RFC 9112 §6.1)`,
  );
}

/** The error for a second framing field (two Content-Lengths, two Transfer-Encodings, or one of each). */
export function framingConflict(): Error {
  return httpError(
    HTTP_SERVER_CODES.FRAMING_CONFLICT,
    'a response has one Content-Length or one Transfer-Encoding field, never two of them (RFC 9112 §6.2, RFC 9110 §5.3, §8.6)',
  );
}

/** The fields of a HeaderInit, in order, and what their flags (H_*) add up to. */
export interface CheckedFields {
  names: string[];
  values: string[];
  flags: number;
  /** The Content-Length given, or -1. */
  contentLength: number;
}

/**
 * Checks each field of `init` with {@link fieldFlag}; ERR_HTTP_FRAMING_CONFLICT if more than one
 * of them is a framing field (Content-Length with Transfer-Encoding, or two of either).
 */
export function checkFields(init: HeaderInit): CheckedFields {
  const out: CheckedFields = { names: [], values: [], flags: 0, contentLength: -1 };
  forEachHeader(init, (name, value) => {
    const f = fieldFlag(name, value);
    if ((f & H_FRAMING) !== 0) {
      if ((out.flags & H_FRAMING) !== 0) throw framingConflict();
      if (f === H_CONTENT_LENGTH) out.contentLength = Number(value);
    }
    out.flags |= f;
    out.names.push(name);
    out.values.push(value);
  });
  return out;
}

/**
 * A header block validated and serialized once: pass it to `res.writeHead(status, prepared)` or
 * `res.end(body, prepared)` and its bytes are copied as they are, without a per-response check.
 * Throws as `setHeader` does (ERR_HTTP_INVALID_HEADER), and ERR_HTTP_FRAMING_CONFLICT for a block
 * with more than one framing field (Content-Length with Transfer-Encoding, or two of either).
 *
 * @example
 * const TEXT = prepareHeaders({ 'Content-Type': 'text/plain' });
 * server handler: res.end('Hello, World!', TEXT);
 */
export class PreparedHeaders {
  /** "Name: value\r\n" lines. */
  readonly text: string;
  /** H_* flags of the framing headers in the block. */
  readonly flags: number;
  /** The Content-Length the block sets, or -1. */
  readonly contentLength: number;
  /** The fields as [name, value] pairs (for `res.getHeader`). */
  readonly fields: readonly (readonly [string, string])[];
  /** @internal the field names, lower-cased: the block replaces fields of these names set before. */
  readonly lowerNames: readonly string[];

  constructor(init: HeaderInit) {
    const { names, values, flags, contentLength } = checkFields(init);
    let text = '';
    const fields: [string, string][] = [];
    const lowerNames: string[] = [];
    for (let i = 0; i < names.length; i++) {
      text += `${names[i]}: ${values[i]}\r\n`;
      fields.push([names[i]!, values[i]!]);
      const lower = names[i]!.toLowerCase();
      if (!lowerNames.includes(lower)) lowerNames.push(lower);
    }
    this.text = text;
    this.flags = flags;
    this.contentLength = contentLength;
    this.fields = fields;
    this.lowerNames = lowerNames;
    Object.freeze(this);
  }
}

/** Prepares a header block once (see {@link PreparedHeaders}). */
export function prepareHeaders(init: HeaderInit): PreparedHeaders {
  return new PreparedHeaders(init);
}

export function parseContentLength(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw httpError(HTTP_SERVER_CODES.INVALID_HEADER, `invalid Content-Length ${JSON.stringify(value)}`);
  return Number(value);
}
