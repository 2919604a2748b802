import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readdirSync, readlinkSync } from 'node:fs';
import { createPool, jobRef, JobError, JOBS, type WorkerPool } from '../../src/process/pool.js';
import type * as Jobs from '../../src/process/jobs.js';
import { CancelledError, isCancelled, spawn } from '../../src/async/index.js';
import { close, pipe, setNonBlocking, sys } from '../../src/sys/index.js';

const FIXTURES = new URL('./fixtures/jobs.ts', import.meta.url);
/**
 * Open fds, not counting TypeScript source files: when a worker is terminated soon after first
 * loading a module graph, the module loader (tsx on Node 20) can keep a source file open. That is
 * the loader's, not the pool's; pipes, sockets, eventfds and epoll fds are all counted.
 */
const openFdCount = (): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return !readlinkSync(`/proc/self/fd/${fd}`).endsWith('.ts');
    } catch {
      return false; // the fd of readdir itself, closed meanwhile
    }
  }).length;

/** Runs `body` with a pool that is closed afterwards; checks no fd (nor worker) is left. */
async function withPool(size: number, body: (pool: WorkerPool) => Promise<void>): Promise<void> {
  const before = openFdCount();
  const pool = createPool({ size });
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
  assert.equal(pool.workers, 0);
  assert.equal(openFdCount(), before, 'no fd leaked');
}

test('a CPU-heavy built-in job runs on another thread and its value comes back', () => withPool(2, async (pool) => {
  assert.equal(await pool.run(JOBS, 'fib', [20]), 6765);
  const tid = await pool.run(JOBS, 'threadId', []);
  assert.notEqual(tid, sys.gettid());
}));

test('a job reference is typed by the exported function', () => withPool(1, async (pool) => {
  const fib = jobRef<typeof Jobs.fib>(JOBS, 'fib');
  const n: number = await pool.run(fib, [10]);
  assert.equal(n, 55);
  assert.equal(await pool.run(FIXTURES, 'addLater', [2, 3, 5]), 5);
}));

test('the built-in blocking read blocks its worker in read(2), not the main thread', () => withPool(1, async (pool) => {
  const [r, w] = pipe();
  try {
    setNonBlocking(r, false); // a truly blocking fd
    const reading = pool.run(JOBS, 'blockingRead', [r, 100]);
    const t0 = performance.now();
    await new Promise((res) => setTimeout(res, 50)); // the main thread is free meanwhile
    assert.ok(performance.now() - t0 >= 45);
    sys.write(w, Buffer.from('unblocked'), 9);
    assert.equal(await reading, 'unblocked');
  } finally {
    close(r);
    close(w);
  }
}));

test('an error thrown by a job is re-raised with its message and code', () => withPool(1, async (pool) => {
  await assert.rejects(pool.run(FIXTURES, 'fail', ['custom failure', 'ERR_CUSTOM']), (err: unknown) =>
    err instanceof JobError && err.code === 'ERR_CUSTOM' && err.message === 'custom failure' && err.remoteName === 'EvloopError');
  await assert.rejects(pool.run(FIXTURES, 'fail', ['plain']), { code: 'ERR_JOB_FAILED', message: 'plain', remoteName: 'TypeError' });
  // a failed syscall in the worker keeps its errno name as code
  const [r, w] = pipe(); // non-blocking and empty: read fails with EAGAIN
  try {
    await assert.rejects(pool.run(JOBS, 'blockingRead', [r, 10]), { code: 'EAGAIN', remoteName: 'SysError' });
  } finally {
    close(r);
    close(w);
  }
  await assert.rejects(pool.run(FIXTURES, 'nope', []), { code: 'ERR_JOB_NOT_FOUND' });
  await assert.rejects(pool.run(FIXTURES, 'notCloneable', []), { code: 'ERR_JOB_RESULT_NOT_CLONEABLE' });
  assert.equal(await pool.run(FIXTURES, 'add', [1, 2]), 3, 'the worker survives its jobs\' errors');
}));

/** Starts the pool's worker(s) so that the next job runs at once. */
const warm = (pool: WorkerPool) => pool.run(FIXTURES, 'add', [0, 0]);

test('cancelling a queued job drops it while the running job completes', () => withPool(1, async (pool) => {
  await warm(pool);
  const running = pool.run(JOBS, 'spin', [200]);
  const ac = new AbortController();
  const queued = pool.run(FIXTURES, 'add', [1, 1], { signal: ac.signal });
  assert.equal(pool.queued, 1);
  ac.abort('not needed');
  await assert.rejects(queued, (e: unknown) => e instanceof CancelledError && e.reason === 'not needed');
  assert.equal(pool.queued, 0);
  assert.ok((await running as number) > 0);
}));

test('cancelling a running job terminates its worker, and a new worker takes the next job', () => withPool(1, async (pool) => {
  const ac = new AbortController();
  await warm(pool);
  const long = pool.run(JOBS, 'spin', [60_000], { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 50)); // the worker is spinning
  const t0 = performance.now();
  ac.abort();
  await assert.rejects(long, { code: 'ERR_CANCELLED' });
  assert.ok(performance.now() - t0 < 1000, 'settled at once, not after 60 s');
  assert.equal(await pool.run(FIXTURES, 'add', [20, 22]), 42);
}));

test('a job with an already aborted signal is refused without running', async () => {
  const pool = createPool({ size: 1 });
  await assert.rejects(pool.run(FIXTURES, 'add', [1, 1], { signal: AbortSignal.abort() }), { code: 'ERR_CANCELLED' });
  assert.equal(pool.workers, 0, 'no worker was even started');
  await pool.close();
});

test('a pool job is awaitable from a task and cancelled with it', () => withPool(1, async (pool) => {
  await warm(pool);
  const task = spawn('crunch', (signal) => pool.run(JOBS, 'spin', [60_000], { signal }));
  await new Promise((r) => setTimeout(r, 50));
  task.cancel('enough');
  await assert.rejects(task, (e: unknown) => isCancelled(e) && (e as CancelledError).reason === 'enough');
}));

test('a worker that dies fails its job with ERR_WORKER_EXITED and is replaced', () => withPool(1, async (pool) => {
  await assert.rejects(pool.run(FIXTURES, 'exitWorker', []), { code: 'ERR_WORKER_EXITED' });
  assert.equal(await pool.run(FIXTURES, 'add', [2, 2]), 4);
}));

test('jobs beyond the pool size wait; at most size workers run', () => withPool(2, async (pool) => {
  const jobs = [1, 2, 3, 4, 5].map((i) => pool.run(FIXTURES, 'addLater', [i, 0, 20]));
  assert.ok(pool.workers <= 2);
  assert.deepEqual(await Promise.all(jobs), [1, 2, 3, 4, 5]);
  assert.equal(pool.workers, 2);
}));

test('close() rejects queued jobs with ERR_POOL_CLOSED, lets the running job finish, then refuses new jobs', async () => {
  const pool = createPool({ size: 1 });
  await warm(pool);
  const running = pool.run(FIXTURES, 'addLater', [1, 2, 50]); // runs at once on the warm worker
  const queued = pool.run(FIXTURES, 'add', [1, 1]);
  const closing = pool.close();
  await assert.rejects(queued, { code: 'ERR_POOL_CLOSED' });
  assert.equal(await running, 3);
  await closing;
  assert.equal(pool.workers, 0);
  await assert.rejects(pool.run(FIXTURES, 'add', [1, 1]), { code: 'ERR_POOL_CLOSED' });
  assert.equal(pool.close(), closing, 'close is idempotent');
});

test('the default size is os.availableParallelism() and bad sizes or modules are refused', async () => {
  assert.equal(createPool().size, availableParallelism());
  assert.throws(() => createPool({ size: 0 }), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => createPool().run('relative/jobs.ts', 'x'), { code: 'ERR_INVALID_ARG' });
  await assert.rejects(createPool().run(JOBS, 'fib', 'x' as unknown as unknown[]), { code: 'ERR_INVALID_ARG' });
});
