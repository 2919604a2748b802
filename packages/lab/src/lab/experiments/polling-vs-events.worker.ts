/**
 * A watcher of experiment 4 in its own worker thread, so its CPU time is its thread's alone
 * (/proc/thread-self/schedstat): busy-polling (non-blocking read in a tight loop), sleeping
 * polling (read, then sleep N ms on EAGAIN), or event-driven (an evloop loop blocked in
 * epoll_wait until the fd is readable).
 */
import { createLoop, READABLE } from 'evloop';
import { E, sys } from 'evloop/sys';
import { serveWorker, threadCpuNs } from '../worker-side.js';

export type WatcherMode = 'busy' | 'sleep' | 'event';

export interface WatcherParams {
  mode: WatcherMode;
  sleepMs: number;
  fd: number;
  durationMs: number;
}

export interface WatcherResult {
  cpuNs: number;
  wallNs: number;
  latenciesUs: number[];
  /** read() calls made (busy and sleeping pollers) or loop iterations (event-driven) */
  checks: number;
}

serveWorker<unknown, WatcherParams, WatcherResult>(() => {
  const buf = new BigInt64Array(512);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));

  return (d) => {
    const latenciesUs: number[] = [];
    let checks = 0;
    /** Reads what is there; returns false on EAGAIN. */
    const readOnce = (): boolean => {
      checks++;
      const rc = sys.read(d.fd, buf, buf.byteLength);
      if (rc === -E.EAGAIN) return false;
      if (rc <= 0) return false;
      const now = process.hrtime.bigint();
      for (let i = 0; i < rc / 8; i++) if (buf[i]! > 0n) latenciesUs.push(Number(now - buf[i]!) / 1e3);
      return true;
    };
    const cpu0 = threadCpuNs();
    const t0 = process.hrtime.bigint();
    const deadline = t0 + BigInt(Math.round(d.durationMs * 1e6));
    if (d.mode === 'busy') {
      while (process.hrtime.bigint() < deadline) readOnce();
    } else if (d.mode === 'sleep') {
      while (process.hrtime.bigint() < deadline) {
        // a real sleep of the thread (no CPU), as a polling thread with a period would do
        if (!readOnce()) Atomics.wait(sleeper, 0, 0, d.sleepMs);
      }
    } else {
      const loop = createLoop({ host: 'none', poller: 'epoll' });
      const w = loop.watch(d.fd, READABLE, () => {
        while (readOnce());
      });
      loop.callLater(d.durationMs, () => w.close());
      loop.runBlocking();
      checks = loop.stats().iterations;
      loop.close();
    }
    const wallNs = Number(process.hrtime.bigint() - t0);
    return { cpuNs: threadCpuNs() - cpu0, wallNs, latenciesUs, checks };
  };
});
