import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawn, sleep, Task, CancelledError, isCancelled } from '../../src/async/index.js';
import { TestLoop } from '../../src/loop/test-loop.js';
import { flush, runFor, stateOf } from './helpers.js';

/** A TestLoop whose reported errors are collected instead of thrown. */
function reportingLoop() {
  const reported: { err: unknown; what: string }[] = [];
  const loop = new TestLoop({ onError: (err, what) => reported.push({ err, what }) });
  return { loop, reported };
}

test('a task is awaitable and gives its function\'s value', async () => {
  const { loop } = reportingLoop();
  const t = spawn('answer', async (signal) => {
    await sleep(10, { signal, loop });
    return 42;
  }, { loop });
  assert.ok(t instanceof Task);
  assert.equal(t.name, 'answer');
  assert.equal(t.done, false);
  await runFor(loop, 10);
  assert.equal(await t, 42);
  assert.equal(t.done, true);
  assert.equal(t.result(), 42);
});

test('result() of an unfinished task throws ERR_TASK_PENDING', () => {
  const { loop } = reportingLoop();
  const t = spawn('slow', (signal) => sleep(100, { signal, loop }), { loop });
  assert.throws(() => t.result(), { code: 'ERR_TASK_PENDING' });
  t.cancel();
});

test('cancel() aborts the signal handed to the function with a CancelledError carrying the reason', async () => {
  const { loop, reported } = reportingLoop();
  let seen: AbortSignal | undefined;
  const t = spawn('sleeper', async (signal) => {
    seen = signal;
    await sleep(1000, { signal, loop });
  }, { loop });
  assert.equal(t.cancel('shutdown'), true);
  assert.equal(seen!.aborted, true);
  assert.ok(seen!.reason instanceof CancelledError);
  assert.equal((seen!.reason as CancelledError).reason, 'shutdown');
  await assert.rejects(t, (err: unknown) => err instanceof CancelledError && err.reason === 'shutdown');
  assert.equal(t.cancelled, true);
  assert.equal(t.cancel(), false, 'a finished task cannot be cancelled again');
  loop.runUntilIdle();
  assert.deepEqual(reported, [], 'a requested cancellation is not a failure');
});

test('cancellation is cooperative: a task that ignores its signal finishes with its own value', async () => {
  const { loop } = reportingLoop();
  const t = spawn('stubborn', async () => {
    await flush();
    return 'finished anyway';
  }, { loop });
  t.cancel();
  assert.equal(t.cancelRequested, true);
  assert.equal(await t, 'finished anyway');
  assert.equal(t.cancelled, false);
});

test('a task whose parent signal is already aborted never runs its function', async () => {
  const { loop } = reportingLoop();
  let ran = false;
  const t = spawn('never', () => {
    ran = true;
  }, { loop, signal: AbortSignal.abort('too late') });
  await assert.rejects(t, { code: 'ERR_CANCELLED' });
  assert.equal(ran, false);
});

test('aborting the parent signal cancels the task', async () => {
  const { loop } = reportingLoop();
  const parent = new AbortController();
  const t = spawn('child', (signal) => sleep(1000, { signal, loop }), { loop, signal: parent.signal });
  parent.abort('parent gone');
  await assert.rejects(t, (err: unknown) => isCancelled(err) && (err as CancelledError).reason === 'parent gone');
});

test('a synchronous throw in the function becomes the task\'s failure', async () => {
  const { loop } = reportingLoop();
  const t = spawn('sync-throw', () => {
    throw new Error('at once');
  }, { loop });
  await assert.rejects(t, /at once/);
});

test('an unobserved failing task is reported through loop.reportError after a turn', async () => {
  const { loop, reported } = reportingLoop();
  spawn('forgotten', async (signal) => {
    await sleep(5, { signal, loop });
    throw new Error('nobody listens');
  }, { loop });
  await runFor(loop, 5);
  loop.runUntilIdle();
  assert.equal(reported.length, 1);
  assert.match(String((reported[0]!.err as Error).message), /nobody listens/);
  assert.match(reported[0]!.what, /task "forgotten"/);
});

test('a failing task observed by await, then, catch or result() is not reported', async () => {
  const { loop, reported } = reportingLoop();
  const fail = (): Promise<never> => Promise.reject(new Error('handled'));
  const a = spawn('awaited', fail, { loop });
  const b = spawn('then', fail, { loop });
  const c = spawn('catch', fail, { loop });
  const d = spawn('result', fail, { loop });
  await assert.rejects(a);
  b.then(undefined, () => {});
  c.catch(() => {});
  await flush();
  assert.throws(() => d.result(), /handled/); // observed after settling, before the loop turn
  loop.runUntilIdle();
  await flush();
  assert.deepEqual(reported, []);
});

test('a failure observed only after the next loop turn has already been reported', async () => {
  const { loop, reported } = reportingLoop();
  const t = spawn('late', () => Promise.reject(new Error('too late to catch')), { loop });
  await flush();
  loop.runUntilIdle();
  assert.equal(reported.length, 1);
  await assert.rejects(t, /too late/); // still awaitable
});

test('by default an unobserved failure is re-thrown as an uncaught exception', () => {
  const fixture = fileURLToPath(new URL('./fixtures/unobserved-task.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0, 'the process failed');
  assert.match(r.stderr, /unobserved boom/);
});

test('spawn validates its arguments with ERR_INVALID_ARG', () => {
  assert.throws(() => spawn(42 as unknown as string, () => 1), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => spawn('x', 'nope' as unknown as () => void), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => spawn('x', () => 1, { signal: {} as AbortSignal }), { code: 'ERR_INVALID_ARG' });
});

test('a task describes itself by name and state', async () => {
  const t = spawn('named', () => 1);
  assert.match(String(t), /^Task\(named#\d+, pending\)$/);
  await t;
  assert.match(String(t), /fulfilled/);
  assert.equal(await stateOf(t), 'fulfilled');
});
