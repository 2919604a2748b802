import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createLoop, type Loop } from '../../src/loop/loop.js';
import { spawnChild, type ChildExitEvent } from '../../src/process/child.js';
import type { StreamReader } from '../../src/net/stream-reader.js';

const openFdCount = (): number => readdirSync('/proc/self/fd').length;

async function readAll(r: StreamReader): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of r) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

/** Runs `body` on a fresh loop, then checks that no fd leaked once the loop is closed. */
async function withLoop(body: (loop: Loop) => Promise<void>): Promise<void> {
  const before = openFdCount();
  const loop = createLoop();
  try {
    await body(loop);
    await loop.idle();
  } finally {
    loop.close();
  }
  assert.equal(openFdCount(), before, 'no fd leaked');
}

test('cat echoes what is written to its stdin on its stdout, then exits 0', () => withLoop(async (loop) => {
  const child = spawnChild('cat', [], { loop, stderr: 'inherit' });
  assert.equal(typeof child.pid, 'number');
  child.stdin!.write('hello, ');
  child.stdin!.write('child\n');
  child.stdin!.end();
  assert.equal(await readAll(child.stdout!), 'hello, child\n');
  assert.deepEqual(await child.exited, { code: 0, signal: null });
  assert.deepEqual(child.exitStatus, { code: 0, signal: null });
}));

test('a large echo goes through with backpressure (drain) and arrives intact', () => withLoop(async (loop) => {
  const child = spawnChild('cat', [], { loop, stderr: 'ignore' });
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const total = 40;
  const reading = readAll(child.stdout!);
  for (let i = 0; i < total; i++) {
    child.stdin!.write(chunk);
    await child.stdin!.drain();
  }
  child.stdin!.end();
  assert.equal((await reading).length, total * chunk.length);
  assert.equal((await child.exited).code, 0);
}));

test('the exit is a loop event carrying pid, code and signal', () => withLoop(async (loop) => {
  const events: ChildExitEvent[] = [];
  loop.events.on('child-exit', (e) => events.push(e as ChildExitEvent));
  const child = spawnChild('sh', ['-c', 'echo oops >&2; exit 3'], { loop, stdin: 'ignore', stdout: 'ignore' });
  assert.equal(await readAll(child.stderr!), 'oops\n');
  assert.deepEqual(await child.exited, { code: 3, signal: null });
  assert.deepEqual(events, [{ type: 'child-exit', pid: child.pid, code: 3, signal: null }]);
}));

test('kill() ends the child with a signal and reports it; a second kill after exit returns false', () => withLoop(async (loop) => {
  const child = spawnChild('sleep', ['30'], { loop, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  assert.equal(child.kill('SIGKILL'), true);
  assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
  assert.equal(child.kill(), false);
}));

test('a running child keeps the loop alive until it exits', () => withLoop(async (loop) => {
  const child = spawnChild('sh', ['-c', 'exit 0'], { loop, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  assert.equal(child.active, true);
  assert.equal(loop.alive, true);
  await loop.idle();
  assert.equal(child.active, false);
  assert.deepEqual(child.exitStatus, { code: 0, signal: null });
}));

test('no zombie is left: the child is reaped once it has exited', () => withLoop(async (loop) => {
  const child = spawnChild('true', [], { loop, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  await child.exited;
  await new Promise((r) => setTimeout(r, 10));
  const stat = (() => { try { return readdirSync(`/proc/${child.pid}`).length; } catch { return 0; } })();
  assert.equal(stat, 0, `/proc/${child.pid} is gone (reaped, not a zombie)`);
}));

test('the child runs in cwd with the given env', () => withLoop(async (loop) => {
  const child = spawnChild('sh', ['-c', 'pwd; echo "$GREETING"'], { loop, cwd: '/tmp', env: { GREETING: 'hi there', PATH: process.env.PATH }, stdin: 'ignore', stderr: 'inherit' });
  assert.equal(await readAll(child.stdout!), '/tmp\nhi there\n');
  await child.exited;
}));

test('spawning a missing program rejects exited with a SysError ENOENT and leaks no fd', () => withLoop(async (loop) => {
  const child = spawnChild('/nonexistent/program', [], { loop });
  assert.equal(child.pid, undefined);
  assert.equal(child.stdout, null);
  await assert.rejects(child.exited, { code: 'ENOENT' });
}));

test('close() on a finished child whose output was not read releases the stdio fds', () => withLoop(async (loop) => {
  const child = spawnChild('sh', ['-c', 'echo unread; echo unread >&2'], { loop, stdin: 'pipe' });
  await child.exited;
  child.close();
  assert.throws(() => child.close(), { code: 'ERR_HANDLE_CLOSED' });
}));

test('spawnChild validates its arguments', () => {
  assert.throws(() => spawnChild(''), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => spawnChild('cat', [1 as unknown as string]), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => spawnChild('cat', [], { stdin: 'bogus' as 'pipe' }), { code: 'ERR_INVALID_ARG' });
});
