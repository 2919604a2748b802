/**
 * Header fields of the client: the response's multi-valued, case-insensitive view, and the
 * validation + flattening of the headers a caller passes in (CR/LF/NUL in a value would let a
 * caller's data split the request, so they are refused, never stripped). The rule is the
 * server's, from one validator (../headers.ts): token names; values of HTAB, 0x20–0x7E, 0x80–0xFF.
 */
import { headerProblem } from '../headers.js';
import { HTTP_CLIENT_CODES, HttpClientError } from './errors.js';

/** What `request({ headers })` accepts. */
export type HeadersInit =
  | Record<string, string | number | readonly string[] | undefined>
  | Iterable<readonly [string, string]>
  | { forEach(cb: (value: string, name: string) => void): void };

/**
 * The response's header fields: names case-insensitive, every value kept. `get` joins repeated
 * fields with ', ' as fetch's Headers does; `getAll` returns them one by one (Set-Cookie must be
 * read that way); `raw` is the field list exactly as received.
 *
 * @example
 * res.headers.get('content-type');   // 'text/plain'
 * res.headers.getAll('set-cookie');  // ['a=1', 'b=2']
 * for (const [name, value] of res.headers) console.log(name, value);
 */
export class ClientHeaders implements Iterable<[string, string]> {
  /** Names and values as received: [name, value, name, value, …]. */
  readonly raw: readonly string[];
  #byName = new Map<string, string[]>();

  constructor(flat: readonly string[] = []) {
    this.raw = flat;
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i]!.toLowerCase();
      const list = this.#byName.get(name);
      if (list === undefined) this.#byName.set(name, [flat[i + 1]!]);
      else list.push(flat[i + 1]!);
    }
  }

  /** The field's values joined with ', ', or null when absent. */
  get(name: string): string | null {
    const list = this.#byName.get(name.toLowerCase());
    return list === undefined ? null : list.join(', ');
  }

  /** Every value of the field, in order received (empty when absent). */
  getAll(name: string): string[] {
    return [...(this.#byName.get(name.toLowerCase()) ?? [])];
  }

  /** Set-Cookie values one by one (fetch's name for `getAll('set-cookie')`). */
  getSetCookie(): string[] {
    return this.getAll('set-cookie');
  }

  has(name: string): boolean {
    return this.#byName.has(name.toLowerCase());
  }

  /** Lower-case names in order of first appearance, each with its joined value. */
  *entries(): IterableIterator<[string, string]> {
    for (const [name, list] of this.#byName) yield [name, list.join(', ')];
  }

  *keys(): IterableIterator<string> {
    yield* this.#byName.keys();
  }

  *values(): IterableIterator<string> {
    for (const list of this.#byName.values()) yield list.join(', ');
  }

  forEach(cb: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) cb(value, name);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** A plain object (repeated fields joined), handy for logging. */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.entries());
  }
}

function invalid(message: string): HttpClientError {
  return new HttpClientError(HTTP_CLIENT_CODES.INVALID_HEADER, message);
}

/**
 * Throws ERR_INVALID_HEADER unless `name` is a token and `value` has only HTAB, 0x20–0x7E and
 * 0x80–0xFF (no CR, LF, NUL, other control, DEL, or code unit above 0xFF).
 */
export function checkField(name: string, value: string): void {
  const problem = headerProblem(name, value);
  if (problem !== null) throw invalid(problem);
}

/** OWS (SP, HTAB) around a value is not part of it (RFC 9110 §5.5); CR and LF are not trimmed but refused. */
const OWS_ENDS = /^[ \t]+|[ \t]+$/g;

/**
 * Flattens any accepted header input into [name, value, …] with values trimmed and checked.
 * Arrays become repeated fields; `undefined` values are skipped.
 */
export function flattenHeaders(init: HeadersInit | undefined): string[] {
  const out: string[] = [];
  if (init === undefined || init === null) return out;
  const add = (name: string, value: unknown): void => {
    if (value === undefined) return;
    if (Array.isArray(value)) {
      for (const v of value) add(name, v);
      return;
    }
    const v = String(value).replace(OWS_ENDS, '');
    checkField(name, v);
    out.push(name, v);
  };
  if (typeof (init as { forEach?: unknown }).forEach === 'function' && !Array.isArray(init) && !(Symbol.iterator in init)) {
    (init as { forEach(cb: (v: string, n: string) => void): void }).forEach((v, n) => add(n, v));
  } else if (Symbol.iterator in init) {
    for (const pair of init as Iterable<readonly [string, string]>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw invalid('header pairs must be [name, value]');
      add(String(pair[0]), pair[1]);
    }
  } else {
    for (const [name, value] of Object.entries(init)) add(name, value);
  }
  return out;
}

/** Index of the first field named `lower` (lower-case) in a flat list, or -1. */
export function findField(flat: readonly string[], lower: string): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i]!.toLowerCase() === lower) return i;
  return -1;
}

/** A copy of `flat` without the fields whose lower-case name is in `names`. */
export function withoutFields(flat: readonly string[], names: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (!names.has(flat[i]!.toLowerCase())) out.push(flat[i]!, flat[i + 1]!);
  return out;
}
