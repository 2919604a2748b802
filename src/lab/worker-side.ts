/**
 * The worker side of workers.ts: `serveWorker(setup)` runs `setup(workerData)` at once (open
 * fds, allocate), says `ready`, waits for `go`, then runs the returned measurement and posts its
 * result. Both steps may block the thread (that is often the point).
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

export function serveWorker<D, R>(setup: (data: D) => () => R | Promise<R>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorker must run in a worker thread');
  let measure: () => R | Promise<R>;
  try {
    measure = setup(workerData as D);
  } catch (err) {
    port.postMessage({ type: 'error', error: (err as Error).stack ?? String(err) });
    return;
  }
  port.once('message', async () => {
    try {
      const result = await measure();
      port.postMessage({ type: 'result', result });
    } catch (err) {
      port.postMessage({ type: 'error', error: (err as Error).stack ?? String(err) });
    }
    port.close();
  });
  port.postMessage({ type: 'ready' });
}

/** On-CPU time of the calling thread in ns (/proc/thread-self/schedstat; falls back to ticks). */
export function threadCpuNs(): number {
  try {
    return Number(readText('/proc/thread-self/schedstat').split(' ')[0]);
  } catch {
    const s = readText('/proc/thread-self/stat');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 1e7; // utime + stime at 100 Hz
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
