/**
 * Built-in pool jobs: blocking and CPU-heavy work that must not run on the loop's thread.
 * Run them with `pool.run(JOBS, 'fib', [30])` or through the `builtinJob` references.
 */
import { sys, check } from '../sys/index.js';

/**
 * Blocks the worker in read(2) until `fd` has data (or EOF), then returns what was read as a
 * string. The fd must be in blocking mode; on a non-blocking fd with no data it fails with
 * SysError EAGAIN. The thread-per-request model of the lab does exactly this.
 * @example await pool.run(JOBS, 'blockingRead', [fd, 4096]);
 */
export function blockingRead(fd: number, maxBytes = 65536): string {
  const buf = Buffer.alloc(maxBytes);
  const n = check(sys.read(fd, buf, maxBytes), 'read');
  return buf.toString('utf8', 0, n);
}

/** Naive recursive Fibonacci: pure CPU work. @example await pool.run(JOBS, 'fib', [32]); */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Spins the CPU for `ms` milliseconds (busy loop); returns the iterations done. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) i++;
  return i;
}

/** The worker thread's kernel thread id (gettid): shows that jobs run on other threads. */
export function threadId(): number {
  return sys.gettid();
}
