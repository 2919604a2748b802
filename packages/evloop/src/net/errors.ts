/**
 * Errors of the networking layer. Each has a stable `code` (docs/net.md lists them); failed system
 * calls (ECONNREFUSED, ECONNRESET, EPIPE …) arrive as SysError from the sys layer instead.
 *
 * @example
 * try { await reader.readExactly(4) } catch (err) { if (err.code === 'ERR_INCOMPLETE_READ') console.log(err.partial) }
 */
import { EvloopError } from '../errors.js';

/** Codes used by src/net (besides errno names carried by SysError). */
export const NET_CODES = {
  TRANSPORT_CLOSED: 'ERR_TRANSPORT_CLOSED',
  WRITE_AFTER_END: 'ERR_WRITE_AFTER_END',
  STREAM_CLOSED: 'ERR_STREAM_CLOSED',
  INCOMPLETE_READ: 'ERR_INCOMPLETE_READ',
  LIMIT_OVERRUN: 'ERR_LIMIT_OVERRUN',
  CANCELLED: 'ERR_CANCELLED',
  NOT_LISTENING: 'ERR_SERVER_NOT_LISTENING',
  CONCURRENT_READ: 'ERR_CONCURRENT_READ',
  SEND_QUEUE_FULL: 'ERR_SEND_QUEUE_FULL',
} as const;

/** Writing to (or ending) a transport that is closing or closed. */
export function transportClosed(what: string): EvloopError {
  return new EvloopError(NET_CODES.TRANSPORT_CLOSED, `cannot ${what}: the transport is closed`);
}

/** `readExactly(n)` met end of stream first; `partial` holds the bytes that did arrive. */
export class IncompleteReadError extends EvloopError {
  readonly partial: Buffer;
  readonly expected: number;
  constructor(partial: Buffer, expected: number) {
    super(NET_CODES.INCOMPLETE_READ, `${partial.length} bytes read on a total of ${expected} expected bytes`);
    this.name = 'IncompleteReadError';
    this.partial = partial;
    this.expected = expected;
  }
}

/** `readUntil` found no separator within the reader's limit; `consumed` bytes stay buffered. */
export class LimitOverrunError extends EvloopError {
  readonly consumed: number;
  constructor(message: string, consumed: number) {
    super(NET_CODES.LIMIT_OVERRUN, message);
    this.name = 'LimitOverrunError';
    this.consumed = consumed;
  }
}

/**
 * A cancelled connect rejects with the coroutine layer's CancelledError (code ERR_CANCELLED), so
 * `rethrowIfCancelled` and `instanceof CancelledError` work the same everywhere.
 */
export { CancelledError } from '../async/errors.js';
