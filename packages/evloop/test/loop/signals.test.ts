import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { readdirSync } from 'node:fs';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import { TestLoop } from '../../src/loop/test-loop.js';
import { watchSignal, type SignalEvent } from '../../src/loop/signals.js';

const openFdCount = (): number => readdirSync('/proc/self/fd').length;

/** Resolves with the next event of `type` the loop dispatches (or rejects after `ms`). */
function nextEvent(loop: Loop, type: string, ms = 5000): Promise<SignalEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${type} event within ${ms} ms`)); }, ms);
    const off = loop.events.on(type, (e) => {
      clearTimeout(timer);
      off();
      resolve(e as SignalEvent);
    });
  });
}

test('a signal sent to the process arrives as a loop event and calls the watcher', async () => {
  const before = openFdCount();
  const loop = createLoop();
  const got: SignalEvent[] = [];
  const w = watchSignal(loop, 'SIGUSR2', (e) => got.push(e));
  const seen = nextEvent(loop, 'signal');
  process.kill(process.pid, 'SIGUSR2');
  const e = await seen;
  assert.deepEqual(e, { type: 'signal', signal: 'SIGUSR2', signo: constants.signals.SIGUSR2 });
  assert.equal(got.length, 1);
  assert.equal(got[0], e);
  w.close();
  loop.close();
  assert.equal(openFdCount(), before, 'no fd leaked');
});

test('every watcher of the signal gets each delivery, and a throwing handler does not stop the others', async () => {
  const errors: unknown[] = [];
  const loop = createLoop({ onError: (err) => errors.push(err) });
  const calls: string[] = [];
  const a = watchSignal(loop, 'SIGUSR2', () => { calls.push('a'); throw new Error('handler a failed'); });
  const b = watchSignal(loop, 'SIGUSR2', () => calls.push('b'));
  const seen = nextEvent(loop, 'signal');
  process.kill(process.pid, 'SIGUSR2');
  await seen;
  assert.deepEqual(calls, ['a', 'b']);
  assert.equal(errors.length, 1);
  assert.match((errors[0] as Error).message, /handler a failed/);
  a.close();
  b.close();
  loop.close();
});

test('closing the last watcher removes the process listener and restores the default action', () => {
  const loop = new TestLoop();
  const base = process.listenerCount('SIGUSR2');
  const a = watchSignal(loop, 'SIGUSR2', () => {});
  const b = watchSignal(loop, 'SIGUSR2', () => {});
  assert.equal(process.listenerCount('SIGUSR2'), base + 1, 'one process listener per signal and loop');
  a.close();
  assert.equal(process.listenerCount('SIGUSR2'), base + 1);
  b.close();
  assert.equal(process.listenerCount('SIGUSR2'), base);
});

test('a watcher is an active handle: referenced it keeps the loop alive, unref\'d it does not', () => {
  const loop = new TestLoop();
  const w = watchSignal(loop, 'SIGUSR2', () => {});
  assert.equal(loop.alive, true);
  assert.equal(loop.stats().activeHandles, 1);
  w.unref();
  assert.equal(loop.alive, false);
  w.ref();
  assert.equal(loop.alive, true);
  w.close();
  assert.equal(loop.alive, false);
  assert.equal(loop.stats().activeHandles, 0);
  assert.throws(() => w.close(), { code: 'ERR_HANDLE_CLOSED' });
});

test('signal events are dispatched by type: a plain events.on(\'signal\') handler sees them too', () => {
  const loop = new TestLoop();
  const w = watchSignal(loop, 'SIGUSR2', () => {});
  const typed: string[] = [];
  loop.events.on('signal', (e) => typed.push((e as SignalEvent).signal));
  // what the process listener does when the signal arrives
  process.emit('SIGUSR2', 'SIGUSR2');
  assert.deepEqual(typed, [], 'nothing runs before the loop\'s event phase');
  loop.runOnce(0);
  assert.deepEqual(typed, ['SIGUSR2']);
  w.close();
});

test('a watcher closed by an earlier handler of the same batch is not called', () => {
  const loop = new TestLoop();
  const calls: string[] = [];
  let b: ReturnType<typeof watchSignal> | undefined;
  const a = watchSignal(loop, 'SIGUSR2', () => { calls.push('a'); b!.close(); });
  b = watchSignal(loop, 'SIGUSR2', () => calls.push('b'));
  process.emit('SIGUSR2', 'SIGUSR2');
  loop.runOnce(0);
  assert.deepEqual(calls, ['a']);
  a.close();
});

test('watchSignal refuses unknown names, SIGKILL and SIGSTOP with ERR_INVALID_ARG', () => {
  const loop = new TestLoop();
  assert.throws(() => watchSignal(loop, 'SIGNOPE' as NodeJS.Signals, () => {}), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => watchSignal(loop, 'SIGKILL', () => {}), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => watchSignal(loop, 'SIGSTOP', () => {}), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => watchSignal(loop, 'SIGUSR2', 'x' as never), { code: 'ERR_INVALID_ARG' });
  assert.equal(loop.stats().activeHandles, 0);
});

test('signals delivered after the loop closed are ignored', () => {
  const loop = new TestLoop();
  const w = watchSignal(loop, 'SIGUSR2', () => assert.fail('must not run'));
  loop.close();
  assert.doesNotThrow(() => process.emit('SIGUSR2', 'SIGUSR2'));
  w.close();
});
