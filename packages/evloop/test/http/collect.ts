// Runs an HttpParser over a byte sequence split into given pieces and records everything it
// reported, in a form that can be compared with deepStrictEqual across splits.
import { HttpParseError } from '../../src/http/errors.js';
import { HttpParser, type HttpMessageHead, type HttpParserKind, type HttpParserLimits } from '../../src/http/parser.js';

export interface CollectedMessage {
  head: HttpMessageHead | null;
  body: string; // latin1
  complete: boolean;
  trailers: string[] | undefined;
}

export interface Collected {
  messages: CollectedMessage[];
  error: { code: string; status: number; offset: number } | null;
  upgraded: boolean;
  /** Bytes consumed in total (less than the input after an upgrade); -1 after an error. */
  consumed: number;
}

export interface CollectOptions {
  limits?: Partial<HttpParserLimits>;
  /** Call finish() after the last piece. */
  finish?: boolean;
  /** Methods announced with expectResponseTo (response parsers). */
  requestMethods?: string[];
  /** Pause after every message and resume (re-feeding the rest), as a server applying backpressure. */
  pauseEachMessage?: boolean;
}

/** Splits `input` at the given cut points (sorted, deduplicated, within bounds). */
export function splitAt(input: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < input.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(input.subarray(prev, c));
    prev = c;
  }
  out.push(input.subarray(prev));
  return out;
}

export function everyByte(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i++) out.push(input.subarray(i, i + 1));
  return out;
}

export function collect(kind: HttpParserKind, pieces: Buffer[], opts: CollectOptions = {}): Collected {
  const messages: CollectedMessage[] = [];
  let current: CollectedMessage | null = null;
  const parser: HttpParser = new HttpParser(
    kind,
    {
      onMessageBegin() {
        current = { head: null, body: '', complete: false, trailers: undefined };
        messages.push(current);
      },
      onHeadersComplete(head) {
        current!.head = head;
      },
      onBody(chunk) {
        current!.body += chunk.toString('latin1');
      },
      onMessageComplete(trailers) {
        current!.complete = true;
        current!.trailers = trailers;
        if (opts.pauseEachMessage) parser.pause();
      },
    },
    opts.limits,
  );
  for (const m of opts.requestMethods ?? []) parser.expectResponseTo(m);
  let consumed = 0;
  try {
    for (const piece of pieces) {
      let rest = piece;
      for (;;) {
        const n = parser.feed(rest);
        consumed += n;
        if (parser.upgraded || n === rest.length) break;
        if (!parser.paused) throw new Error(`feed consumed ${n} of ${rest.length} bytes without pausing`);
        parser.resume();
        rest = rest.subarray(n);
      }
      if (parser.upgraded) break;
    }
    if (opts.finish) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    // The parser must keep refusing input with the same error.
    let again: unknown = null;
    try {
      parser.feed(Buffer.from('x'));
    } catch (e) {
      again = e;
    }
    if (again !== err) throw new Error('a failed parser did not rethrow the same error');
    // How many bytes were consumed before the error depends on the split; the offset does not.
    return { messages, error: { code: err.code, status: err.status, offset: err.offset }, upgraded: false, consumed: -1 };
  }
  return { messages, error: null, upgraded: parser.upgraded, consumed };
}
