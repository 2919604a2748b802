/**
 * Response header helpers: validation (nothing that could split a response gets through) and
 * prepared header blocks, serialized once and reused by every response that sends them.
 */
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// CR, LF and NUL would end the field (or the head) early: a response-splitting hole.
const BAD_VALUE_RE = /[\r\n\0]/;

/** A header name/value pair as handlers give it. Numbers are formatted; arrays repeat the field. */
export type HeaderValue = string | number | readonly string[];
export type HeaderInit = Readonly<Record<string, HeaderValue>> | readonly (readonly [string, string])[];

/** Throws ERR_HTTP_INVALID_HEADER unless name is a token and value has no CR/LF/NUL. */
export function checkHeader(name: string, value: string): void {
  if (!TOKEN_RE.test(name)) throw httpError(HTTP_SERVER_CODES.INVALID_HEADER, `invalid header name ${JSON.stringify(name)}`);
  if (BAD_VALUE_RE.test(value)) throw httpError(HTTP_SERVER_CODES.INVALID_HEADER, `invalid character in the value of header ${name}`);
}

/** Calls fn(name, value) for each field of a HeaderInit (arrays give one field per element). */
export function forEachHeader(init: HeaderInit, fn: (name: string, value: string) => void): void {
  if (Array.isArray(init)) {
    for (const [n, v] of init as readonly (readonly [string, string])[]) fn(n, v);
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

/**
 * A header block validated and serialized once: pass it to `res.writeHead(status, prepared)` or
 * `res.end(body, prepared)` and its bytes are copied as they are, without a per-response check.
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

  constructor(init: HeaderInit) {
    let text = '';
    let flags = 0;
    let cl = -1;
    const fields: [string, string][] = [];
    forEachHeader(init, (name, value) => {
      checkHeader(name, value);
      const f = headerFlag(name, value);
      if (f === H_CONTENT_LENGTH) cl = parseContentLength(value);
      flags |= f;
      text += `${name}: ${value}\r\n`;
      fields.push([name, value]);
    });
    this.text = text;
    this.flags = flags;
    this.contentLength = cl;
    this.fields = fields;
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
