/**
 * The blocking-work pool: worker threads for what must not run on the loop's thread — blocking
 * syscalls (a read on a blocking fd, via koffi), CPU-heavy functions.
 *
 * Functions cannot be sent to a thread, so a job names a module and one of its exports; the
 * worker imports the module (TypeScript too: each worker registers tsx) and calls the export
 * with structured-cloneable arguments. Up to `size` workers (default os.availableParallelism()),
 * started on demand; jobs beyond that wait in FIFO order. Idle workers are unref'd, so an idle
 * pool does not keep the process alive.
 *
 * Cancellation by AbortSignal: a queued job is dropped; a running job's worker is terminated and
 * replaced (on demand). Caveat: termination stops JavaScript, not a thread blocked inside a
 * system call — such a thread lingers until its call returns, though the job is settled at once.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { toCancelled } from '../async/errors.js';
import { checkSignal, onAbort } from '../async/signal.js';
import { EvloopError } from '../errors.js';
import { isTypeScript, siblingModule } from './entry.js';
import type { JobReply, JobRequest, SerializedError } from './pool-worker.js';

const WORKER = siblingModule(import.meta.url, './pool-worker');
// From the sources the worker registers tsx itself first (Node 20 workers do not inherit loader hooks).
const BOOTSTRAP = new URL('./pool-bootstrap.mjs', import.meta.url);

/** The built-in jobs module (src/process/jobs.ts): blockingRead, fib, spin, threadId. */
export const JOBS = siblingModule(import.meta.url, './jobs');

/** A reference to an exported function of a module, typed by that function. */
export interface JobRef<F extends (...args: never[]) => unknown> {
  readonly module: string;
  readonly name: string;
  /** phantom: carries F for type inference only */
  readonly __fn?: F;
}

/**
 * Names a module's export as a job.
 * @example
 * import type * as Jobs from './jobs.js';
 * const fib = jobRef<typeof Jobs.fib>(new URL('./jobs.ts', import.meta.url), 'fib');
 * const n: number = await pool.run(fib, [30]);
 */
export function jobRef<F extends (...args: never[]) => unknown>(module: string | URL, name: string): JobRef<F> {
  return { module: moduleHref(module), name };
}

/** The error a job threw in its worker, re-raised here: same message, its `code` (or ERR_JOB_FAILED). */
export class JobError extends EvloopError {
  /** The class name of the original error (SysError, TypeError …). */
  readonly remoteName: string;
  constructor(e: SerializedError, job: string) {
    super(e.code ?? 'ERR_JOB_FAILED', e.message);
    this.name = 'JobError';
    this.remoteName = e.name;
    if (e.stack) this.stack = `${this.name} [${this.code}] in job ${job}: ${e.message}\n    --- in the worker ---\n${e.stack}`;
  }
}

export interface PoolOptions {
  /** Most workers at once; default os.availableParallelism(). */
  size?: number;
}

export interface RunOptions {
  /** Cancels the job: dropped if queued, its worker terminated if running. */
  signal?: AbortSignal;
}

interface Job {
  req: JobRequest;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  stopListening(): void;
  worker: PoolWorker | null;
  settled: boolean;
}

interface PoolWorker {
  worker: Worker;
  ready: boolean;
  job: Job | null;
}

let jobIds = 0;

/**
 * @example
 * const pool = createPool({ size: 4 });
 * const n = await pool.run(JOBS, 'fib', [30], { signal });
 * await pool.close();
 */
export class WorkerPool {
  readonly size: number;
  #workers = new Set<PoolWorker>();
  #queue: Job[] = [];
  #closed = false;
  #closing: Promise<void> | null = null;
  /** terminations in flight (cancelled jobs' workers): close() waits for them too */
  #retiring = new Set<Promise<void>>();

  constructor(options: PoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new EvloopError('ERR_INVALID_ARG', `size must be a positive integer, got ${String(size)}`);
    this.size = size;
  }

  /**
   * Runs `module`'s export `name` with `args` on a worker; resolves with its (cloned) result.
   * Rejects with JobError (the job threw), CancelledError (signal), ERR_POOL_CLOSED,
   * ERR_WORKER_EXITED (the worker died).
   * @example const text = await pool.run(JOBS, 'blockingRead', [fd, 1024]);
   */
  run<F extends (...args: never[]) => unknown>(ref: JobRef<F>, args?: Parameters<F>, options?: RunOptions): Promise<Awaited<ReturnType<F>>>;
  run(module: string | URL, name: string, args?: unknown[], options?: RunOptions): Promise<unknown>;
  run(a: string | URL | JobRef<(...args: never[]) => unknown>, b?: unknown, c?: unknown, d?: unknown): Promise<unknown> {
    let module: string, name: string, args: unknown, options: RunOptions | undefined;
    if (typeof a === 'object' && !(a instanceof URL)) {
      ({ module, name } = a);
      args = b ?? [];
      options = c as RunOptions | undefined;
    } else {
      module = moduleHref(a);
      name = b as string;
      args = c ?? [];
      options = d as RunOptions | undefined;
    }
    if (typeof name !== 'string' || name.length === 0) return Promise.reject(new EvloopError('ERR_INVALID_ARG', 'the job needs an export name'));
    if (!Array.isArray(args)) return Promise.reject(new EvloopError('ERR_INVALID_ARG', 'args must be an array'));
    const signal = options?.signal;
    checkSignal(signal);
    if (this.#closed) return Promise.reject(new EvloopError('ERR_POOL_CLOSED', 'the pool is closed'));
    if (signal?.aborted) return Promise.reject(toCancelled(signal.reason));
    return new Promise((resolve, reject) => {
      const job: Job = { req: { id: ++jobIds, module, name, args }, resolve, reject, stopListening: () => {}, worker: null, settled: false };
      job.stopListening = onAbort(signal, (reason) => this.#cancel(job, reason));
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Workers started and alive. */
  get workers(): number {
    return this.#workers.size;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Stops taking jobs: queued jobs reject with ERR_POOL_CLOSED, running jobs finish, then every
   * worker exits. Resolves when they have.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#settle(job, false, new EvloopError('ERR_POOL_CLOSED', 'the pool was closed before the job started'));
    this.#closing = (async () => {
      while (this.#workers.size > 0) {
        const idle = [...this.#workers].filter((w) => w.job === null);
        if (idle.length > 0) await Promise.all(idle.map((w) => this.#retire(w)));
        else await new Promise((r) => setTimeout(r, 5)); // wait for running jobs to finish
      }
      await Promise.all(this.#retiring);
    })();
    return this.#closing;
  }

  /** Idle workers take queued jobs; workers are started for the jobs left over, up to `size`. */
  #pump(): void {
    let starting = 0;
    for (const w of this.#workers) {
      if (!w.ready) starting++;
      else if (w.job === null && this.#queue.length > 0) this.#assign(w, this.#queue.shift()!);
    }
    while (this.#queue.length > starting && this.#workers.size < this.size) {
      this.#startWorker();
      starting++;
    }
  }

  #assign(w: PoolWorker, job: Job): void {
    w.job = job;
    job.worker = w;
    w.worker.ref(); // a running job keeps the process alive
    w.worker.postMessage(job.req);
  }

  #startWorker(): void {
    const worker = new Worker(isTypeScript(WORKER) ? BOOTSTRAP : WORKER);
    const w: PoolWorker = { worker, ready: false, job: null };
    this.#workers.add(w);
    worker.unref();
    worker.on('message', (msg: JobReply | 'ready') => {
      if (msg === 'ready') {
        w.ready = true;
        if (!this.#closed) this.#pump();
        else if (w.job === null) void this.#retire(w);
        return;
      }
      const job = w.job;
      if (job === null || job.req.id !== msg.id) return; // a cancelled job's late reply
      w.job = null;
      worker.unref();
      if (msg.ok) this.#settle(job, true, msg.value);
      else this.#settle(job, false, new JobError(msg.error, `${job.req.name}`));
      this.#pump();
    });
    worker.on('error', (err) => this.#workerDied(w, err));
    worker.on('exit', (code) => this.#workerDied(w, new EvloopError('ERR_WORKER_EXITED', `the pool worker exited with code ${code}`)));
  }

  #workerDied(w: PoolWorker, err: unknown): void {
    if (!this.#workers.delete(w)) return;
    const job = w.job;
    w.job = null;
    if (job !== null) {
      const e = err instanceof EvloopError ? err : new EvloopError('ERR_WORKER_EXITED', `the pool worker failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      this.#settle(job, false, e);
    }
    if (!this.#closed) this.#pump();
  }

  #retire(w: PoolWorker): Promise<void> {
    this.#workers.delete(w);
    w.job = null;
    const done: Promise<void> = w.worker.terminate().then(() => this.#retiring.delete(done), () => this.#retiring.delete(done)).then(() => undefined);
    this.#retiring.add(done);
    return done;
  }

  #cancel(job: Job, reason: unknown): void {
    if (job.settled) return;
    const err = toCancelled(reason);
    const w = job.worker;
    if (w === null) {
      this.#queue.splice(this.#queue.indexOf(job), 1);
    } else {
      // the only way to stop a running job: end its thread; a new worker replaces it on demand
      void this.#retire(w);
    }
    this.#settle(job, false, err);
    if (!this.#closed) this.#pump();
  }

  #settle(job: Job, ok: boolean, value: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.stopListening();
    if (ok) job.resolve(value);
    else job.reject(value);
  }
}

/**
 * Creates a pool.
 * @example const pool = createPool(); // os.availableParallelism() workers at most
 */
export function createPool(options?: PoolOptions): WorkerPool {
  return new WorkerPool(options);
}

function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string') throw new EvloopError('ERR_INVALID_ARG', `a job module must be a URL or an absolute path, got ${typeof module}`);
  if (module.startsWith('file:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  throw new EvloopError('ERR_INVALID_ARG', `a job module must be a URL or an absolute path (resolve it with new URL('./x.ts', import.meta.url)), got ${module}`);
}

