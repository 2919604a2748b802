import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { sleep, sleepUntil, CancelledError } from '../../src/async/index.js';
import { TestLoop } from '../../src/loop/test-loop.js';
import { createLoop } from '../../src/loop/loop.js';
import { flush, openFdCount, runFor, stateOf } from './helpers.js';

test('sleep resolves when the loop clock reaches the delay, not before', async () => {
  const loop = new TestLoop();
  const p = sleep(100, { loop });
  await runFor(loop, 99);
  assert.equal(await stateOf(p), 'pending');
  await runFor(loop, 1);
  assert.equal(await stateOf(p), 'fulfilled');
  assert.equal(loop.stats().activeHandles, 0);
});

test('sleep arms a timer of the evloop loop, which keeps the loop alive', () => {
  const loop = new TestLoop();
  void sleep(50, { loop });
  assert.equal(loop.alive, true);
  assert.equal(loop.nextDeadline(), 50);
});

test('aborting the signal rejects the sleep with a CancelledError carrying the reason and disarms the timer', async () => {
  const loop = new TestLoop();
  const ac = new AbortController();
  const p = sleep(1000, { loop, signal: ac.signal });
  ac.abort('changed my mind');
  await assert.rejects(p, (err: unknown) => err instanceof CancelledError && err.reason === 'changed my mind');
  assert.equal(loop.alive, false, 'the timer no longer keeps the loop alive');
});

test('sleep with an already aborted signal rejects at once without arming a timer', async () => {
  const loop = new TestLoop();
  await assert.rejects(sleep(10, { loop, signal: AbortSignal.abort('early') }), { code: 'ERR_CANCELLED' });
  assert.equal(loop.nextDeadline(), undefined);
});

test('a finished sleep removes its abort listener so a long-lived signal does not collect listeners', async () => {
  const loop = new TestLoop();
  const ac = new AbortController();
  const p = sleep(5, { loop, signal: ac.signal });
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  await runFor(loop, 5);
  await p;
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});

test('sleepUntil resolves at an absolute time of the loop clock', async () => {
  const loop = new TestLoop();
  await runFor(loop, 10);
  const p = sleepUntil(25, { loop });
  await runFor(loop, 14);
  assert.equal(await stateOf(p), 'pending');
  await runFor(loop, 1);
  assert.equal(await stateOf(p), 'fulfilled');
});

test('sleep rejects a negative or non-finite delay with ERR_INVALID_ARG', () => {
  assert.throws(() => sleep(-1), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => sleep(Number.NaN), { code: 'ERR_INVALID_ARG' });
});

test('sleep on a real loop waits about the delay and leaks no fd', async () => {
  const before = openFdCount();
  const loop = createLoop();
  const t0 = performance.now();
  await sleep(20, { loop });
  assert.ok(performance.now() - t0 >= 19, 'did not wake early');
  loop.close();
  await flush();
  assert.equal(openFdCount(), before);
});
