import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, TimeoutError, TaskGroupError, isCancelled, rethrowIfCancelled, toCancelled } from '../../src/async/index.js';
import { EvloopError } from '../../src/errors.js';

test('a CancelledError has code ERR_CANCELLED and carries its reason', () => {
  const cause = new Error('user left');
  const err = new CancelledError(cause);
  assert.ok(err instanceof EvloopError);
  assert.equal(err.code, 'ERR_CANCELLED');
  assert.equal(err.reason, cause);
  assert.equal(err.cause, cause);
  assert.match(err.message, /user left/);
  assert.equal(new CancelledError('bye').reason, 'bye');
});

test('isCancelled recognises CancelledError and the AbortError of Node APIs, nothing else', async () => {
  assert.equal(isCancelled(new CancelledError()), true);
  const { setTimeout: nodeSleep } = await import('node:timers/promises');
  const err = await nodeSleep(10_000, undefined, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
  assert.equal(isCancelled(err), true);
  assert.equal(isCancelled(new Error('boom')), false);
  assert.equal(isCancelled(new TimeoutError('late')), false);
  assert.equal(isCancelled(undefined), false);
});

test('rethrowIfCancelled rethrows cancellations and lets other errors through', () => {
  const c = new CancelledError();
  assert.throws(() => rethrowIfCancelled(c), (e) => e === c);
  assert.doesNotThrow(() => rethrowIfCancelled(new Error('ordinary')));
});

test('a catch-all that uses rethrowIfCancelled keeps the cancellation travelling up', async () => {
  const work = async (): Promise<string> => {
    try {
      throw new CancelledError('stop');
    } catch (err) {
      rethrowIfCancelled(err);
      return 'swallowed';
    }
  };
  await assert.rejects(work(), { code: 'ERR_CANCELLED' });
});

test('toCancelled keeps an existing CancelledError and wraps any other reason', () => {
  const c = new CancelledError('x');
  assert.equal(toCancelled(c), c);
  const w = toCancelled('why');
  assert.ok(w instanceof CancelledError);
  assert.equal(w.reason, 'why');
});

test('a TimeoutError has code ERR_TIMEOUT and a TaskGroupError is an AggregateError with code ERR_TASK_GROUP', () => {
  const t = new TimeoutError('late', 5);
  assert.equal(t.code, 'ERR_TIMEOUT');
  assert.equal(t.ms, 5);
  const g = new TaskGroupError([new Error('a'), new Error('b')], 'crawl');
  assert.ok(g instanceof AggregateError);
  assert.equal(g.code, 'ERR_TASK_GROUP');
  assert.equal(g.errors.length, 2);
  assert.match(g.message, /2 tasks of the task group "crawl" failed: a/);
});
