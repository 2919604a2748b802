/**
 * The scanner of experiment 5 in a worker thread. Two sources: A (the mouse, rare events) and
 * B (the keyboard, frequent ones), each a pipe carrying 8-byte send times. 'blocking' reads A
 * then B with blocking reads, forever in that order; 'multiplexed' watches both with an evloop
 * loop and reads whichever is ready. Both stop at the END marker of each source.
 */
import { createLoop, READABLE } from 'evloop';
import { sys } from 'evloop/sys';
import { END } from '../wire.js';
import { serveWorker } from '../worker-side.js';

export interface ScannerParams {
  mode: 'blocking' | 'multiplexed';
  aFd: number;
  bFd: number;
}

export interface ScannerResult {
  /** latency of each source's events (µs), in arrival order */
  aUs: number[];
  bUs: number[];
  /** read() calls per source */
  reads: [number, number];
}

serveWorker<unknown, ScannerParams, ScannerResult>(() => {
  const buf = new BigInt64Array(512);
  return (p) => {
    const lat: [number[], number[]] = [[], []];
    const reads: [number, number] = [0, 0];
    const ended = [false, false];
    /** One read of source `i`; returns false when nothing was there (EAGAIN) or it ended. */
    const readSource = (i: 0 | 1): boolean => {
      reads[i]++;
      const rc = sys.read(i === 0 ? p.aFd : p.bFd, buf, buf.byteLength);
      if (rc <= 0) return false;
      const now = process.hrtime.bigint();
      for (let k = 0; k < rc / 8; k++) {
        const t = buf[k]!;
        if (t === END) ended[i] = true;
        else if (t > 0n) lat[i].push(Number(now - t) / 1e3);
      }
      return !ended[i];
    };
    if (p.mode === 'blocking') {
      // the naive scanner: each read waits until its source has something
      while (!ended[0] || !ended[1]) {
        if (!ended[0]) readSource(0);
        if (!ended[1]) readSource(1);
      }
    } else {
      const loop = createLoop({ host: 'none', poller: 'epoll' });
      for (const i of [0, 1] as const) {
        const w = loop.watch(i === 0 ? p.aFd : p.bFd, READABLE, () => {
          while (readSource(i));
          if (ended[i]) w.close();
        });
      }
      loop.runBlocking();
      loop.close();
    }
    return { aUs: lat[0], bUs: lat[1], reads };
  };
});
