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
 * The common Host values (a name, a port below 10000) in one precompiled test, which V8 runs
 * faster on the sliced strings of a head than a char-code loop; anything else (pct-encoded, IP
 * literals, 5-digit ports) is judged by {@link isAuthority}.
 */
const COMMON_HOST = /^[A-Za-z0-9\-._~!$&'()*+,;=]+(?::[0-9]{1,4})?$/;

/**
 * The reason to refuse the request `head` outright, or null when it may go to the handler:
 *
 * - the asterisk-form target with a method other than OPTIONS: 400 `HPE_INVALID_URL`
 *   (RFC 9112 §3.2.4: `*` is only for a server-wide OPTIONS);
 * - an absolute-form target that is not an `http` URI with a valid authority (a host, an
 *   optional port, no userinfo): 400 `HPE_INVALID_URL` (RFC 9112 §3.2.2, RFC 9110 §4.2.1 and
 *   §4.2.4); an authority-form (CONNECT) target whose host or port is invalid: likewise (RFC
 *   9110 §9.3.6); an `https` one: 421 `HPE_MISDIRECTED_REQUEST` (RFC 9110 §7.4: no TLS here);
 * - an HTTP/1.1 request without Host, any request with more than one Host field line or with a
 *   Host value that is not `uri-host [ ":" port ]`: 400 `HPE_INVALID_HOST` (RFC 9112 §3.2). An
 *   empty Host is valid (the client's way to say "no authority"); HTTP/1.0 may omit it;
 * - transfer codings other than chunked (e.g. `Transfer-Encoding: gzip, chunked`): 501
 *   `HPE_UNSUPPORTED_TRANSFER_ENCODING` (RFC 9112 §6.1: a server that receives a transfer coding
 *   it does not understand ought to answer 501; this one implements only chunked).
 *
 * The result is an {@link HttpParseError} (code, `status`, reason in `message`) so the server
 * answers it on the same path as a parse error. Its `offset` is -1: the head as a whole is at fault.
 */
export function requestSemanticsError(head: HttpMessageHead): HttpParseError | null {
  const target = head.target;
  if (target.charCodeAt(0) !== 0x2f) {
    const e = nonOriginTargetError(head.method, target);
    if (e !== null) return e;
  }
  // One pass over the field names for Host; a name of another length costs one compare.
  const h = head.headers;
  let host = -1;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    if (n.length === 4 && (n === 'Host' || n === 'host' || isHostName(n))) {
      if (host !== -1) return new HttpParseError('HPE_INVALID_HOST', 'More than one Host field line', -1);
      host = i + 1;
    }
  }
  if (host === -1) {
    if (head.versionMinor === 1) return new HttpParseError('HPE_INVALID_HOST', 'HTTP/1.1 request without Host', -1);
  } else {
    const v = h[host]!;
    if (v.length > 0 && !COMMON_HOST.test(v) && !isAuthority(v, 0, v.length, false)) {
      return new HttpParseError('HPE_INVALID_HOST', 'Invalid Host value (uri-host [ ":" port ])', -1);
    }
  }
  if (head.otherCodings) {
    return new HttpParseError('HPE_UNSUPPORTED_TRANSFER_ENCODING', 'Transfer codings other than chunked are not implemented', -1);
  }
  return null;
}

/** "host" in any case, without allocating (the interned spellings are tried first). */
function isHostName(n: string): boolean {
  return (
    (n.charCodeAt(0) | 0x20) === 0x68 && (n.charCodeAt(1) | 0x20) === 0x6f && (n.charCodeAt(2) | 0x20) === 0x73 && (n.charCodeAt(3) | 0x20) === 0x74
  );
}

/** The checks of a target that is not in origin-form (rare: kept out of the common path). */
function nonOriginTargetError(method: string, target: string): HttpParseError | null {
  if (target === '*') {
    if (method === 'OPTIONS') return null;
    return new HttpParseError('HPE_INVALID_URL', `The asterisk-form is only for OPTIONS, not ${method}`, -1);
  }
  if (method === 'CONNECT') {
    // The parser checked the shape host ":" 1*DIGIT; the host must be a valid one too.
    if (isAuthority(target, 0, target.length, true)) return null;
    return new HttpParseError('HPE_INVALID_URL', 'Invalid host or port in the CONNECT target', -1);
  }
  // absolute-form (the parser checked scheme "://"): an http or https URI, since this server is
  // an origin server, not a proxy, and those URIs need a host (RFC 9110 §4.2.1).
  const start = authorityStart(target);
  if (start === -1) return new HttpParseError('HPE_INVALID_URL', 'The absolute-form must be an http or https URI', -1);
  if (start === 8) {
    // RFC 9110 §7.4: a request for an https resource MUST be rejected unless it came over a
    // connection secured for its origin; this server speaks no TLS (a TLS gateway in front of it
    // sends the origin-form).
    return new HttpParseError('HPE_MISDIRECTED_REQUEST', 'An https target on a connection without TLS', -1);
  }
  const end = authorityEnd(target, start);
  if (target.lastIndexOf('@', end - 1) >= start) {
    return new HttpParseError('HPE_INVALID_URL', 'userinfo in the request-target (RFC 9110 §4.2.4)', -1);
  }
  if (!isAuthority(target, start, end, false)) {
    return new HttpParseError('HPE_INVALID_URL', 'Invalid authority in the absolute-form (host [ ":" port ])', -1);
  }
  return null;
}

/**
 * Where the authority of an absolute-form `http://` or `https://` target starts (scheme letters
 * in any case), or -1 for any other scheme.
 */
export function authorityStart(target: string): number {
  const c = (i: number): number => target.charCodeAt(i) | 0x20;
  if (c(0) !== 0x68 || c(1) !== 0x74 || c(2) !== 0x74 || c(3) !== 0x70) return -1; // "http"
  const p = c(4) === 0x73 ? 5 : 4; // "s"
  return target.startsWith('://', p) ? p + 3 : -1;
}

/** Where the authority starting at `start` ends: the first "/", "?" or "#", or the end. */
export function authorityEnd(target: string, start: number): number {
  let p = start;
  for (; p < target.length; p++) {
    const c = target.charCodeAt(p);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
  }
  return p;
}

// RFC 3986 character classes, by code point below 128: 1 = unreserved / sub-delims (what a
// reg-name and an IPvFuture may hold besides pct-encoded), 2 = also a HEXDIG.
const HOST_CHARS = new Uint8Array(128);
for (const ch of "-._~!$&'()*+,;=ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ") HOST_CHARS[ch.charCodeAt(0)] = 1;
for (const ch of '0123456789abcdefABCDEF') HOST_CHARS[ch.charCodeAt(0)] = 2;

const isHex = (c: number): boolean => c < 128 && HOST_CHARS[c] === 2;

/**
 * True when `s[start, end)` is `uri-host [ ":" port ]` (RFC 9110 §7.2 and §4.2, RFC 3986
 * §3.2.2–3.2.3): a non-empty reg-name (unreserved, sub-delims, pct-encoded; an IPv4 address is
 * one too), an `[IPv6]` or `[vX.…]` literal, then optionally ":" and at most 65535 (the port may
 * be empty, as the grammar allows, unless `portRequired`). No userinfo, no whitespace. A host
 * without a name (`:80`) is refused: it names nothing.
 *
 * @example
 * isAuthority('example.com:8080', 0, 16, false); // true
 * isAuthority('evil/..', 0, 7, false);          // false
 */
export function isAuthority(s: string, start: number, end: number, portRequired: boolean): boolean {
  let p = start;
  if (p < end && s.charCodeAt(p) === 0x5b) {
    const close = s.indexOf(']', p);
    if (close === -1 || close >= end || !isIpLiteral(s, p + 1, close)) return false;
    p = close + 1;
  } else {
    for (; p < end; p++) {
      const c = s.charCodeAt(p);
      if (c < 128 && HOST_CHARS[c] !== 0) continue;
      if (c === 0x25 && p + 2 < end && isHex(s.charCodeAt(p + 1)) && isHex(s.charCodeAt(p + 2))) {
        p += 2;
        continue;
      }
      break;
    }
    if (p === start) return false;
  }
  if (p === end) return !portRequired;
  if (s.charCodeAt(p) !== 0x3a) return false;
  p++;
  if (p === end) return !portRequired;
  if (end - p > 5) return false;
  let port = 0;
  for (; p < end; p++) {
    const d = s.charCodeAt(p) - 0x30;
    if (d < 0 || d > 9) return false;
    port = port * 10 + d;
  }
  return port <= 65535;
}

/** IP-literal without its brackets: IPv6address / IPvFuture (RFC 3986 §3.2.2). */
function isIpLiteral(s: string, start: number, end: number): boolean {
  if (start < end && (s.charCodeAt(start) | 0x20) === 0x76) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    let p = start + 1;
    while (p < end && isHex(s.charCodeAt(p))) p++;
    if (p === start + 1 || p >= end - 1 || s.charCodeAt(p) !== 0x2e) return false;
    for (p++; p < end; p++) {
      const c = s.charCodeAt(p);
      if (c !== 0x3a && !(c < 128 && HOST_CHARS[c] !== 0)) return false;
    }
    return true;
  }
  return isIPv6(s, start, end);
}

/**
 * RFC 3986 IPv6address: eight h16 groups separated by ":", or fewer with one "::" standing for
 * at least one group of zeros; the last 32 bits may be an IPv4 address. No zone id.
 */
export function isIPv6(s: string, start: number, end: number): boolean {
  let p = start;
  let groups = 0;
  let elided = false;
  if (end - p >= 2 && s.charCodeAt(p) === 0x3a) {
    if (s.charCodeAt(p + 1) !== 0x3a) return false;
    elided = true;
    p += 2;
  }
  while (p < end) {
    let q = p;
    while (q < end && q - p < 5 && isHex(s.charCodeAt(q))) q++;
    if (q < end && s.charCodeAt(q) === 0x2e) {
      // ls32 as an IPv4 address: only in the last place, worth two groups
      if (!isIPv4(s, p, end)) return false;
      groups += 2;
      break;
    }
    if (q === p || q - p > 4) return false;
    groups++;
    if (q === end) break;
    if (s.charCodeAt(q) !== 0x3a) return false;
    p = q + 1;
    if (p < end && s.charCodeAt(p) === 0x3a) {
      if (elided) return false;
      elided = true;
      p++;
    } else if (p === end) return false; // a lone trailing ":"
  }
  return elided ? groups <= 7 : groups === 8;
}

/** RFC 3986 IPv4address: four dec-octets (0–255, no leading zero) separated by ".". */
function isIPv4(s: string, start: number, end: number): boolean {
  let p = start;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (p >= end || s.charCodeAt(p) !== 0x2e) return false;
      p++;
    }
    const o = p;
    let v = 0;
    while (p < end && p - o < 4) {
      const d = s.charCodeAt(p) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      p++;
    }
    const len = p - o;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(o) === 0x30)) return false;
  }
  return p === end;
}
