/**
 * Worker threads for experiments. `startWorker` runs a module in a worker (from the sources through
 * worker-boot.mjs: tsx's hooks are not inherited by workers in Node 20), registers it with the
 * cleanup registry, and speaks a small protocol with it: the worker sets up and says `ready`;
 * each `run(params)` sends `go` and resolves to that run's result (so start-up never falls inside
 * a measurement, and one worker can measure several variants in turn); `close()` ends it.
 * The worker side is `serveWorker` (worker-side.ts).
 */
import { Worker } from 'node:worker_threads';
import { EvloopError, isTypeScript } from 'evloop';
import type { LabContext } from './experiment.js';

// From the sources a worker registers tsx itself first (worker-boot.mjs); built modules start directly.
const BOOT = new URL('./worker-boot.mjs', import.meta.url);

export interface LabWorker<P, R> {
  readonly worker: Worker;
  /** Resolves when the worker has set up (its module loaded, its resources open). */
  readonly ready: Promise<void>;
  /** Runs one measurement with `params`; calls queue one after the other. */
  run(params: P): Promise<R>;
  /** Asks the worker to end and waits until it exited (terminates it after 2 s). */
  close(): Promise<void>;
  /** Stops it now (e.g. stuck in a deadlock on purpose) and waits until it exited. */
  terminate(): Promise<void>;
}

export interface StartOptions {
  label?: string;
  /** Makes a worker blocked in a system call return (e.g. writes to the fd it reads). */
  unblock?: () => void;
}

/**
 * Starts `module` (a URL of a .ts file calling `serveWorker`) in a worker thread with `data`.
 * @example
 * const w = startWorker<{ ms: number }, { cpuNs: number }>(ctx, siblingModule(import.meta.url, './x.worker'), { fd });
 * await w.ready;
 * const result = await w.run({ ms: 100 });
 * await w.close();
 */
export function startWorker<P, R>(ctx: LabContext, module: URL, data: Record<string, unknown>, opts: StartOptions = {}): LabWorker<P, R> {
  ctx.signal.throwIfAborted();
  const label = opts.label ?? `worker ${module.pathname.split('/').pop()}`;
  const worker = isTypeScript(module)
    ? new Worker(BOOT, { workerData: { ...data, __labEntry: module.href } })
    : new Worker(module, { workerData: data });
  ctx.cleanup.trackWorker(worker, label, opts.unblock);
  let exited = false;
  let failure: Error | null = null;
  let onReady!: () => void;
  const waiters: { resolve: (r: R) => void; reject: (e: Error) => void }[] = [];
  const readyWaiters: ((e: Error | null) => void)[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    readyWaiters.push((e) => (e ? reject(e) : resolve()));
  });
  ready.catch(() => {}); // observed by callers that care
  const fail = (err: Error): void => {
    failure ??= err;
    for (const r of readyWaiters.splice(0)) r(err);
    for (const w of waiters.splice(0)) w.reject(err);
  };
  worker.on('message', (m: { type: string; result?: R; error?: string }) => {
    if (m.type === 'ready') {
      readyWaiters.length = 0;
      onReady();
    } else if (m.type === 'result') waiters.shift()?.resolve(m.result as R);
    else if (m.type === 'error') {
      const err = new EvloopError('ERR_LAB_WORKER', `${label} failed: ${m.error}`);
      const w = waiters.shift();
      if (w) w.reject(err);
      else fail(err);
    }
  });
  worker.on('error', (err) => fail(new EvloopError('ERR_LAB_WORKER', `${label} failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => {
    exited = true;
    const aborted = ctx.signal.aborted;
    fail(new EvloopError(aborted ? 'ERR_LAB_ABORTED' : 'ERR_LAB_WORKER', aborted ? 'aborted' : `${label} exited (code ${code}) before its result`));
  });
  return {
    worker,
    ready,
    run(params) {
      if (failure) return Promise.reject(failure);
      return new Promise<R>((resolve, reject) => {
        waiters.push({ resolve, reject });
        worker.postMessage({ type: 'go', params });
      });
    },
    async close() {
      if (exited) return;
      const gone = new Promise<void>((r) => worker.once('exit', () => r()));
      worker.postMessage({ type: 'close' });
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await gone;
      clearTimeout(timer);
    },
    async terminate() {
      if (exited) return;
      const p = worker.terminate();
      opts.unblock?.();
      await p;
    },
  };
}
