/**
 * Streams as an adapter over protocols (asyncio's StreamReaderProtocol): a Protocol that feeds a
 * StreamReader and tracks write flow control for a StreamWriter. Nothing subclasses the
 * transport; the fast protocol path stays as it is and streams cost only their own objects.
 */
import { connect, connectUnix, type ConnectOptions } from './connect.js';
import type { Protocol, Transport } from './protocol.js';
import { Server, type ServerOptions } from './server.js';
import { StreamReader } from './stream-reader.js';
import { StreamWriter, type WriterState } from './stream-writer.js';

export interface StreamOptions {
  /** The reader's buffer limit (bytes); reading pauses above twice this. Default 64 KiB. */
  limit?: number;
  /** Transport write-buffer high-water mark; drain() waits above it. Default 64 KiB. */
  highWaterMark?: number;
  /** Low-water mark; drain() resolves at or below it. Default high / 4. */
  lowWaterMark?: number;
}

/** A connection as a reader and a writer. */
export interface Stream {
  reader: StreamReader;
  writer: StreamWriter;
}

/** The adapter: protocol callbacks → reader data/EOF/error, writer drain/closed. */
export class StreamReaderProtocol implements Protocol, WriterState {
  readonly reader: StreamReader;
  writer: StreamWriter | null = null;
  #options: StreamOptions;
  #onConnected: ((s: Stream) => void) | null;
  #writePaused = false;
  #drainWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #lost = false;
  #lostError: Error | undefined;
  #closed: Promise<void> | null = null;
  #resolveClosed: (() => void) | null = null;
  #rejectClosed: ((e: Error) => void) | null = null;

  constructor(options: StreamOptions = {}, onConnected: ((s: Stream) => void) | null = null) {
    this.#options = options;
    this.reader = new StreamReader({ limit: options.limit });
    this.#onConnected = onConnected;
  }

  connectionMade(t: Transport): void {
    if (this.#options.highWaterMark !== undefined || this.#options.lowWaterMark !== undefined) {
      t.setWriteBufferLimits(this.#options.highWaterMark, this.#options.lowWaterMark);
    }
    this.reader.setFlow(t);
    this.writer = new StreamWriter(t, this, this.reader);
    this.#onConnected?.({ reader: this.reader, writer: this.writer });
  }

  dataReceived(data: Buffer): void {
    this.reader.feedData(data);
  }

  /** Keep the write side open: the peer's EOF ends only the reading half. */
  eofReceived(): boolean {
    this.reader.feedEof();
    return true;
  }

  connectionLost(err?: Error): void {
    this.#lost = true;
    this.#lostError = err;
    if (err) this.reader.setException(err);
    else this.reader.feedEof();
    for (const w of this.#drainWaiters.splice(0)) {
      if (err) w.reject(err);
      else w.resolve();
    }
    if (err) this.#rejectClosed?.(err);
    else this.#resolveClosed?.();
  }

  pauseWriting(): void {
    this.#writePaused = true;
  }

  resumeWriting(): void {
    this.#writePaused = false;
    for (const w of this.#drainWaiters.splice(0)) w.resolve();
  }

  drainWaiter(): Promise<void> {
    if (this.#lost && this.#lostError) return Promise.reject(this.#lostError);
    if (!this.#writePaused || this.#lost) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  closedPromise(): Promise<void> {
    if (this.#closed === null) {
      if (this.#lost) {
        this.#closed = this.#lostError ? Promise.reject(this.#lostError) : Promise.resolve();
      } else {
        this.#closed = new Promise((resolve, reject) => {
          this.#resolveClosed = resolve;
          this.#rejectClosed = reject;
        });
      }
      this.#closed.catch(() => {}); // an unobserved failure is reported through reads, not as unhandled
    }
    return this.#closed;
  }
}

/**
 * Connects over TCP and returns a reader and a writer.
 *
 * @example
 * const { reader, writer } = await openConnection('127.0.0.1', 7000);
 * writer.write('ping\n');
 * console.log(String(await reader.readLine()));
 * writer.close();
 */
export async function openConnection(host: string, port: number, options: ConnectOptions & StreamOptions = {}): Promise<Stream> {
  const [, p] = await connect(host, port, () => new StreamReaderProtocol(options), options);
  return { reader: p.reader, writer: p.writer! };
}

/**
 * Connects to a unix stream socket and returns a reader and a writer.
 * @example const { reader, writer } = await openUnixConnection('/tmp/app.sock');
 */
export async function openUnixConnection(path: string, options: Omit<ConnectOptions, 'family' | 'localAddress' | 'noDelay' | 'keepAlive'> & StreamOptions = {}): Promise<Stream> {
  const [, p] = await connectUnix(path, () => new StreamReaderProtocol(options), options);
  return { reader: p.reader, writer: p.writer! };
}

/** Called once per connection; when its promise settles the connection is closed (after flushing). */
export type StreamHandler = (reader: StreamReader, writer: StreamWriter) => Promise<void> | void;

/**
 * Starts a stream server: `handler(reader, writer)` runs for each connection. When the handler
 * returns (or throws) the connection is closed; an error it throws that is not the connection's
 * own goes to the server's error sink (`onError`, else the loop's, else console.error).
 *
 * @example
 * const server = await startServer(async (reader, writer) => {
 *   for await (const line of reader.lines()) writer.write(line);
 * }, { host: '127.0.0.1', port: 7000 });
 */
export async function startServer(handler: StreamHandler, options: ServerOptions & StreamOptions = {}): Promise<Server> {
  const run = (s: Stream) => {
    let result: Promise<void> | void;
    try {
      result = handler(s.reader, s.writer);
    } catch (err) {
      result = Promise.reject(err);
    }
    Promise.resolve(result).then(
      () => {
        if (!s.writer.isClosing) s.writer.close();
      },
      (err: unknown) => {
        if (!s.writer.isClosing) s.writer.transport.abort();
        if (!isConnectionError(err)) server.reportError(err, 'stream handler');
      },
    );
  };
  const server: Server = new Server(() => new StreamReaderProtocol(options, run), options);
  try {
    await server.listen();
  } catch (err) {
    server.close();
    throw err;
  }
  return server;
}

const CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_CLOSED', 'ERR_TRANSPORT_CLOSED', 'ERR_INCOMPLETE_READ']);

/** Errors that come from the peer or the connection, not from a bug in the handler. */
function isConnectionError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && CONNECTION_CODES.has((err as { code?: string }).code ?? '');
}
