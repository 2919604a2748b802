/**
 * Request semantics the server enforces on a well-framed head. The parser (parser.ts) decides only
 * the framing — where each message starts and ends — as llhttp and Node's parser do; whether a
 * well-framed request makes sense is decided here, once its head is complete, before any handler
 * sees it. A request refused here is answered like a parse error (status, `Connection: close`,
 * then close): its body, whose length is known, is never read as a next request.
 */
import { HttpParseError } from './errors.js';
import type { HttpMessageHead } from './parser.js';

/**
 * The reason to refuse the request `head` outright, or null when it may go to the handler:
 *
 * - the asterisk-form target with a method other than OPTIONS: 400 `HPE_INVALID_URL`
 *   (RFC 9112 §3.2.4: `*` is only for a server-wide OPTIONS);
 * - transfer codings other than chunked (e.g. `Transfer-Encoding: gzip, chunked`): 501
 *   `HPE_UNSUPPORTED_TRANSFER_ENCODING` (RFC 9112 §6.1: a server that receives a transfer coding
 *   it does not understand ought to answer 501; this one implements only chunked).
 *
 * The result is an {@link HttpParseError} (code, `status`, reason in `message`) so the server
 * answers it on the same path as a parse error. Its `offset` is -1: the head as a whole is at fault.
 */
export function requestSemanticsError(head: HttpMessageHead): HttpParseError | null {
  const target = head.target;
  if (target.length === 1 && target === '*' && head.method !== 'OPTIONS') {
    return new HttpParseError('HPE_INVALID_URL', `The asterisk-form is only for OPTIONS, not ${head.method}`, -1);
  }
  if (head.otherCodings) {
    return new HttpParseError('HPE_UNSUPPORTED_TRANSFER_ENCODING', 'Transfer codings other than chunked are not implemented', -1);
  }
  return null;
}
