/**
 * Errors of evloop that are not a failed system call. Every error evloop throws or delivers
 * carries a stable `code` (as undici's and Node's do): match on `err.code`, never on the message.
 * The codes are listed in docs/errors.md.
 *
 * @example
 * try { loop.callLater(NaN, cb) } catch (err) { if (err.code === 'ERR_INVALID_ARG') ... }
 */
export class EvloopError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvloopError';
    this.code = code;
  }
}

/** Throws ERR_INVALID_ARG unless `value` is a finite number >= 0. */
export function assertNonNegativeFinite(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new EvloopError('ERR_INVALID_ARG', `${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Throws ERR_INVALID_ARG unless `value` is a function. */
export function assertFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new EvloopError('ERR_INVALID_ARG', `${name} must be a function, got ${typeof value}`);
  }
}
