/**
 * The tasks of experiment 2 in a worker thread. A task alternates computing (a fixed amount of
 * work) and one request to the slow server. 'blocking' runs the given tasks one after the other
 * on blocking sockets (the synchronous model; a thread model worker gets one task); 'loop' runs
 * them as coroutines on one evloop loop with non-blocking sockets. Every span is recorded with
 * CLOCK_MONOTONIC times (µs after the run's t0): computing, blocked on I/O (request sent → the
 * server replied), waiting to run (ready, but the thread is busy or not scheduled yet).
 */
import { connect, createLoop, type Protocol, type Transport } from 'evloop';
import { connect as connectSocket } from 'evloop/sys';
import { C, check, close, setNonBlocking, socket, sys } from 'evloop/sys';
import { serveWorker } from '../worker-side.js';
import { burn, burnItersPerMs } from './programming-models.burn.js';

export type SpanKind = 'compute' | 'blocked' | 'waiting';

export interface Span {
  task: number;
  kind: SpanKind;
  /** µs after t0 */
  start: number;
  end: number;
}

export interface TaskParams {
  mode: 'blocking' | 'loop';
  /** Which tasks (their numbers) this worker runs. */
  tasks: number[];
  rounds: number;
  /** Iterations of `burn` per computing span. */
  computeIters: number;
  ioDelayMs: number;
  /** CLOCK_MONOTONIC ns (as a string: bigint does not cross postMessage in every Node) */
  t0Ns: string;
}

export interface TaskResult {
  spans: Span[];
  /** Kernel thread id of each task (gettid), by task number. */
  tids: Record<number, number>;
}

const now = (): bigint => process.hrtime.bigint();

serveWorker<{ port: number }, TaskParams, TaskResult>(({ port }) => {
  burnItersPerMs(); // warms the JIT: a cold `burn` would run several times slower in the first spans
  return (p) => (p.mode === 'blocking' ? runBlocking(port, p) : runLoop(port, p));
});

function runBlocking(port: number, p: TaskParams): TaskResult {
  const t0 = BigInt(p.t0Ns);
  const us = (t: bigint): number => Number(t - t0) / 1e3;
  const spans: Span[] = [];
  const tids: Record<number, number> = {};
  const buf = Buffer.alloc(64);
  let sink = 0;
  for (const task of p.tasks) {
    // a task not started yet is waiting for the thread
    const fd = socket('IPv4', 'stream');
    try {
      setNonBlocking(fd, false); // the synchronous model: every call waits
      check(connectSocket(fd, { family: 'IPv4', address: '127.0.0.1', port }), 'connect');
      spans.push({ task, kind: 'waiting', start: 0, end: us(now()) });
      tids[task] = sys.gettid();
      const req = Buffer.from(`${p.ioDelayMs}\n`);
      for (let r = 0; r < p.rounds; r++) {
        const c0 = now();
        sink ^= burn(p.computeIters);
        const sent = now();
        spans.push({ task, kind: 'compute', start: us(c0), end: us(sent) });
        check(sys.send(fd, req, req.length, C.MSG_NOSIGNAL), 'send');
        const replied = readReply(fd, buf);
        const back = now();
        spans.push({ task, kind: 'blocked', start: us(sent), end: us(replied) });
        spans.push({ task, kind: 'waiting', start: us(replied), end: us(back) });
      }
    } finally {
      close(fd);
    }
  }
  if (sink === 0.5) console.log(sink);
  return { spans, tids };
}

/** Blocks in recv until one whole reply line is in; returns the server's reply time. */
function readReply(fd: number, buf: Buffer): bigint {
  let n = 0;
  for (;;) {
    const rc = check(sys.recv(fd, buf.subarray(n), buf.length - n, 0), 'recv');
    if (rc === 0) throw new Error('the slow server closed the connection');
    n += rc;
    const nl = buf.indexOf(10);
    if (nl >= 0 && nl < n) return BigInt(buf.toString('latin1', 0, nl));
  }
}

/** One request at a time on a connection: resolves with the server's reply time. */
class ReplyProtocol implements Protocol {
  transport: Transport | null = null;
  #pending = '';
  #waiter: ((t: bigint) => void) | null = null;
  connectionMade(t: Transport): void {
    this.transport = t;
  }
  dataReceived(data: Buffer): void {
    this.#pending += data.toString('latin1');
    const nl = this.#pending.indexOf('\n');
    if (nl < 0) return;
    const t = BigInt(this.#pending.slice(0, nl));
    this.#pending = this.#pending.slice(nl + 1);
    const w = this.#waiter;
    this.#waiter = null;
    w?.(t);
  }
  connectionLost(): void {}
  request(line: string): Promise<bigint> {
    return new Promise((resolve) => {
      this.#waiter = resolve;
      this.transport!.write(line);
    });
  }
}

async function runLoop(port: number, p: TaskParams): Promise<TaskResult> {
  const t0 = BigInt(p.t0Ns);
  const us = (t: bigint): number => Number(t - t0) / 1e3;
  // uv-poll would attach to the main thread's libuv loop (uv_default_loop), not this worker's
  const loop = createLoop({ host: 'thread-wait' });
  const conns = await Promise.all(p.tasks.map(() => connect('127.0.0.1', port, () => new ReplyProtocol(), { loop })));
  const spans: Span[] = [];
  const tids: Record<number, number> = {};
  let sink = 0;
  const runTask = async (task: number, proto: ReplyProtocol): Promise<void> => {
    // started by the loop: until then the task waits for the thread
    await Promise.resolve();
    const begin = now();
    spans.push({ task, kind: 'waiting', start: 0, end: us(begin) });
    tids[task] = sys.gettid();
    const req = `${p.ioDelayMs}\n`;
    for (let r = 0; r < p.rounds; r++) {
      const c0 = now();
      sink ^= burn(p.computeIters);
      const sent = now();
      spans.push({ task, kind: 'compute', start: us(c0), end: us(sent) });
      const replied = await proto.request(req);
      const back = now();
      spans.push({ task, kind: 'blocked', start: us(sent), end: us(replied) });
      spans.push({ task, kind: 'waiting', start: us(replied), end: us(back) });
    }
  };
  try {
    await Promise.all(p.tasks.map((task, i) => runTask(task, conns[i]![1])));
  } finally {
    for (const [t] of conns) t.close();
    await new Promise((r) => setTimeout(r, 5)); // let the closes run on the loop
    loop.close();
  }
  if (sink === 0.5) console.log(sink);
  return { spans, tids };
}
