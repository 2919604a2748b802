/**
 * The worker side of workers.ts: `serveWorker(setup)` runs `setup(workerData)` at once (open
 * fds, allocate), says `ready`, then runs the returned measurement once per `go` message (with
 * that message's parameters) and posts each result. A measurement may block the thread (that is
 * often the point); messages queue meanwhile.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

export function serveWorker<D, P, R>(setup: (data: D) => (params: P) => R | Promise<R>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorker must run in a worker thread');
  let measure: (params: P) => R | Promise<R>;
  try {
    measure = setup(workerData as D);
  } catch (err) {
    port.postMessage({ type: 'error', error: (err as Error).stack ?? String(err) });
    return;
  }
  port.on('message', async (m: { type: string; params: P }) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    try {
      port.postMessage({ type: 'result', result: await measure(m.params) });
    } catch (err) {
      port.postMessage({ type: 'error', error: (err as Error).stack ?? String(err) });
    }
  });
  port.postMessage({ type: 'ready' });
}

/** On-CPU time of the calling thread in ns (/proc/thread-self/schedstat; falls back to ticks). */
export function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    const s = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 1e7; // utime + stime at 100 Hz
  }
}
