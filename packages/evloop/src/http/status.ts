/**
 * Status codes: reason phrases and the prebuilt status lines of responses ("HTTP/1.1 200 OK\r\n"),
 * built once so a response head starts from a constant string.
 */

/** Reason phrases of the status codes a server commonly sends (RFC 9110 §15). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Content', 425: 'Too Early',
  426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 507: 'Insufficient Storage',
  511: 'Network Authentication Required',
};

const lines: string[] = [];

/** "HTTP/1.1 <code> <reason>\r\n", cached per code. Throws nothing: callers validate the code. */
export function statusLine(code: number): string {
  return (lines[code] ??= `HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? 'Unknown'}\r\n`);
}

/** True for a valid status code a handler may send (100–999 as RFC 9110 allows three digits). */
export function isValidStatus(code: number): boolean {
  return Number.isInteger(code) && code >= 100 && code <= 999;
}

/** Responses with these codes carry no content (RFC 9110 §6.4.1). */
export function statusHasNoBody(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}
