/**
 * Checked helpers for the file-descriptor kinds the reactor itself uses: eventfd (wake-ups),
 * timerfd (the loop's one kernel timer), pipe2 and socketpair (tests, child processes), and
 * close; and the two file calls servers need: the open-file limit and chmod (a unix socket's
 * mode). They throw SysError; every fd is created non-blocking and close-on-exec.
 */
import { C } from './constants/index.js';
import { sys } from './ffi.js';
import { check } from './sys-error.js';
import { E } from './errno.js';

/** Creates a non-blocking eventfd counter. @example const efd = eventfd(); */
export function eventfd(initial = 0): number {
  return check(sys.eventfd(initial, C.EFD_NONBLOCK | C.EFD_CLOEXEC), 'eventfd');
}

const ONE = new BigUint64Array([1n]);
const drainBuf = new BigUint64Array(1);

/** Adds 1 to an eventfd, waking whoever polls it. EAGAIN (counter saturated) is not an error. */
export function eventfdSignal(fd: number): void {
  const rc = sys.write(fd, ONE, 8);
  if (rc < 0 && -rc !== E.EAGAIN) check(rc, 'write', '(eventfd)');
}

/** Resets an eventfd's counter; returns the value it held (0 if it was not signalled). */
export function eventfdDrain(fd: number): number {
  const rc = sys.read(fd, drainBuf, 8);
  if (rc < 0) {
    if (-rc === E.EAGAIN) return 0;
    check(rc, 'read', '(eventfd)');
  }
  return Number(drainBuf[0]);
}

/** Creates a non-blocking CLOCK_MONOTONIC timerfd. */
export function timerfd(): number {
  return check(sys.timerfd_create(C.CLOCK_MONOTONIC, C.TFD_NONBLOCK | C.TFD_CLOEXEC), 'timerfd_create');
}

const itimerspec = new BigInt64Array(C.ITIMERSPEC_SIZE / 8);

/**
 * Arms a timerfd to expire once after `ms` milliseconds (relative), or disarms it when `ms` is
 * null. A 0 delay would disarm the timer in the kernel, so it is raised to 1 ns.
 */
export function timerfdArm(fd: number, ms: number | null): void {
  itimerspec.fill(0n); // it_interval = 0: one-shot
  if (ms !== null) {
    const ns = ms <= 0 ? 1n : BigInt(Math.ceil(ms * 1e6));
    itimerspec[2] = ns / 1_000_000_000n; // it_value.tv_sec
    itimerspec[3] = ns % 1_000_000_000n; // it_value.tv_nsec
  }
  check(sys.timerfd_settime(fd, 0, itimerspec, null), 'timerfd_settime');
}

/** Reads (and so clears) a timerfd's expiration count; 0 if it has not expired. */
export function timerfdDrain(fd: number): number {
  const rc = sys.read(fd, drainBuf, 8);
  if (rc < 0) {
    if (-rc === E.EAGAIN) return 0;
    check(rc, 'read', '(timerfd)');
  }
  return Number(drainBuf[0]);
}

/** A non-blocking pipe: `[readEnd, writeEnd]`. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(sys.pipe2(fds, C.O_NONBLOCK | C.O_CLOEXEC), 'pipe2');
  return [fds[0]!, fds[1]!];
}

/** A connected pair of non-blocking Unix sockets (stream by default). */
export function socketpair(type: number = C.SOCK_STREAM): [number, number] {
  const fds = new Int32Array(2);
  check(sys.socketpair(C.AF_UNIX, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, fds), 'socketpair');
  return [fds[0]!, fds[1]!];
}

/** Closes an fd; throws SysError (EBADF for a closed or invalid fd). */
export function close(fd: number): void {
  check(sys.close(fd), 'close');
}

/** True when `fd` names an open file description in this process. */
export function isOpenFd(fd: number): boolean {
  return Number.isInteger(fd) && fd >= 0 && sys.fcntl(fd, C.F_GETFD) >= 0;
}

/** Sets or clears O_NONBLOCK on an fd. */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = check(sys.fcntl(fd, C.F_GETFL), 'fcntl', '(F_GETFL)');
  const next = on ? flags | C.O_NONBLOCK : flags & ~C.O_NONBLOCK;
  if (next !== flags) check(sys.fcntl(fd, C.F_SETFL, next), 'fcntl', '(F_SETFL)');
}

const rlimit = new BigUint64Array(C.RLIMIT_SIZE / 8);

/**
 * The process's open-file limit (RLIMIT_NOFILE): `soft` is what EMFILE enforces, `hard` the
 * ceiling it may be raised to. RLIM_INFINITY reads as Infinity. Throws SysError.
 *
 * @example const { soft } = openFileLimit(); // e.g. 1024, or 1048576 (Node raises soft to hard)
 */
export function openFileLimit(): { soft: number; hard: number } {
  check(sys.getrlimit(C.RLIMIT_NOFILE, rlimit), 'getrlimit');
  const n = (v: bigint) => (v >= 2n ** 53n ? Infinity : Number(v)); // RLIM_INFINITY is ~0
  return { soft: n(rlimit[0]!), hard: n(rlimit[1]!) };
}

/**
 * Sets a file's permission bits (chmod(2); follows symlinks). Throws SysError (ENOENT, EPERM …).
 *
 * @example chmod('/run/app.sock', 0o660);
 */
export function chmod(path: string, mode: number): void {
  check(sys.chmod(path, mode), 'chmod', path);
}
