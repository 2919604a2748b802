/**
 * The request on the wire: the head (start-line + fields, framing chosen here) and the body.
 * A byte body goes with Content-Length, in the same write as the head when small (one syscall);
 * a streamed body goes chunked (or raw when the caller fixed a Content-Length), and the writer
 * waits for the transport to drain whenever it is above its high-water mark, so memory stays
 * bounded however fast the source produces.
 */
import { isHeaderName, isWireTarget } from '../headers.js';
import { HTTP_CLIENT_CODES, HttpClientError } from './errors.js';
import { findField } from './headers.js';

/** What `request({ body })` accepts. Strings are sent as UTF-8. */
export type RequestBodyInit =
  | string
  | Uint8Array
  | ArrayBuffer
  | AsyncIterable<Uint8Array | string>
  | ReadableStream<Uint8Array>
  | null
  | undefined;

/** A body in the form the writer uses. Only `stream` bodies cannot be sent twice. */
export type PreparedBody =
  | { kind: 'none' }
  | { kind: 'bytes'; data: Buffer }
  | { kind: 'stream'; source: AsyncIterable<Uint8Array | string> };

/** Below this a byte body is joined to the head: one write, one syscall. */
const JOIN_LIMIT = 64 * 1024;
/** Chunks smaller than this get their chunk framing in the same buffer. */
const SMALL_CHUNK = 16 * 1024;
/** Methods whose requests carry a body by convention: they get Content-Length: 0 when empty. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function prepareBody(body: RequestBodyInit): PreparedBody {
  if (body === undefined || body === null) return { kind: 'none' };
  if (typeof body === 'string') return { kind: 'bytes', data: Buffer.from(body, 'utf8') };
  if (body instanceof Uint8Array) return { kind: 'bytes', data: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
  if (body instanceof ArrayBuffer) return { kind: 'bytes', data: Buffer.from(body) };
  if (typeof (body as ReadableStream).getReader === 'function') return { kind: 'stream', source: fromReadableStream(body as ReadableStream<Uint8Array>) };
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return { kind: 'stream', source: body as AsyncIterable<Uint8Array | string> };
  throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, 'body must be a string, Uint8Array, ArrayBuffer, async iterable or ReadableStream');
}

async function* fromReadableStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Stopped early (connection lost, aborted): tell the producer.
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

export interface HeadInput {
  method: string;
  /** origin-form target: path + query. */
  target: string;
  /** The Host value (host[:port]) used unless the caller's fields have one. */
  host: string;
  /** Caller's fields, flat and validated. */
  fields: readonly string[];
  body: PreparedBody;
  /** false: ask the server to close after this response. */
  keepAlive: boolean;
}

export interface SerializedHead {
  head: Buffer;
  /** Bytes the body must have when streamed with a fixed length; -1 when chunked or not streamed. */
  fixedLength: number;
  chunked: boolean;
  /** The caller (or we) asked for Connection: close. */
  close: boolean;
}

/**
 * Builds the head. Framing fields (Content-Length, Transfer-Encoding) are ours to set. The
 * start-line and Host are checked here, the last gate before the wire (the URL parser already
 * encodes what they must not hold): a method that is not a token → ERR_INVALID_ARG; a target or
 * Host with a space, control or non-ASCII character → ERR_INVALID_URL. `fields` were checked by
 * flattenHeaders.
 */
export function serializeHead(input: HeadInput): SerializedHead {
  const { method, target, fields, body } = input;
  if (!isHeaderName(method)) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, `invalid method ${JSON.stringify(method)}`);
  if (!isWireTarget(target)) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_URL, `invalid request target ${JSON.stringify(target)}`);
  if (!isWireTarget(input.host)) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_URL, `invalid Host ${JSON.stringify(input.host)}`);
  if (findField(fields, 'transfer-encoding') !== -1) {
    throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_HEADER, 'Transfer-Encoding is set by the client from the body; do not pass it');
  }
  const clAt = findField(fields, 'content-length');
  let userLength = -1;
  if (clAt !== -1) {
    const v = fields[clAt + 1]!;
    if (!/^\d{1,15}$/.test(v)) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_HEADER, `invalid Content-Length ${JSON.stringify(v)}`);
    userLength = Number(v);
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  if (findField(fields, 'host') === -1) head += `Host: ${input.host}\r\n`;
  let close = !input.keepAlive;
  for (let i = 0; i < fields.length; i += 2) {
    const lower = fields[i]!.toLowerCase();
    if (lower === 'connection') {
      if (/(^|,)\s*close\s*(,|$)/i.test(fields[i + 1]!)) close = true;
      if (!input.keepAlive) continue; // ours (close) replaces it
    }
    head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  }
  if (!input.keepAlive) head += 'Connection: close\r\n';
  let chunked = false;
  let fixedLength = -1;
  if (body.kind === 'bytes') {
    if (userLength === -1) head += `Content-Length: ${body.data.byteLength}\r\n`;
    else if (userLength !== body.data.byteLength) {
      throw new HttpClientError(HTTP_CLIENT_CODES.BODY_LENGTH_MISMATCH, `Content-Length ${userLength} but the body has ${body.data.byteLength} bytes`);
    }
  } else if (body.kind === 'stream') {
    if (userLength === -1) {
      chunked = true;
      head += 'Transfer-Encoding: chunked\r\n';
    } else fixedLength = userLength;
  } else if (userLength === -1 && BODY_METHODS.has(method)) {
    head += 'Content-Length: 0\r\n';
  } else if (userLength > 0) {
    throw new HttpClientError(HTTP_CLIENT_CODES.BODY_LENGTH_MISMATCH, `Content-Length ${userLength} but there is no body`);
  }
  head += '\r\n';
  // latin1: every character was checked to be < 256 (fields) or visible ASCII (method, target, Host).
  return { head: Buffer.from(head, 'latin1'), fixedLength, chunked, close };
}

/** Where the writer writes: the client connection. */
export interface WriteTarget {
  write(data: Uint8Array): void;
  /** A promise while the transport is above its high-water mark, else null. */
  drained(): Promise<void> | null;
  /** True once the connection is closing: the writer stops (the connection reports why). */
  readonly closed: boolean;
}

/**
 * Writes the request. Resolves when the last byte was handed to the transport, or early (quietly)
 * when the connection closed meanwhile. Rejects when the body source throws or its length does
 * not match a fixed Content-Length.
 */
export async function writeRequest(target: WriteTarget, h: SerializedHead, body: PreparedBody): Promise<void> {
  if (body.kind !== 'stream') {
    if (body.kind === 'bytes' && body.data.byteLength > 0) {
      if (body.data.byteLength <= JOIN_LIMIT) target.write(Buffer.concat([h.head, body.data]));
      else {
        target.write(h.head);
        if (!target.closed) target.write(body.data);
      }
    } else target.write(h.head);
    return;
  }
  target.write(h.head);
  let sent = 0;
  for await (const piece of body.source) {
    if (target.closed) return;
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    if (!(chunk instanceof Uint8Array)) {
      throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, 'a streamed body must yield Uint8Array or string chunks');
    }
    const n = chunk.byteLength;
    if (n === 0) continue; // an empty chunk would end a chunked body
    sent += n;
    if (h.chunked) {
      const size = `${n.toString(16)}\r\n`;
      if (n < SMALL_CHUNK) target.write(Buffer.concat([Buffer.from(size, 'latin1'), chunk, CRLF]));
      else {
        target.write(Buffer.from(size, 'latin1'));
        if (!target.closed) target.write(chunk);
        if (!target.closed) target.write(CRLF);
      }
    } else {
      if (sent > h.fixedLength) throw lengthMismatch(h.fixedLength, sent);
      target.write(chunk);
    }
    const wait = target.drained();
    if (wait !== null) await wait;
  }
  if (target.closed) return;
  if (h.chunked) target.write(LAST_CHUNK);
  else if (sent !== h.fixedLength) throw lengthMismatch(h.fixedLength, sent);
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

function lengthMismatch(expected: number, got: number): HttpClientError {
  return new HttpClientError(HTTP_CLIENT_CODES.BODY_LENGTH_MISMATCH, `Content-Length ${expected} but the body had ${got > expected ? 'more' : got} bytes`);
}
