// Known methods and common field names are returned as shared string constants instead of
// decoding fresh strings: a byte compare in JS is cheaper than a trip into Buffer's C++ decoder,
// and the shared strings are already internalized for property lookups downstream.

/** Looks up the byte range of a buffer among a fixed set of strings (exact, case-sensitive). */
export class Interner {
  private readonly byLength: string[][] = [];

  constructor(words: readonly string[]) {
    for (const w of words) (this.byLength[w.length] ??= []).push(w);
  }

  /** The interned string equal to `buf[start, end)`, or undefined. */
  lookup(buf: Buffer, start: number, end: number): string | undefined {
    const list = this.byLength[end - start];
    if (list === undefined) return undefined;
    outer: for (let k = 0; k < list.length; k++) {
      const w = list[k]!;
      for (let j = 0, p = start; p < end; j++, p++) {
        if (w.charCodeAt(j) !== buf[p]) continue outer;
      }
      return w;
    }
    return undefined;
  }
}

/** RFC 9110 methods plus PATCH; any other token is accepted too, just decoded. */
export const KNOWN_METHODS = new Interner(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

const COMMON_FIELDS = [
  'Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Connection', 'Content-Length',
  'Content-Type', 'Cookie', 'Transfer-Encoding', 'Cache-Control', 'Referer', 'Origin', 'Authorization',
  'Upgrade', 'Date', 'Server', 'Keep-Alive', 'If-None-Match', 'If-Modified-Since', 'Pragma', 'Expect',
  'Location', 'ETag', 'Last-Modified', 'Vary', 'Set-Cookie', 'X-Forwarded-For', 'X-Requested-With',
];

/** Common field names in their usual spellings (Title-Case from browsers/curl, lower-case from h2 proxies and fetch). */
export const COMMON_FIELD_NAMES = new Interner([...COMMON_FIELDS, ...COMMON_FIELDS.map((f) => f.toLowerCase())]);
