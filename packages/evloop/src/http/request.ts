/**
 * The native request: method, target, raw headers, and the body as a stream with backpressure
 * (reading pauses while more than 64 KiB wait unread), plus `body()`/`text()`/`json()` for the
 * whole of it. A request without a body allocates nothing for one.
 */
import { authorityEnd, authorityStart } from './semantics.js';
import { httpError, HTTP_SERVER_CODES } from './server-errors.js';

/** What a request needs from its connection. */
export interface RequestOwner {
  /** The handler started reading the body: send `100 Continue` if the client waits for it. */
  bodyWanted(): void;
  /** Unread body bytes fell below the low-water mark: read from the socket again. */
  bodyDrained(): void;
}

const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * @example
 * async function handler(req: ServerRequest, res: ServerResponse) {
 *   if (req.method === 'POST') {
 *     let total = 0;
 *     for await (const chunk of req) total += chunk.length; // backpressure: reads as you go
 *     res.end(`got ${total} bytes`);
 *   } else {
 *     res.end(`${req.method} ${req.target} from ${req.header('user-agent')}`);
 *   }
 * }
 */
export class ServerRequest implements AsyncIterable<Buffer> {
  /** The method as sent (case-sensitive), e.g. 'GET'. */
  readonly method: string;
  /**
   * The request-target exactly as sent: '/search?q=1' (origin-form), 'http://a/b' (absolute-form),
   * 'example.com:443' (CONNECT) or '*' (OPTIONS). Route by {@link path}, which is the same string
   * for the origin-form.
   */
  readonly target: string;
  /** Field lines as [name, value, name, value, …], names in their raw case. */
  readonly headers: readonly string[];
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly versionMinor: number;
  #owner: RequestOwner;
  #hasBody: boolean;
  #chunks: Buffer[] | null = null;
  #queued = 0;
  #ended: boolean;
  #error: Error | null = null;
  #resolve: ((b: Buffer | null) => void) | null = null;
  #reject: ((e: Error) => void) | null = null;
  #collecting = false;
  #reading = false;
  #ac: AbortController | null = null;

  /** @internal made by the connection when a request head is complete */
  constructor(owner: RequestOwner, method: string, target: string, headers: string[], versionMinor: number, hasBody: boolean) {
    this.#owner = owner;
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.versionMinor = versionMinor;
    this.#hasBody = hasBody;
    this.#ended = !hasBody;
  }

  /** Alias of `target` (as sent, like Node's `req.url`). */
  get url(): string {
    return this.target;
  }

  /**
   * The origin-form of the target: path and query, what to route by. The target itself for the
   * origin-form (no allocation) and for `*`; for the absolute-form the part after the authority,
   * '/' when the URI has no path (RFC 9112 §3.2.2: `GET http://a/b?q` → '/b?q', `GET http://a` →
   * '/'); '' for CONNECT (an authority has no path).
   *
   * @example
   * // GET http://example.com/users/7?full=1 HTTP/1.1
   * req.path; // '/users/7?full=1'
   * req.host; // 'example.com'
   */
  get path(): string {
    const t = this.target;
    if (t.charCodeAt(0) === 0x2f || t === '*') return t;
    if (this.method === 'CONNECT') return '';
    const e = authorityEnd(t, authorityStart(t));
    if (e === t.length) return '/';
    return t.charCodeAt(e) === 0x2f ? t.slice(e) : `/${t.slice(e)}`;
  }

  /**
   * The authority the request is for (`host[:port]`, as sent): for the absolute-form the one in
   * the target, and the Host header is then ignored (RFC 9112 §3.2.2); for CONNECT the target;
   * otherwise the Host header, '' when it is empty or absent (HTTP/1.0). The server refused the
   * request unless it is a valid `uri-host [ ":" port ]` (no "/", "@", spaces …: safe to put
   * in a URL), and an HTTP/1.1 request without exactly one Host (semantics.ts).
   * `header('host')` stays the raw field.
   */
  get host(): string {
    const t = this.target;
    if (t.charCodeAt(0) === 0x2f || t === '*') return this.header('host') ?? '';
    if (this.method === 'CONNECT') return t;
    const s = authorityStart(t);
    return t.slice(s, authorityEnd(t, s));
  }

  /** The first value of a header (case-insensitive), or undefined. */
  header(name: string): string | undefined {
    const h = this.headers;
    const n = name.length;
    for (let i = 0; i < h.length; i += 2) {
      const k = h[i]!;
      if (k.length === n && (k === name || k.toLowerCase() === name.toLowerCase())) return h[i + 1];
    }
    return undefined;
  }

  /** True when the request has a body (Content-Length > 0 or chunked). */
  get hasBody(): boolean {
    return this.#hasBody;
  }

  /** Aborted when the connection closes before the response is finished. */
  get signal(): AbortSignal {
    return (this.#ac ??= new AbortController()).signal;
  }

  /**
   * The next piece of the body, or null at its end. Rejects with ERR_HTTP_BODY_ABORTED (cause:
   * the parse error) or ERR_HTTP_CONNECTION_CLOSED if the body was cut off.
   */
  read(): Promise<Buffer | null> {
    if (this.#resolve !== null) return Promise.reject(httpError(HTTP_SERVER_CODES.BODY_CONSUMED, 'a read() is already pending'));
    if (!this.#reading) {
      this.#reading = true;
      if (!this.#ended) this.#owner.bodyWanted();
    }
    const chunks = this.#chunks;
    if (chunks !== null && chunks.length > 0) {
      const c = chunks.shift()!;
      this.#dequeued(c.length);
      return Promise.resolve(c);
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (let c = await this.read(); c !== null; c = await this.read()) yield c;
  }

  /** The whole body (empty if none). Reading it twice throws ERR_HTTP_BODY_CONSUMED. */
  async body(): Promise<Buffer> {
    if (this.#reading) throw httpError(HTTP_SERVER_CODES.BODY_CONSUMED, 'the body was already read');
    if (!this.#hasBody) {
      this.#reading = true;
      return EMPTY;
    }
    this.#collecting = true; // the parser's body limit bounds it: no need to pause
    const parts: Buffer[] = [];
    for (let c = await this.read(); c !== null; c = await this.read()) parts.push(c);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async text(): Promise<string> {
    return (await this.body()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  /** The body as a Web ReadableStream (for the fetch adapter); pulls with backpressure. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const c = await this.read();
        if (c === null) controller.close();
        else controller.enqueue(c);
      },
    }, { highWaterMark: 0 });
  }

  // ---- from the connection ----------------------------------------------------------------

  /** @internal a body piece (a view, valid during the call); false when the reader lags: pause. */
  pushBody(view: Buffer): boolean {
    if (this.#ended) return true; // no one reads any more (response done): the bytes are dropped
    const copy = Buffer.allocUnsafe(view.length);
    view.copy(copy);
    const resolve = this.#resolve;
    if (resolve !== null) {
      this.#resolve = this.#reject = null;
      resolve(copy);
      return true;
    }
    (this.#chunks ??= []).push(copy);
    this.#queued += copy.length;
    return this.#collecting || this.#queued <= HIGH_WATER;
  }

  /** @internal the body is complete */
  endBody(): void {
    if (this.#ended) return;
    this.#ended = true;
    const resolve = this.#resolve;
    if (resolve !== null) {
      this.#resolve = this.#reject = null;
      resolve(null);
    }
  }

  /** @internal the body was cut off (or the connection closed) */
  failBody(err: Error): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#error = err;
      const reject = this.#reject;
      if (reject !== null) {
        this.#resolve = this.#reject = null;
        reject(err);
      }
    }
    this.#ac?.abort(err);
  }

  /** @internal the response is done: later body bytes are discarded */
  discardBody(): void {
    this.#ended = true;
    this.#chunks = null;
    this.#queued = 0;
  }

  /** @internal */
  get bodyEnded(): boolean {
    return this.#ended;
  }

  #dequeued(n: number): void {
    const before = this.#queued;
    this.#queued -= n;
    if (before > LOW_WATER && this.#queued <= LOW_WATER) this.#owner.bodyDrained();
  }
}
