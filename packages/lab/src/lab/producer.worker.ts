/**
 * The event producer of experiments 4 and 5, in its own worker thread: writes 8-byte events
 * (the send time, process.hrtime.bigint(), a clock shared by every thread) to each source's pipe
 * at random times: gaps uniform in [0.5, 1.5] × the source's mean. At the end it writes one END
 * event (-1) to each pipe, so a reader blocked on it returns.
 */
import { sys } from 'evloop/sys';
import { serveWorker } from './worker-side.js';
import { END } from './wire.js';

export interface ProducerParams {
  sources: { fd: number; meanMs: number }[];
  durationMs: number;
  /** Write END markers when done. */
  end: boolean;
}

export interface ProducerResult {
  sent: number[];
}


serveWorker<unknown, ProducerParams, ProducerResult>(() => (data) => {
  const msg = new BigInt64Array(1);
  const send = (fd: number, v: bigint): void => {
    msg[0] = v;
    sys.write(fd, msg, 8);
  };
  const sent = data.sources.map(() => 0);
  const t0 = performance.now();
  return new Promise((resolve) => {
    let active = data.sources.length;
    data.sources.forEach((s, i) => {
      const next = (): void => {
        const gap = s.meanMs * (0.5 + Math.random());
        if (performance.now() + gap - t0 > data.durationMs) {
          if (--active === 0) finish();
          return;
        }
        setTimeout(() => {
          send(s.fd, process.hrtime.bigint());
          sent[i]!++;
          next();
        }, gap);
      };
      next();
    });
    const finish = (): void => {
      if (data.end) for (const s of data.sources) send(s.fd, END);
      resolve({ sent });
    };
  });
});
