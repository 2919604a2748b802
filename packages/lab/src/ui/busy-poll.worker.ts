/**
 * The seed article's "method 1": a thread that keeps scanning the input device. It opens the
 * terminal a second time (its own open file description, so O_NONBLOCK here does not touch the
 * shell's stdin) and calls read() in a loop; EAGAIN means "nothing yet", and it asks again at
 * once. Every byte it finds is posted to the main thread with the time it was read. A shared
 * flag ends it; it never sleeps, which is the point: watch its CPU%.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { monotonicMs } from 'evloop/tty';
import { sys } from 'evloop/sys';

const { path, stop } = workerData as { path: string; stop: SharedArrayBuffer };
const flag = new Int32Array(stop);
const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
const buf = Buffer.alloc(64 * 1024);
let polls = 0;
parentPort!.postMessage({ type: 'started', tid: sys.gettid() });
while (Atomics.load(flag, 0) === 0) {
  polls++;
  const n = sys.read(fd, buf, buf.length); // -EAGAIN almost every time
  if (n > 0) parentPort!.postMessage({ type: 'bytes', bytes: Buffer.from(buf.subarray(0, n)), time: monotonicMs(), polls });
}
closeSync(fd);
parentPort!.postMessage({ type: 'stopped', polls });
