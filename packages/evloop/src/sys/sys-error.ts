import { EvloopError } from '../errors.js';
import { C } from './constants/index.js';

const byNumber = new Map<number, { name: string; message: string }>();
const byName = new Map<string, number>();
for (const [name, errno, message] of C.errno) {
  byNumber.set(errno, { name, message });
  byName.set(name, errno);
}

/** The errno name of a number (`11` → `'EAGAIN'`), or `'E<n>'` for numbers outside the table. */
export function errnoName(errno: number): string {
  return byNumber.get(errno)?.name ?? `E${errno}`;
}

/** The errno number of a name (`'EAGAIN'` → `11`). Throws on unknown names. */
export function errnoOf(name: string): number {
  const n = byName.get(name);
  if (n === undefined) throw new EvloopError('ERR_INVALID_ARG', `unknown errno name ${name}`);
  return n;
}

/**
 * A failed system call: `code` is the errno name ('ECONNRESET'), `errno` its number, `syscall`
 * the call that failed. Message format follows Node's (`connect ECONNREFUSED 127.0.0.1:9`).
 *
 * @example
 * try { tcpConnect(...) } catch (err) { if (err instanceof SysError && err.code === 'ECONNREFUSED') ... }
 */
export class SysError extends EvloopError {
  readonly errno: number;
  readonly syscall: string;
  constructor(errno: number, syscall: string, detail?: string) {
    const entry = byNumber.get(errno);
    const name = entry?.name ?? `E${errno}`;
    super(name, `${syscall} ${name}${entry ? ` (${entry.message})` : ''}${detail ? ` ${detail}` : ''}`);
    this.name = 'SysError';
    this.errno = errno;
    this.syscall = syscall;
  }
}

/**
 * The one checked-call helper: sys functions return `-errno` on failure; `check` turns that into
 * a thrown SysError and passes results >= 0 through.
 *
 * @example
 * const fd = check(sys.socket(C.AF_INET, C.SOCK_STREAM, 0), 'socket');
 */
export function check(rc: number, syscall: string, detail?: string): number {
  if (rc < 0) throw new SysError(-rc, syscall, detail);
  return rc;
}
