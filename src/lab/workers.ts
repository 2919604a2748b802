/**
 * Worker threads for experiments. `startWorker` runs a TypeScript module in a worker (through
 * worker-boot.mjs), registers it with the cleanup registry, and speaks a three-step protocol
 * with it: the worker sets up and says `ready`; the experiment says `go` (so several workers
 * can start together, or one after the other without start-up cost in the measurement); the
 * worker answers with one `result`. The worker side is `serveWorker` (worker-side.ts).
 */
import { Worker } from 'node:worker_threads';
import { EvloopError } from '../errors.js';
import type { LabContext } from './experiment.js';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);

export interface LabWorker<R> {
  readonly worker: Worker;
  /** Resolves when the worker has set up (its module loaded, its resources open). */
  readonly ready: Promise<void>;
  /** Tells the worker to start measuring; resolves to its result. */
  go(): Promise<R>;
}

export interface StartOptions {
  label?: string;
  /** Makes a worker blocked in a system call return (e.g. writes to the fd it reads). */
  unblock?: () => void;
}

/**
 * Starts `module` (a URL of a .ts file calling `serveWorker`) in a worker thread with `data`.
 * @example
 * const w = startWorker<{ cpuNs: number }>(ctx, new URL('./x.worker.ts', import.meta.url), { fd });
 * await w.ready;
 * const result = await w.go();
 */
export function startWorker<R>(ctx: LabContext, module: URL, data: Record<string, unknown>, opts: StartOptions = {}): LabWorker<R> {
  ctx.signal.throwIfAborted();
  const worker = new Worker(BOOT, { workerData: { ...data, __labEntry: module.href } });
  ctx.cleanup.trackWorker(worker, opts.label ?? `worker ${module.pathname.split('/').pop()}`, opts.unblock);
  let resolveReady!: () => void;
  let rejectAll!: (err: Error) => void;
  let resolveResult!: (r: R) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectAll = rej;
  });
  const result = new Promise<R>((res, rej) => {
    resolveResult = res;
    const prev = rejectAll;
    rejectAll = (err) => {
      prev(err);
      rej(err);
    };
  });
  // not every caller awaits both: keep unobserved rejections quiet
  ready.catch(() => {});
  result.catch(() => {});
  let done = false;
  worker.on('message', (m: { type: string; result?: R; error?: string }) => {
    if (m.type === 'ready') resolveReady();
    else if (m.type === 'result') {
      done = true;
      resolveResult(m.result as R);
    } else if (m.type === 'error') {
      done = true;
      rejectAll(new EvloopError('ERR_LAB_WORKER', `worker failed: ${m.error}`));
    }
  });
  worker.on('error', (err) => {
    done = true;
    rejectAll(new EvloopError('ERR_LAB_WORKER', `worker failed: ${err.message}`, { cause: err }));
  });
  worker.on('exit', (code) => {
    if (done) return;
    const aborted = ctx.signal.aborted;
    rejectAll(new EvloopError(aborted ? 'ERR_LAB_ABORTED' : 'ERR_LAB_WORKER', aborted ? 'aborted' : `worker exited (code ${code}) before its result`));
  });
  return {
    worker,
    ready,
    go: () => {
      worker.postMessage({ type: 'go' });
      return result;
    },
  };
}
