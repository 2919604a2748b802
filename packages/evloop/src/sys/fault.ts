/**
 * Fault injection for tests: swaps chosen functions of the `sys` object for wrappers that fail on
 * a schedule, returning exactly what the real call would (`-errno`, or a shorter byte count), so
 * the code under test cannot tell an injected fault from a real one. Calls a schedule does not
 * fault pass through to the real function.
 *
 * A step is `'pass'`, an errno name (`'EINTR'`, `'EAGAIN'`, `'ECONNRESET'`, `'EMFILE'` …: the call
 * is not made and `-errno` is returned), or `{ short: n }`: the call is really made but moves at
 * most n bytes (write/send/sendto/writev write only that prefix; read/recv/recvfrom/readv fill
 * only that much), so the data stays consistent.
 *
 * A schedule is an array of steps (used in order, then pass-through), `{ steps, repeat: true }`
 * (cycled), `{ every: n, fault }` (every n-th call, optionally at most `times` times), or a
 * function of the call number and arguments. Object schedules take `fd` to count only calls on
 * that fd (the loop's own eventfd reads then pass untouched).
 *
 * @example
 * const faults = injectFaults({
 *   read: ['EINTR', 'pass', 'EAGAIN'],
 *   send: [{ short: 3 }],
 *   accept4: { every: 3, fault: 'EMFILE' },
 * });
 * try { ... } finally { faults.restore(); }
 * assert.equal(faults.injected.read?.EINTR, 1);
 */
import { EvloopError } from '../errors.js';
import type { ErrnoName } from './constants/errno-generic.js';
import { sys, type Sys } from './ffi.js';
import { errnoOf } from './sys-error.js';

/** One call's fate. */
export type FaultStep = 'pass' | ErrnoName | { short: number };

/** When each call of one function is faulted. */
export type FaultSchedule =
  | readonly FaultStep[]
  | { steps: readonly FaultStep[]; repeat?: boolean; fd?: number }
  | { every: number; fault: FaultStep; times?: number; fd?: number }
  | ((call: number, args: readonly unknown[]) => FaultStep);

/** Schedules by sys function name. */
export type FaultPlan = { readonly [K in keyof Sys]?: FaultSchedule };

/** A live injection: counters of what happened, and `restore()`. */
export interface FaultHandle {
  /** Calls that reached each wrapped function (faulted or not, on any fd). */
  readonly calls: { [K in keyof Sys]?: number };
  /** Injected faults per function, by errno name or `'short'`. */
  readonly injected: { [K in keyof Sys]?: Record<string, number> };
  /** Total faults injected so far, over all functions. */
  readonly total: number;
  /** Puts the original functions back. Idempotent. */
  restore(): void;
}

// Which argument is the byte count, per function a short step can apply to.
const LENGTH_ARG: Partial<Record<keyof Sys, number>> = { read: 2, write: 2, recv: 2, send: 2, recvfrom: 2, sendto: 2 };
const IOV_CALLS: ReadonlySet<keyof Sys> = new Set(['readv', 'writev']);

type AnyFn = (...args: unknown[]) => number;

function invalidPlan(message: string): EvloopError {
  return new EvloopError('ERR_INVALID_ARG', `fault plan: ${message}`);
}

function checkStep(name: keyof Sys, step: FaultStep): void {
  if (step === 'pass') return;
  if (typeof step === 'string') { errnoOf(step); return; } // throws ERR_INVALID_ARG on unknown names
  if (step === null || typeof step !== 'object' || !Number.isInteger(step.short) || step.short < 1) {
    throw invalidPlan(`${String(name)}: a step is 'pass', an errno name or { short: n >= 1 }, got ${JSON.stringify(step)}`);
  }
  if (LENGTH_ARG[name] === undefined && !IOV_CALLS.has(name)) {
    throw invalidPlan(`${String(name)} moves no bytes: { short } applies to read/write/recv/send/recvfrom/sendto/readv/writev`);
  }
}

// Array.isArray does not narrow a readonly array out of a union.
function isStepList(s: FaultSchedule): s is readonly FaultStep[] {
  return Array.isArray(s);
}

/** Turns a schedule into "the step for this call", validating every fixed step up front. */
function compile(name: keyof Sys, schedule: FaultSchedule): (args: unknown[]) => FaultStep {
  if (typeof schedule === 'function') {
    let n = 0;
    return (args) => { const s = schedule(n++, args); checkStep(name, s); return s; };
  }
  const fdMatches = (fd: number | undefined, args: unknown[]) => fd === undefined || args[0] === fd;
  if (isStepList(schedule) || 'steps' in schedule) {
    const obj = isStepList(schedule) ? { steps: schedule, repeat: false, fd: undefined } : schedule;
    const steps = obj.steps;
    steps.forEach((s) => checkStep(name, s));
    let n = 0;
    return (args) => {
      if (!fdMatches(obj.fd, args) || steps.length === 0) return 'pass';
      const i = n++;
      if (i < steps.length) return steps[i]!;
      return obj.repeat ? steps[i % steps.length]! : 'pass';
    };
  }
  if ('every' in schedule) {
    const { every, fault, times, fd } = schedule;
    if (!Number.isInteger(every) || every < 1) throw invalidPlan(`${String(name)}: every must be an integer >= 1`);
    checkStep(name, fault);
    let n = 0;
    let done = 0;
    return (args) => {
      if (!fdMatches(fd, args)) return 'pass';
      n++;
      if (n % every !== 0 || (times !== undefined && done >= times)) return 'pass';
      done++;
      return fault;
    };
  }
  throw invalidPlan(`${String(name)}: unrecognised schedule ${JSON.stringify(schedule)}`);
}

/** Performs `real` moving at most `limit` bytes. */
function shortCall(name: keyof Sys, real: AnyFn, args: unknown[], limit: number): number {
  const lenArg = LENGTH_ARG[name];
  if (lenArg !== undefined) {
    const a = args.slice();
    a[lenArg] = Math.min(Number(a[lenArg]), limit);
    return real(...a);
  }
  // readv/writev: copy the iovec array with lengths cut so their sum is at most `limit`.
  const iov = args[1] as ArrayBufferView;
  const count = Number(args[2]);
  const src = new BigUint64Array(iov.buffer, iov.byteOffset, count * 2);
  const cut = new BigUint64Array(count * 2);
  let left = BigInt(limit);
  let used = 0;
  for (let i = 0; i < count && left > 0n; i++) {
    const len = src[2 * i + 1]! < left ? src[2 * i + 1]! : left;
    cut[2 * i] = src[2 * i]!;
    cut[2 * i + 1] = len;
    left -= len;
    used = i + 1;
  }
  return real(args[0], cut, count === 0 ? 0 : Math.max(used, 1));
}

/**
 * Replaces the planned `sys` functions with faulting wrappers until `restore()` is called.
 * Throws ERR_INVALID_ARG for an unknown function, errno name or misplaced `{ short }`.
 * Restore nested injections in reverse order.
 *
 * @example
 * const f = injectFaults({ recv: ['ECONNRESET'] });
 * assert.equal(recv(fd, buf), -E.ECONNRESET);
 * f.restore();
 */
export function injectFaults(plan: FaultPlan): FaultHandle {
  const target = sys as unknown as Record<string, AnyFn>;
  const originals = new Map<string, AnyFn>();
  const calls: Record<string, number> = {};
  const injected: Record<string, Record<string, number>> = {};
  let total = 0;
  const compiled: [keyof Sys, (args: unknown[]) => FaultStep][] = [];
  for (const name of Object.keys(plan) as (keyof Sys)[]) {
    if (typeof target[name] !== 'function') throw invalidPlan(`sys has no function ${String(name)}`);
    compiled.push([name, compile(name, plan[name]!)]);
  }
  for (const [name, next] of compiled) {
    const real = target[name]!;
    originals.set(name, real);
    const count = (kind: string) => {
      const per = (injected[name] ??= {});
      per[kind] = (per[kind] ?? 0) + 1;
      total++;
    };
    target[name] = (...args: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      const step = next(args);
      if (step === 'pass') return real(...args);
      if (typeof step === 'string') { count(step); return -errnoOf(step); }
      count('short');
      return shortCall(name, real, args, step.short);
    };
  }
  let restored = false;
  return {
    calls,
    injected,
    get total() { return total; },
    restore() {
      if (restored) return;
      restored = true;
      for (const [name, real] of originals) target[name] = real;
    },
  };
}

/**
 * Runs `fn` with faults injected and restores them afterwards, also when `fn` throws or (for an
 * async `fn`) when its promise settles.
 *
 * @example
 * await withFaults({ write: [{ short: 1 }] }, async (faults) => { await stream.write(data); });
 */
export function withFaults<T>(plan: FaultPlan, fn: (faults: FaultHandle) => T): T {
  const faults = injectFaults(plan);
  let result: T;
  try {
    result = fn(faults);
  } catch (err) {
    faults.restore();
    throw err;
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    return Promise.resolve(result).finally(() => faults.restore()) as T;
  }
  faults.restore();
  return result;
}
