/**
 * A response body as an async iterable of Buffers with backpressure: the connection pushes
 * chunks in; once more than `highWaterMark` bytes wait unread, the connection is asked to pause
 * reading the socket (TCP then slows the server down), and to resume once the consumer has taken
 * the queue down to a quarter of it. One consumer only.
 */
import { HTTP_CLIENT_CODES, HttpClientError } from './errors.js';

/** What the body asks of its connection. */
export interface BodySource {
  pause(): void;
  resume(): void;
  /** The consumer gave up before the end: the connection cannot be reused. */
  cancel(): void;
}

export const DEFAULT_BODY_HIGH_WATER = 64 * 1024;

/**
 * @example
 * for await (const chunk of res.body) process.stdout.write(chunk);
 * // or: const text = await res.body.text();
 */
export class ResponseBody implements AsyncIterable<Buffer> {
  #chunks: Buffer[] = [];
  #head = 0; // index of the first unread chunk
  #bytes = 0;
  #ended = false;
  #error: Error | null = null;
  #used = false;
  #paused = false;
  #waiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #source: BodySource | null;
  readonly #high: number;
  readonly #low: number;

  constructor(source: BodySource | null, highWaterMark = DEFAULT_BODY_HIGH_WATER) {
    this.#source = source;
    this.#high = highWaterMark;
    this.#low = Math.floor(highWaterMark / 4);
  }

  /** An already complete, empty body (HEAD, 204, 304 …). */
  static empty(): ResponseBody {
    const b = new ResponseBody(null);
    b.end();
    return b;
  }

  /** True once iteration (or text/json/arrayBuffer) began. */
  get bodyUsed(): boolean {
    return this.#used;
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** True once every byte arrived (reading may still be going on). */
  get complete(): boolean {
    return this.#ended;
  }

  // ---- producer side (the connection) --------------------------------------------------------

  push(chunk: Buffer): void {
    if (this.#ended || this.#error !== null || chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
    if (!this.#paused && this.#bytes > this.#high && this.#source !== null) {
      this.#paused = true;
      this.#source.pause();
    }
    this.#wake();
  }

  end(): void {
    if (this.#ended || this.#error !== null) return;
    this.#ended = true;
    this.#source = null;
    this.#wake();
  }

  error(err: Error): void {
    if (this.#ended || this.#error !== null) return;
    this.#error = err;
    this.#source = null;
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(err);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve();
  }

  // ---- consumer side -------------------------------------------------------------------------

  /** Stops reading: an unfinished body closes its connection. Buffered bytes are dropped. */
  cancel(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    if (this.#ended || this.#error !== null) return;
    const s = this.#source;
    this.error(new HttpClientError(HTTP_CLIENT_CODES.BODY_USED, 'the body was cancelled'));
    s?.cancel();
  }

  async #next(): Promise<IteratorResult<Buffer>> {
    for (;;) {
      if (this.#error !== null) throw this.#error;
      if (this.#head < this.#chunks.length) {
        const chunk = this.#chunks[this.#head]!;
        this.#chunks[this.#head++] = EMPTY; // let it be collected
        if (this.#head === this.#chunks.length) {
          this.#chunks = [];
          this.#head = 0;
        }
        this.#bytes -= chunk.byteLength;
        if (this.#paused && this.#bytes <= this.#low) {
          this.#paused = false;
          this.#source?.resume();
        }
        return { value: chunk, done: false };
      }
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve, reject) => (this.#waiter = { resolve, reject }));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#used) throw new HttpClientError(HTTP_CLIENT_CODES.BODY_USED, 'the body was already read');
    this.#used = true;
    return {
      next: () => this.#next(),
      // `break` out of for-await: the rest is not wanted.
      return: async () => {
        this.cancel();
        return { value: undefined, done: true };
      },
    };
  }

  /** The whole body as one Buffer. */
  async bytes(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this) parts.push(c);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  /** The whole body decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** Reads and drops the rest (keeps the connection reusable, unlike cancel()). */
  async dump(): Promise<void> {
    if (this.#used) return;
    for await (const _ of this);
  }
}

const EMPTY = Buffer.alloc(0);
