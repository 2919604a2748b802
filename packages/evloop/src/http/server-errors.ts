/**
 * Error codes of the HTTP server (the parser's own errors live in errors.ts). Every error the
 * server throws or delivers is an EvloopError with one of these codes.
 */
import { EvloopError } from '../errors.js';

export const HTTP_SERVER_CODES = {
  /** setHeader/writeHead after the head went out. */
  HEADERS_SENT: 'ERR_HTTP_HEADERS_SENT',
  /** write/end after end(). */
  RESPONSE_ENDED: 'ERR_HTTP_RESPONSE_ENDED',
  /** The connection closed before the body was read or the response written. */
  CONNECTION_CLOSED: 'ERR_HTTP_CONNECTION_CLOSED',
  /** A header name that is not a token, a value with a character outside HTAB, 0x20–0x7E, 0x80–0xFF (Node's rule), a Content-Length that is not a number, or a Transfer-Encoding not ending in chunked. */
  INVALID_HEADER: 'ERR_HTTP_INVALID_HEADER',
  /** A status code outside 100–999. */
  INVALID_STATUS: 'ERR_HTTP_INVALID_STATUS',
  /** The request body was read a second time. */
  BODY_CONSUMED: 'ERR_HTTP_BODY_CONSUMED',
  /** The request body was cut off (malformed, too large or timed out). */
  BODY_ABORTED: 'ERR_HTTP_BODY_ABORTED',
  /** A second framing field on one response: Content-Length with Transfer-Encoding (RFC 9112 §6.2), or two of either (RFC 9110 §5.3). */
  FRAMING_CONFLICT: 'ERR_HTTP_FRAMING_CONFLICT',
  /** More (or fewer) body bytes than the Content-Length the handler set. */
  CONTENT_LENGTH_MISMATCH: 'ERR_HTTP_CONTENT_LENGTH_MISMATCH',
  /** close() timed out: the remaining connections were aborted. */
  SERVER_CLOSED: 'ERR_HTTP_SERVER_CLOSED',
  /** A worker process of a multi-core server failed to start or died. */
  WORKER_FAILED: 'ERR_HTTP_WORKER_FAILED',
} as const;

export function httpError(code: string, message: string, cause?: unknown): EvloopError {
  return new EvloopError(code, message, cause === undefined ? undefined : { cause });
}
