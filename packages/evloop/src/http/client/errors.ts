/**
 * Errors of the HTTP client, each with a stable `code` (docs/http-client.md lists them). Failed
 * system calls arrive as SysError (ECONNREFUSED, ECONNRESET …), malformed responses as the
 * parser's HttpParseError (HPE_*), both unchanged.
 *
 * @example
 * try { await request('http://127.0.0.1:9/') } catch (err) { if (err.code === 'ECONNREFUSED') ... }
 */
import { EvloopError } from '../../errors.js';

/** Codes used by src/http/client (besides errno names and HPE_* codes). */
export const HTTP_CLIENT_CODES = {
  CONNECT_TIMEOUT: 'ERR_CONNECT_TIMEOUT',
  HEADERS_TIMEOUT: 'ERR_HEADERS_TIMEOUT',
  BODY_TIMEOUT: 'ERR_BODY_TIMEOUT',
  ABORTED: 'ABORT_ERR',
  UNSUPPORTED_PROTOCOL: 'ERR_UNSUPPORTED_PROTOCOL',
  INVALID_URL: 'ERR_INVALID_URL',
  INVALID_HEADER: 'ERR_INVALID_HEADER',
  INVALID_ARG: 'ERR_INVALID_ARG',
  TOO_MANY_REDIRECTS: 'ERR_TOO_MANY_REDIRECTS',
  CONNECTION_CLOSED: 'ERR_CONNECTION_CLOSED',
  BODY_USED: 'ERR_BODY_USED',
  BODY_LENGTH_MISMATCH: 'ERR_BODY_LENGTH_MISMATCH',
  UNEXPECTED_UPGRADE: 'ERR_UNEXPECTED_UPGRADE',
  CLIENT_CLOSED: 'ERR_CLIENT_CLOSED',
} as const;

/** Any client error that is not a SysError or an HttpParseError. */
export class HttpClientError extends EvloopError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HttpClientError';
  }
}

/**
 * The request's AbortSignal fired. Shaped like the AbortError Node's own APIs throw (name
 * 'AbortError', code 'ABORT_ERR'); the signal's reason is the `cause`.
 */
export class ClientAbortError extends EvloopError {
  constructor(message = 'the request was aborted', options?: { cause?: unknown }) {
    super(HTTP_CLIENT_CODES.ABORTED, message, options);
    this.name = 'AbortError';
  }
}

export function abortError(signal: AbortSignal): ClientAbortError {
  return new ClientAbortError('the request was aborted', { cause: signal.reason });
}

/** One of the three timeouts; the code says which, `timeoutMs` its length. */
export class ClientTimeoutError extends HttpClientError {
  readonly timeoutMs: number;
  constructor(code: string, what: string, timeoutMs: number) {
    super(code, `${what} timed out after ${timeoutMs} ms`);
    this.name = 'ClientTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
