/**
 * The writing half of a stream (asyncio's StreamWriter): writes go straight to the transport;
 * `await drain()` waits while the transport's buffer is above its high-water mark, so a fast
 * producer keeps memory bounded.
 */
import type { SocketAddress } from '../sys/index.js';
import type { Transport } from './protocol.js';
import type { StreamReader } from './stream-reader.js';

/** The protocol side's state the writer reads (the adapter in streams.ts implements it). */
export interface WriterState {
  /** Resolves when writing may go on; rejects with the connection's error. */
  drainWaiter(): Promise<void>;
  /** Resolves once the connection is gone (rejects with its error, if any). */
  closedPromise(): Promise<void>;
}

/**
 * @example
 * writer.write('hello\n');
 * await writer.drain();
 * writer.close();
 * await writer.closed();
 */
export class StreamWriter {
  readonly transport: Transport;
  #state: WriterState;
  #reader: StreamReader | null;

  constructor(transport: Transport, state: WriterState, reader: StreamReader | null) {
    this.transport = transport;
    this.#state = state;
    this.#reader = reader;
  }

  /** Queues data (copied if it cannot be sent at once). Throws ERR_TRANSPORT_CLOSED after close. */
  write(data: Uint8Array | string): void {
    this.transport.write(data);
  }

  /** Resolves when the write buffer is at or below its low-water mark; rejects if the connection failed. */
  drain(): Promise<void> {
    return this.#state.drainWaiter();
  }

  /** Half-close: EOF goes to the peer after the queued data; reading goes on. */
  end(): void {
    this.transport.end();
  }

  /** Closes the connection (after flushing); reads beyond the buffer fail with ERR_STREAM_CLOSED. */
  close(): void {
    this.#reader?.markClosed();
    this.transport.close();
  }

  /** True once close() was called or the connection was lost. */
  get isClosing(): boolean {
    return this.transport.isClosing;
  }

  /** Resolves once the connection is closed. Rejects with the error it failed with, if any. */
  closed(): Promise<void> {
    return this.#state.closedPromise();
  }

  get localAddress(): SocketAddress {
    return this.transport.localAddress;
  }

  get remoteAddress(): SocketAddress {
    return this.transport.remoteAddress;
  }
}
