// The reactor beside Node's own loop (DESIGN.md §3): each scenario runs in a child process
// (test/fixtures/*.ts) under each host path — the default uv-poll host, the thread-wait fallback
// (EVLOOP_NO_LIBUV=1) and the poll backend (EVLOOP_POLLER=poll, which always takes thread-wait).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOST_ENVS, runFixture, type FixtureRun } from '../helpers/run-fixture.js';

const EXPECTED: Record<string, { host: string; poller: string }> = {
  '': { host: 'uv-poll', poller: 'epoll' },
  'EVLOOP_NO_LIBUV=1': { host: 'thread-wait', poller: 'epoll' },
  'EVLOOP_POLLER=poll': { host: 'thread-wait', poller: 'poll' },
};

function expectedFor(env: Record<string, string>): { host: string; poller: string } {
  if (env.EVLOOP_POLLER === 'poll') return EXPECTED['EVLOOP_POLLER=poll']!;
  if (env.EVLOOP_NO_LIBUV === '1') return EXPECTED['EVLOOP_NO_LIBUV=1']!;
  return EXPECTED['']!;
}

function show(run: FixtureRun): string {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''}${run.timedOut ? ', timed out' : ''}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/** The run's first result, checked to come from the expected host and backend. */
function firstResult(run: FixtureRun, env: Record<string, string>): Record<string, unknown> {
  assert.equal(run.timedOut, false, show(run));
  const r = run.results[0];
  assert.ok(r, `the fixture printed a result\n${show(run)}`);
  assert.equal(r.error, undefined, show(run));
  const want = expectedFor(env);
  assert.equal(r.host, want.host, 'the environment selected the host path under test');
  assert.equal(r.poller, want.poller);
  return r;
}

// one child at a time. Promptness is asserted in loop turns and CPU time; the wall-clock bounds
// left are loose: only a missed wake-up (which waits for the fixture's deadline) crosses them.
describe('the reactor coexisting with Node\'s loop', () => {
  for (const { name, env } of HOST_ENVS) {
    describe(`with ${name}`, () => {
      it('resumes an await inside a reactor callback before the reactor\'s next turn', async () => {
        const run = await runFixture('await-in-callback', env);
        const r = firstResult(run, env);
        assert.equal(run.code, 0, show(run));
        assert.equal(r.rounds, 5);
        assert.equal(r.nextTurnFirst, 0, 'a callSoon queued by the callback ran before the await resumed');
        assert.equal(r.maxTurnsWhileAwaiting, 0, 'no loop turn ran between the await and its continuation');
        // a continuation left for the reactor's next wake-up, with nothing to wake it, waits for the deadline
        assert.ok((r.maxDelayMs as number) < 2000, `an await resumed after ${String(r.maxDelayMs)} ms`);
      });

      it('lets a Node setTimeout and fs.promises.readFile complete while a watcher is active', async () => {
        const run = await runFixture('node-io', env);
        const r = firstResult(run, env);
        assert.equal(run.code, 0, show(run));
        assert.equal(r.readOk, true);
        assert.equal(r.watcherActive, true, 'the watcher was active the whole time');
        assert.equal(r.reactorTimer, true, 'the reactor ran its own timer meanwhile');
        assert.ok((r.timeoutMs as number) >= 29 && (r.timeoutMs as number) < 2000, `setTimeout(30) took ${String(r.timeoutMs)} ms`);
      });

      it('runs a process.on(\'SIGUSR2\') handler', async () => {
        const run = await runFixture('signal', env);
        const r = firstResult(run, env);
        assert.equal(run.code, 0, show(run));
        assert.equal(r.signal, 'SIGUSR2');
        assert.ok((r.afterMs as number) < 1000, `the handler ran ${String(r.afterMs)} ms after the signal`);
      });

      for (const from of ['reactor', 'node'] as const) {
        it(`exits promptly on process.exit() from a ${from} callback while a watcher is active`, async () => {
          const run = await runFixture('exit', { ...env, FIXTURE_EXIT_FROM: from }, 5000);
          const r = firstResult(run, env);
          assert.equal(run.code, 7, show(run));
          assert.equal(r.exiting, 7);
        });
      }

      it('exits by itself once the last referenced handle is closed (unref\'d ones do not count)', async () => {
        const run = await runFixture('exit-by-itself', env, 5000);
        const r = firstResult(run, env);
        assert.equal(run.code, 0, show(run));
        assert.equal(r.alive, false);
        const exited = run.results[1];
        assert.ok(exited, `the process exited on its own\n${show(run)}`);
        const lingerMs = (exited.exitedAtMs as number) - (r.closedAtMs as number);
        assert.ok(lingerMs < 1000, `the process lingered ${lingerMs} ms after its last handle closed`);
      });

      it('reports an exception thrown in a reactor callback as uncaughtException, and keeps running', async () => {
        const run = await runFixture('uncaught', env);
        const r = firstResult(run, env);
        assert.equal(run.code, 0, show(run));
        assert.deepEqual(r.caught, ['boom from timer', 'boom from io'], 'each exception reached Node once, in order');
        assert.equal(r.laterTimerFired, true, 'a later timer still fired');
        assert.equal(r.ioCalls, 2, 'the watcher whose callback threw was called again');
        assert.equal(r.errors, 2);
      });

      it('uses about no CPU while idle with an active watcher (< 200 ms CPU in 1 s, < 20 turns)', async () => {
        const run = await runFixture('idle-cpu', env);
        const r = firstResult(run, env);
        assert.equal(run.code, 0, show(run));
        assert.ok((r.wallMs as number) >= 990);
        // CPU time, not wall time: contention does not add to it; a busy loop burns ~1000 ms
        assert.ok((r.cpuMs as number) < 200, `${String(r.cpuMs)} ms of CPU in ${String(r.wallMs)} ms idle: a busy loop?`);
        assert.ok((r.iterations as number) < 20, `${String(r.iterations)} loop turns while idle`);
      });
    });
  }
});

describe('a reactor inside a worker thread', () => {
  it('takes the thread-wait host and sees ready I/O and timers promptly', async () => {
    const run = await runFixture('worker-loop');
    assert.equal(run.timedOut, false, show(run));
    assert.equal(run.code, 0, show(run));
    const r = run.results[0]!;
    assert.equal(r.host, 'thread-wait', 'uv_default_loop() is the main thread\'s loop: not for a worker');
    // a wait that nothing wakes (the bug) never ends: the fixture's deadline is 8 s
    assert.ok((r.readAfterMs as number) >= 15 && (r.readAfterMs as number) < 3000, `read after ${String(r.readAfterMs)} ms (written at 20 ms)`);
    assert.ok((r.timerAfterMs as number) >= 39 && (r.timerAfterMs as number) < 3000, `40 ms timer after ${String(r.timerAfterMs)} ms`);
  });
});

describe('closing a loop while its wait runs on the threadpool', () => {
  for (const poller of ['epoll', 'poll', 'select']) {
    it(`lets the process exit by itself (${poller})`, async () => {
      const run = await runFixture('close-during-wait', { EVLOOP_POLLER: poller });
      assert.equal(run.timedOut, false, show(run));
      assert.equal(run.code, 0, show(run));
      assert.equal(run.results[0]?.closed, true, show(run));
      assert.equal(run.results[0]?.poller, poller);
      assert.ok(run.results.length === 1, `the fixture's deadline did not fire\n${show(run)}`);
    });
  }
});
