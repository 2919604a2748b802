/**
 * The reading half of a stream (asyncio's StreamReader): bytes fed by a protocol, read with
 * promises. Flow control: above `2 × limit` buffered bytes the transport is paused; once reads
 * bring it to `limit` or below, it resumes. A slow reader therefore holds at most about
 * 2 × limit + one read (64 KiB) in memory, and TCP pushes back on the sender.
 */
import { EvloopError } from '../errors.js';
import { IncompleteReadError, LimitOverrunError, NET_CODES } from './errors.js';

/** What the reader needs from its transport. */
export interface ReadFlow {
  pauseReading(): void;
  resumeReading(): void;
}

const DEFAULT_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * @example
 * const { reader } = await openConnection('127.0.0.1', 7000);
 * const header = await reader.readExactly(4);
 * const line = await reader.readLine();
 * for await (const chunk of reader) process(chunk);
 */
export class StreamReader implements AsyncIterable<Buffer> {
  readonly limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #eof = false;
  #error: Error | null = null;
  #closedByUs = false;
  #waiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #flow: ReadFlow | null = null;
  #paused = false;

  constructor(options: { limit?: number } = {}) {
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw new EvloopError('ERR_INVALID_ARG', `limit must be a positive integer, got ${String(limit)}`);
    this.limit = limit;
  }

  /** Bytes buffered and not yet read. */
  get bufferedAmount(): number {
    return this.#size;
  }

  /** True when EOF was fed and every byte has been read. */
  atEof(): boolean {
    return this.#eof && this.#size === 0;
  }

  // ---- fed by the protocol side -----------------------------------------------------------

  /** @internal */
  setFlow(flow: ReadFlow): void {
    this.#flow = flow;
  }

  /** Adds received bytes (the reader keeps the Buffer). */
  feedData(data: Buffer): void {
    if (this.#eof) throw new EvloopError('ERR_STREAM_EOF', 'feedData after feedEof');
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#size += data.length;
    this.#wake();
    if (!this.#paused && this.#flow !== null && this.#size > 2 * this.limit) {
      this.#paused = true;
      this.#flow.pauseReading();
    }
  }

  feedEof(): void {
    this.#eof = true;
    this.#wake();
  }

  /** The connection failed: pending and later reads reject with `err` once the buffer is used up. */
  setException(err: Error): void {
    this.#error = err;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(err);
  }

  /** @internal our side closed the stream: reads beyond the buffer fail with ERR_STREAM_CLOSED. */
  markClosed(): void {
    this.#closedByUs = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      w.resolve();
    }
  }

  #maybeResume(): void {
    if (this.#paused && this.#size <= this.limit) {
      this.#paused = false;
      this.#flow?.resumeReading();
    }
  }

  /** Waits for more data, EOF or an error. */
  #wait(what: string): Promise<void> {
    if (this.#waiter !== null) {
      return Promise.reject(new EvloopError(NET_CODES.CONCURRENT_READ, `${what}() called while another read is waiting on the same stream`));
    }
    if (this.#paused) {
      // never wait while paused with room to spare (a reader that wants more than 2 × limit)
      this.#paused = false;
      this.#flow?.resumeReading();
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Nothing more will come: EOF (returns false), an error or our own close (throws). */
  #finished(): boolean {
    if (this.#error !== null) throw this.#error;
    if (this.#closedByUs) throw new EvloopError(NET_CODES.STREAM_CLOSED, 'cannot read: the stream is closed');
    return this.#eof;
  }

  /** Removes and returns the first `n` buffered bytes (n <= size). */
  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const chunks = this.#chunks;
    const first = chunks[0]!;
    let out: Buffer;
    if (first.length === n) {
      chunks.shift();
      out = first;
    } else if (first.length > n) {
      out = first.subarray(0, n);
      chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = chunks[0]!;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) chunks.shift();
        else chunks[0] = c.subarray(k);
      }
    }
    this.#size -= n;
    this.#maybeResume();
    return out;
  }

  // ---- reading ----------------------------------------------------------------------------

  /**
   * Up to `n` bytes as soon as any are available; with n < 0 (default) everything until EOF.
   * An empty Buffer means EOF. Throws the connection's error, or ERR_STREAM_CLOSED after close().
   */
  async read(n = -1): Promise<Buffer> {
    if (n === 0) return EMPTY;
    if (n < 0) {
      while (!this.#eof) {
        if (this.#finished()) break;
        await this.#wait('read');
      }
      if (this.#error !== null && this.#size === 0) throw this.#error;
      return this.#take(this.#size);
    }
    while (this.#size === 0) {
      if (this.#finished()) return EMPTY;
      await this.#wait('read');
    }
    return this.#take(Math.min(n, this.#size));
  }

  /** Exactly `n` bytes; at EOF first, IncompleteReadError (code ERR_INCOMPLETE_READ) with the partial bytes. */
  async readExactly(n: number): Promise<Buffer> {
    if (!Number.isInteger(n) || n < 0) throw new EvloopError('ERR_INVALID_ARG', `readExactly needs an integer >= 0, got ${String(n)}`);
    while (this.#size < n) {
      if (this.#finished()) throw new IncompleteReadError(this.#take(this.#size), n);
      await this.#wait('readExactly');
    }
    return this.#take(n);
  }

  /**
   * Bytes up to and including `separator`. Throws LimitOverrunError (ERR_LIMIT_OVERRUN) when
   * `limit` bytes arrive without it (the bytes stay buffered), IncompleteReadError at EOF.
   */
  async readUntil(separator: Uint8Array | string = '\n'): Promise<Buffer> {
    const sep = typeof separator === 'string' ? Buffer.from(separator) : Buffer.from(separator.buffer, separator.byteOffset, separator.byteLength);
    if (sep.length === 0) throw new EvloopError('ERR_INVALID_ARG', 'the separator must not be empty');
    let searched = 0;
    for (;;) {
      if (this.#size >= sep.length) {
        if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#size)];
        const buf = this.#chunks[0]!;
        const at = buf.indexOf(sep, searched);
        if (at >= 0) {
          if (at + sep.length > this.limit) throw new LimitOverrunError(`separator found beyond the limit of ${this.limit} bytes`, at);
          return this.#take(at + sep.length);
        }
        searched = this.#size - sep.length + 1;
        if (this.#size > this.limit) throw new LimitOverrunError(`no separator within the limit of ${this.limit} bytes`, this.#size);
      }
      if (this.#finished()) throw new IncompleteReadError(this.#take(this.#size), this.#size + sep.length);
      await this.#wait('readUntil');
    }
  }

  /** One line including '\n'; at EOF the unterminated rest (empty Buffer when nothing is left). */
  async readLine(): Promise<Buffer> {
    try {
      return await this.readUntil('\n');
    } catch (err) {
      if (err instanceof IncompleteReadError) return err.partial;
      throw err;
    }
  }

  /** Chunks as they arrive, until EOF. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = await this.read(65536);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /** Lines (with their '\n') until EOF. @example for await (const line of reader.lines()) ... */
  async *lines(): AsyncIterable<Buffer> {
    for (;;) {
      const line = await this.readLine();
      if (line.length === 0) return;
      yield line;
    }
  }
}
