/**
 * Transports and protocols, the asyncio/Twisted shape: a Transport owns a socket and moves bytes;
 * a Protocol is a set of callbacks that reacts to them. The loop calls the protocol; the protocol
 * calls the transport. No promises on this path: it is the fast layer streams and HTTP build on.
 *
 * Call order: `connectionMade` once, then any number of `dataReceived`, then at most one
 * `eofReceived`, then `connectionLost` exactly once (asynchronously, on a later turn than the
 * close that caused it). `pauseWriting`/`resumeWriting` alternate, starting with pause.
 *
 * @example
 * class Echo implements Protocol {
 *   t!: Transport;
 *   connectionMade(t: Transport) { this.t = t; }
 *   dataReceived(data: Buffer) { this.t.write(data); }
 *   connectionLost(err?: Error) { if (err) console.error(err.code); }
 * }
 */
import type { SocketAddress } from '../sys/index.js';

export interface Protocol {
  /** The connection is up; keep `transport` to write with. */
  connectionMade(transport: Transport): void;
  /** Bytes arrived. The Buffer is the protocol's to keep (it is never reused by the transport). */
  dataReceived(data: Buffer): void;
  /**
   * The peer sent EOF (it will write no more). Return true to keep the write side open
   * (half-close: write more, then `end()` or `close()`); otherwise the transport closes itself.
   */
  eofReceived?(): boolean | void;
  /** The connection is gone: `err` is undefined after a clean close, else why (SysError ECONNRESET …). */
  connectionLost(err?: Error): void;
  /** The write buffer rose above the high-water mark: stop producing. */
  pauseWriting?(): void;
  /** The write buffer fell to the low-water mark: produce again. */
  resumeWriting?(): void;
}

/**
 * A protocol that receives into its own buffer (asyncio's BufferedProtocol): no Buffer is
 * allocated per read. `getBuffer(sizeHint)` returns where the next read lands (non-empty);
 * `bufferUpdated(n)` says how many bytes were written there.
 *
 * @example
 * class Parser implements BufferedProtocol {
 *   buf = Buffer.allocUnsafe(65536); used = 0;
 *   getBuffer() { return this.buf.subarray(this.used); }
 *   bufferUpdated(n: number) { this.used += n; this.parse(); }
 *   ...
 * }
 */
export interface BufferedProtocol extends Omit<Protocol, 'dataReceived'> {
  getBuffer(sizeHint: number): Uint8Array;
  bufferUpdated(nbytes: number): void;
}

export type AnyProtocol = Protocol | BufferedProtocol;

/** Something that makes protocols: one per connection. */
export type ProtocolFactory<P extends AnyProtocol = AnyProtocol> = () => P;

export interface Transport {
  /**
   * Queues `data` for sending; tries at once and keeps only what the kernel did not take (copied,
   * so the caller may reuse its buffer). With `immutable` true the caller promises never to
   * modify `data`: what the kernel did not take is queued by reference, without a copy (cached
   * responses, large bodies). Throws ERR_TRANSPORT_CLOSED after close/abort, ERR_WRITE_AFTER_END
   * after end().
   *
   * @example
   * const page = Buffer.from(html); // built once, never changed
   * transport.write(page, true);    // a slow reader holds a reference, not a copy
   */
  write(data: Uint8Array | string, immutable?: boolean): void;
  /** Half-close: sends EOF once the queue is flushed; reading goes on. */
  end(): void;
  /** Closes after flushing the queue; stops reading now. connectionLost(undefined) follows. */
  close(): void;
  /** Closes now, dropping the queue. connectionLost(err) follows (err undefined if none given). */
  abort(err?: Error): void;
  /** Stops calling dataReceived until resumeReading (the kernel buffers, then TCP pushes back). */
  pauseReading(): void;
  resumeReading(): void;
  readonly isReading: boolean;
  /** True once close/abort was called or the connection was lost. */
  readonly isClosing: boolean;
  /** Bytes queued in user space, not yet taken by the kernel. */
  readonly bufferedAmount: number;
  /** Sets the write-buffer high/low water marks (bytes). Default 64 KiB / 16 KiB. */
  setWriteBufferLimits(high?: number, low?: number): void;
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  /** TCP_NODELAY (no-op for unix sockets). */
  setNoDelay(on?: boolean): void;
  /** SO_KEEPALIVE, with the idle time before the first probe. */
  setKeepAlive(on: boolean, idleSecs?: number): void;
  /** The socket's fd (for diagnostics; do not close it yourself). -1 once closed. */
  readonly fd: number;
  /** Keep the loop alive while the connection is open (the default). */
  ref(): void;
  /** Let the loop end while the connection is open (an idle pooled connection). */
  unref(): void;
}
