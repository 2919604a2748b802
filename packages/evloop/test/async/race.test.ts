import { test } from 'node:test';
import assert from 'node:assert/strict';
import { race, all, sleep, isCancelled, TaskGroupError, CancelledError } from '../../src/async/index.js';
import { TestLoop } from '../../src/loop/test-loop.js';
import { runFor, stateOf } from './helpers.js';

const after = <T>(loop: TestLoop, ms: number, value: T) => async (signal: AbortSignal): Promise<T> => {
  await sleep(ms, { signal, loop });
  return value;
};

test('race gives the first value and cancels the losers', async () => {
  const loop = new TestLoop();
  const loserCancelled: boolean[] = [];
  const loser = async (signal: AbortSignal): Promise<string> => {
    try {
      await sleep(100, { signal, loop });
      return 'slow';
    } catch (err) {
      loserCancelled.push(isCancelled(err));
      throw err;
    }
  };
  const p = race([loser, after(loop, 10, 'fast'), loser], { loop });
  await runFor(loop, 10);
  assert.equal(await p, 'fast');
  assert.deepEqual(loserCancelled, [true, true]);
  assert.equal(loop.alive, false, 'no loser timer left');
});

test('race throws the first failure when it settles first', async () => {
  const loop = new TestLoop();
  const p = race([after(loop, 50, 'late'), async (signal) => { await sleep(5, { signal, loop }); throw new Error('failed first'); }], { loop });
  const outcome = p.catch((e: unknown) => e);
  await runFor(loop, 5);
  assert.match(String(await outcome), /failed first/);
});

test('a loser that fails while being cancelled is not dropped: race throws a TaskGroupError', async () => {
  const loop = new TestLoop();
  const p = race([
    after(loop, 1, 'winner'),
    async (signal) => {
      await sleep(100, { signal, loop }).catch(() => {
        throw new Error('cleanup failed');
      });
      return 'never';
    },
  ], { loop });
  const outcome = p.catch((e: unknown) => e);
  await runFor(loop, 1);
  const err = await outcome;
  assert.ok(err instanceof TaskGroupError);
  assert.match((err.errors[0] as Error).message, /cleanup failed/);
});

test('race with an aborted outer signal cancels everything and throws CancelledError', async () => {
  const loop = new TestLoop();
  const outer = new AbortController();
  const p = race([after(loop, 10, 1), after(loop, 20, 2)], { loop, signal: outer.signal });
  outer.abort('no');
  await assert.rejects(p, (e: unknown) => e instanceof CancelledError && e.reason === 'no');
});

test('race of no functions is refused', () => {
  assert.rejects(race([]), { code: 'ERR_INVALID_ARG' });
});

test('all gives every value in order', async () => {
  const loop = new TestLoop();
  const p = all([after(loop, 30, 'a'), after(loop, 10, 2), () => 'sync'] as const, { loop });
  await runFor(loop, 30);
  const [a, b, c] = await p;
  assert.deepEqual([a, b, c], ['a', 2, 'sync']);
});

test('all: the first failure cancels the others and is thrown as is', async () => {
  const loop = new TestLoop();
  let otherCancelled = false;
  const p = all([
    async (signal) => { await sleep(5, { signal, loop }); throw new Error('one failed'); },
    async (signal) => { await sleep(100, { signal, loop }).catch((e: unknown) => { otherCancelled = isCancelled(e); throw e; }); },
  ], { loop });
  const outcome = p.catch((e: unknown) => e);
  await runFor(loop, 5);
  assert.equal(await stateOf(p), 'rejected');
  assert.match(String(await outcome), /one failed/);
  assert.equal(otherCancelled, true);
});

test('all: several failures come as one TaskGroupError', async () => {
  const loop = new TestLoop();
  const fail = (m: string) => () => Promise.reject(new Error(m));
  const err = await all([fail('x'), fail('y')], { loop }).catch((e: unknown) => e);
  assert.ok(err instanceof TaskGroupError);
  assert.equal(err.errors.length, 2);
});
