import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeout, deadline, sleep, TimeoutError, CancelledError } from '../../src/async/index.js';
import { TestLoop } from '../../src/loop/test-loop.js';
import { runFor, stateOf } from './helpers.js';

test('work that finishes in time gives its value and disarms the timeout', async () => {
  const loop = new TestLoop();
  const p = timeout(100, async (signal) => {
    await sleep(30, { signal, loop });
    return 'in time';
  }, { loop });
  await runFor(loop, 30);
  assert.equal(await p, 'in time');
  assert.equal(loop.nextDeadline(), undefined, 'no timer left armed');
});

test('work that overruns is cancelled and a TimeoutError with code ERR_TIMEOUT is thrown', async () => {
  const loop = new TestLoop();
  let innerSignal: AbortSignal | undefined;
  const p = timeout(50, async (signal) => {
    innerSignal = signal;
    await sleep(1000, { signal, loop });
  }, { loop });
  await runFor(loop, 49);
  assert.equal(await stateOf(p), 'pending');
  await runFor(loop, 1);
  await assert.rejects(p, (err: unknown) => err instanceof TimeoutError && err.code === 'ERR_TIMEOUT' && err.ms === 50 && err.cause instanceof CancelledError);
  assert.equal(innerSignal!.aborted, true, 'the inner work was cancelled');
  assert.equal(loop.alive, false, 'the inner sleep timer was disarmed');
});

test('the TimeoutError is thrown only once the inner work has stopped', async () => {
  const loop = new TestLoop();
  let cleanedUp = false;
  const p = timeout(10, async (signal) => {
    try {
      await sleep(1000, { signal, loop });
    } finally {
      await sleep(5, { loop }); // cleanup that takes time
      cleanedUp = true;
    }
  }, { loop });
  await runFor(loop, 10);
  assert.equal(await stateOf(p), 'pending');
  await runFor(loop, 5);
  await assert.rejects(p, { code: 'ERR_TIMEOUT' });
  assert.equal(cleanedUp, true);
});

test('work that ignores the cancellation and returns normally keeps its value', async () => {
  const loop = new TestLoop();
  const p = timeout(10, async () => {
    await sleep(20, { loop }); // no signal: not cancellable
    return 'late but done';
  }, { loop });
  await runFor(loop, 20);
  assert.equal(await p, 'late but done');
});

test('an error of the inner work passes through unchanged', async () => {
  const loop = new TestLoop();
  await assert.rejects(timeout(10, () => Promise.reject(new Error('own failure')), { loop }), /own failure/);
});

test('an outer cancellation stays a CancelledError, not a timeout', async () => {
  const loop = new TestLoop();
  const outer = new AbortController();
  const p = timeout(100, (signal) => sleep(1000, { signal, loop }), { loop, signal: outer.signal });
  outer.abort('user');
  await assert.rejects(p, (err: unknown) => err instanceof CancelledError && err.reason === 'user');
});

test('deadline cancels the work when the loop clock reaches an absolute time', async () => {
  const loop = new TestLoop();
  await runFor(loop, 100);
  const p = deadline(130, (signal) => sleep(1000, { signal, loop }), { loop });
  await runFor(loop, 29);
  assert.equal(await stateOf(p), 'pending');
  await runFor(loop, 1);
  await assert.rejects(p, { code: 'ERR_TIMEOUT' });
});

test('timeout and deadline validate their arguments', () => {
  assert.throws(() => timeout(-5, () => 1), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => deadline(Number.NaN, () => 1), { code: 'ERR_INVALID_ARG' });
});
