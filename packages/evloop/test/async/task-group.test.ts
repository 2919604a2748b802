import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskGroup, TaskGroupError, CancelledError, sleep, isCancelled } from '../../src/async/index.js';
import { TestLoop } from '../../src/loop/test-loop.js';
import { runFor, stateOf } from './helpers.js';

const boom = (msg: string, loop: TestLoop, after: number) => async (signal: AbortSignal) => {
  await sleep(after, { signal, loop });
  throw new Error(msg);
};

test('run returns the body\'s value once every child has finished', async () => {
  const loop = new TestLoop();
  const finished: string[] = [];
  const p = TaskGroup.run(async (g) => {
    g.spawn('a', async (signal) => { await sleep(10, { signal, loop }); finished.push('a'); });
    g.spawn('b', async (signal) => { await sleep(30, { signal, loop }); finished.push('b'); });
    return 'body done';
  }, { loop });
  await runFor(loop, 10);
  assert.equal(await stateOf(p), 'pending', 'waits for b');
  await runFor(loop, 20);
  assert.equal(await p, 'body done');
  assert.deepEqual(finished, ['a', 'b']);
});

test('a failing child cancels its siblings and the body, and run throws a TaskGroupError', async () => {
  const loop = new TestLoop();
  const siblingErrors: unknown[] = [];
  let bodySignal: AbortSignal | undefined;
  const p = TaskGroup.run(async (g) => {
    bodySignal = g.signal;
    g.spawn('fails', boom('child failed', loop, 5));
    g.spawn('sibling', async (signal) => {
      try {
        await sleep(1000, { signal, loop });
      } catch (err) {
        siblingErrors.push(err);
        throw err;
      }
    });
    await sleep(1000, { signal: g.signal, loop });
  }, { loop, name: 'demo' });
  const outcome = p.catch((e: unknown) => e);
  await runFor(loop, 5);
  const err = await outcome;
  assert.ok(err instanceof TaskGroupError);
  assert.equal(err.code, 'ERR_TASK_GROUP');
  assert.equal(err.errors.length, 1, 'cancellations are not listed as failures');
  assert.match((err.errors[0] as Error).message, /child failed/);
  assert.equal(siblingErrors.length, 1);
  assert.ok(siblingErrors[0] instanceof CancelledError);
  assert.equal(bodySignal!.aborted, true);
  assert.equal(loop.alive, false, 'no timer outlives the group');
});

test('failures of several children are all aggregated, in the order they happened', async () => {
  const loop = new TestLoop();
  // fails during its cleanup after being cancelled: still a failure to report
  const failsInCleanup = (msg: string) => async (signal: AbortSignal) => {
    try {
      await sleep(1000, { signal, loop });
    } catch {
      throw new Error(msg);
    }
  };
  const p = TaskGroup.run((g) => {
    g.spawn('second', failsInCleanup('second cleanup'));
    g.spawn('first', boom('first', loop, 5));
    g.spawn('third', failsInCleanup('third cleanup'));
  }, { loop });
  const outcome = p.catch((e: unknown) => e);
  await runFor(loop, 5);
  const err = (await outcome) as TaskGroupError;
  assert.deepEqual(err.errors.map((e) => (e as Error).message), ['first', 'second cleanup', 'third cleanup']);
});

test('a failing body cancels the children and is aggregated too', async () => {
  const loop = new TestLoop();
  let childCancelled = false;
  const p = TaskGroup.run(async (g) => {
    g.spawn('child', async (signal) => {
      await sleep(1000, { signal, loop }).catch((e: unknown) => {
        childCancelled = isCancelled(e);
        throw e;
      });
    });
    throw new Error('body failed');
  }, { loop });
  const err = (await p.catch((e: unknown) => e)) as TaskGroupError;
  assert.ok(err instanceof TaskGroupError);
  assert.deepEqual(err.errors.map((e) => (e as Error).message), ['body failed']);
  assert.equal(childCancelled, true);
});

test('aborting the outer signal cancels every child and run throws the CancelledError', async () => {
  const loop = new TestLoop();
  const outer = new AbortController();
  const cancelled: string[] = [];
  const child = (name: string) => async (signal: AbortSignal) => {
    await sleep(1000, { signal, loop }).catch((e: unknown) => {
      if (isCancelled(e)) cancelled.push(name);
      throw e;
    });
  };
  const p = TaskGroup.run((g) => {
    g.spawn('a', child('a'));
    g.spawn('b', child('b'));
  }, { loop, signal: outer.signal });
  await runFor(loop, 10);
  outer.abort('shutting down');
  await assert.rejects(p, (err: unknown) => err instanceof CancelledError && err.reason === 'shutting down');
  assert.deepEqual(cancelled.sort(), ['a', 'b']);
});

test('children spawned by children are awaited too: nothing outlives the group', async () => {
  const loop = new TestLoop();
  let grandchildDone = false;
  const p = TaskGroup.run((g) => {
    g.spawn('parent', async (signal) => {
      await sleep(5, { signal, loop });
      g.spawn('grandchild', async (s) => {
        await sleep(20, { signal: s, loop });
        grandchildDone = true;
      });
    });
  }, { loop });
  await runFor(loop, 24);
  assert.equal(await stateOf(p), 'pending');
  await runFor(loop, 1);
  await p;
  assert.equal(grandchildDone, true);
});

test('spawning after the group finished throws ERR_TASK_GROUP_CLOSED', async () => {
  let saved: TaskGroup | undefined;
  await TaskGroup.run((g) => {
    saved = g;
  });
  assert.equal(saved!.closed, true);
  assert.throws(() => saved!.spawn('late', () => 1), { code: 'ERR_TASK_GROUP_CLOSED' });
});

test('spawning into a cancelled group gives a task that never runs', async () => {
  const loop = new TestLoop();
  let ran = false;
  const p = TaskGroup.run(async (g) => {
    g.cancel('stop');
    const t = g.spawn('never', () => {
      ran = true;
    });
    await t.catch(() => {});
    assert.equal(t.cancelled, true);
    return 'ok';
  }, { loop });
  assert.equal(await p, 'ok');
  assert.equal(ran, false);
});

test('a child failure is observed by the group, never reported as unobserved', async () => {
  const reported: unknown[] = [];
  const loop = new TestLoop({ onError: (e) => reported.push(e) });
  await assert.rejects(TaskGroup.run((g) => {
    g.spawn('x', () => Promise.reject(new Error('seen by the group')));
  }, { loop }));
  loop.runUntilIdle();
  assert.deepEqual(reported, []);
});

test('a group result can be made of its children\'s values', async () => {
  const loop = new TestLoop();
  const p = TaskGroup.run(async (g) => {
    const a = g.spawn('a', async (signal) => { await sleep(3, { signal, loop }); return 1; });
    const b = g.spawn('b', async (signal) => { await sleep(1, { signal, loop }); return 2; });
    return (await a) + (await b);
  }, { loop });
  await runFor(loop, 3);
  assert.equal(await p, 3);
});
