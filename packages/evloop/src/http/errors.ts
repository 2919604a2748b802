import { EvloopError } from '../errors.js';

/**
 * Stable codes of {@link HttpParseError}, named after llhttp's where one exists. Each maps to the
 * HTTP status a server should answer with (see {@link HTTP_PARSE_ERROR_STATUS}).
 */
export type HttpParseErrorCode =
  | 'HPE_INVALID_METHOD'
  | 'HPE_INVALID_URL'
  | 'HPE_INVALID_VERSION'
  | 'HPE_UNSUPPORTED_VERSION'
  | 'HPE_INVALID_STATUS'
  | 'HPE_INVALID_HEADER_TOKEN'
  | 'HPE_INVALID_HEADER_VALUE'
  | 'HPE_UNEXPECTED_SPACE'
  | 'HPE_OBS_FOLD'
  | 'HPE_CR_EXPECTED'
  | 'HPE_LF_EXPECTED'
  | 'HPE_HEADER_OVERFLOW'
  | 'HPE_URI_TOO_LONG'
  | 'HPE_TOO_MANY_HEADERS'
  | 'HPE_INVALID_CONTENT_LENGTH'
  | 'HPE_UNEXPECTED_CONTENT_LENGTH'
  | 'HPE_INVALID_HOST'
  | 'HPE_MISDIRECTED_REQUEST'
  | 'HPE_INVALID_TRANSFER_ENCODING'
  | 'HPE_UNSUPPORTED_TRANSFER_ENCODING'
  | 'HPE_INVALID_CHUNK_SIZE'
  | 'HPE_INVALID_CHUNK_EXTENSIONS'
  | 'HPE_BODY_TOO_LARGE'
  | 'HPE_INVALID_EOF_STATE'
  | 'HPE_CLOSED_CONNECTION';

/** The response status a server answers each parse error with. */
export const HTTP_PARSE_ERROR_STATUS: Readonly<Record<HttpParseErrorCode, number>> = {
  HPE_INVALID_METHOD: 400,
  HPE_INVALID_URL: 400,
  HPE_INVALID_VERSION: 400,
  HPE_UNSUPPORTED_VERSION: 505,
  HPE_INVALID_STATUS: 400,
  HPE_INVALID_HEADER_TOKEN: 400,
  HPE_INVALID_HEADER_VALUE: 400,
  HPE_UNEXPECTED_SPACE: 400,
  HPE_OBS_FOLD: 400,
  HPE_CR_EXPECTED: 400,
  HPE_LF_EXPECTED: 400,
  HPE_HEADER_OVERFLOW: 431,
  // Not llhttp's: the section overflowed inside the request-target (RFC 9112 §3).
  HPE_URI_TOO_LONG: 414,
  HPE_TOO_MANY_HEADERS: 431,
  HPE_INVALID_CONTENT_LENGTH: 400,
  HPE_UNEXPECTED_CONTENT_LENGTH: 400,
  // Not llhttp's: a missing (HTTP/1.1), repeated or malformed Host (RFC 9112 §3.2; semantics.ts).
  HPE_INVALID_HOST: 400,
  // Not llhttp's: an https absolute-form target on a connection without TLS (RFC 9110 §7.4).
  HPE_MISDIRECTED_REQUEST: 421,
  HPE_INVALID_TRANSFER_ENCODING: 400,
  HPE_UNSUPPORTED_TRANSFER_ENCODING: 501,
  HPE_INVALID_CHUNK_SIZE: 400,
  HPE_INVALID_CHUNK_EXTENSIONS: 400,
  HPE_BODY_TOO_LARGE: 413,
  HPE_INVALID_EOF_STATE: 400,
  // The peer keeps sending after `Connection: close`; a server closes without answering.
  HPE_CLOSED_CONNECTION: 400,
};

/**
 * A malformed or unacceptable HTTP/1.x message. `offset` is the byte offset in the stream fed to
 * the parser (counted from its creation or last `reset()`) where the problem was detected;
 * `status` is the HTTP status a server should answer with before closing the connection. The
 * server's semantic checks on a complete head (semantics.ts) use the same class with offset -1.
 *
 * @example
 * try { parser.feed(chunk) } catch (err) {
 *   if (err instanceof HttpParseError) socket.end(`HTTP/1.1 ${err.status} Bad\r\nConnection: close\r\n\r\n`);
 * }
 */
export class HttpParseError extends EvloopError {
  declare readonly code: HttpParseErrorCode;
  readonly status: number;
  readonly offset: number;
  constructor(code: HttpParseErrorCode, reason: string, offset: number) {
    super(code, offset < 0 ? reason : `${reason} (at byte ${offset})`);
    this.name = 'HttpParseError';
    this.status = HTTP_PARSE_ERROR_STATUS[code];
    this.offset = offset;
  }
}
