// The loop's real-poller scenarios run through the sys layer's fault injection (src/sys/fault.ts):
// each fault either becomes an early, empty wake-up (EINTR) or a clear error with the errno as
// its code, and in every case the loop keeps working afterwards.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLoop, READABLE, WRITABLE, type Loop, type PollerName } from '../../src/index.js';
import { close, E, pipe, socketpair, sys, withFaults, type FaultStep, type Sys } from '../../src/sys/index.js';
import { trackFds } from '../helpers/fds.js';

const WAIT_CALL: Record<PollerName, keyof Sys> = { epoll: 'epoll_wait', poll: 'poll', select: 'select' };
/** Every errno kind the wrapper is documented to produce, and a few the kernel could add. */
const ERRNO_FAULTS = ['EINTR', 'EAGAIN', 'ECONNRESET', 'EMFILE', 'ENOMEM', 'EBADF', 'EINVAL'] as const;

function writeByte(fd: number): void {
  assert.equal(sys.write(fd, Buffer.from('x'), 1), 1);
}

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

for (const backend of ['epoll', 'poll', 'select'] as PollerName[]) {
  describe(`the loop on ${backend} under injected faults`, () => {
    let loop: Loop;
    let errors: unknown[];
    let fds: number[];
    let fdsBack: () => void;
    const waitCall = WAIT_CALL[backend];

    beforeEach(() => {
      fdsBack = trackFds();
      fds = [];
      errors = [];
      loop = createLoop({ poller: backend, host: 'none', onError: (err) => errors.push(err) });
    });

    afterEach(() => {
      if (!loop.closed) loop.close();
      for (const fd of fds) close(fd);
      fdsBack();
    });

    it(`turns EINTR from ${waitCall} into a turn with no events, and the next turn delivers them`, () => {
      const [r, w] = pipe();
      fds.push(r, w);
      writeByte(w);
      let calls = 0;
      loop.watch(r, READABLE, () => calls++);
      withFaults({ [waitCall]: ['EINTR', 'EINTR'] }, (faults) => {
        assert.equal(loop.runOnce(0), true);
        assert.equal(loop.runOnce(-1), true, 'a blocking wait interrupted returns too');
        assert.equal(faults.injected[waitCall]?.EINTR, 2);
        assert.equal(calls, 0);
        loop.runOnce(0);
        assert.equal(calls, 1, 'the schedule is used up: the event arrives');
      });
      assert.deepEqual(errors, []);
    });

    it('keeps timers firing through a wait interrupted on every call', () => {
      const [r, w] = pipe();
      fds.push(r, w);
      loop.watch(r, READABLE, () => {});
      let fired = 0;
      loop.callLater(0, () => fired++);
      loop.callLater(1, () => fired++);
      withFaults({ [waitCall]: { steps: ['EINTR'], repeat: true } }, () => {
        const start = performance.now();
        while (fired < 2 && performance.now() - start < 2000) loop.runOnce(-1);
      });
      assert.equal(fired, 2);
      assert.deepEqual(errors, []);
    });

    for (const fault of ERRNO_FAULTS.filter((f) => f !== 'EINTR')) {
      // select fails with EBADF when a registered fd was closed behind its back: it then reports
      // such fds as ERROR instead of failing (select.ts), so that one is not an error here
      const recovers = backend === 'select' && fault === 'EBADF';
      it(recovers
        ? `recovers from EBADF out of select by looking for closed fds (there are none: no events)`
        : `reports ${fault} from ${waitCall} as an error with code ${fault}, and keeps a working loop`, () => {
        const [r, w] = pipe();
        fds.push(r, w);
        writeByte(w);
        const ran: string[] = [];
        loop.watch(r, READABLE, () => ran.push('io'));
        loop.callLater(0, () => ran.push('timer'));
        let thrown: unknown;
        withFaults({ [waitCall]: [fault] }, () => {
          try {
            loop.runOnce(0);
          } catch (err) {
            thrown = err;
          }
        });
        if (recovers) assert.equal(thrown, undefined);
        else assert.equal(codeOf(thrown), fault, 'a failed wait is reported with its errno, not ignored');
        assert.deepEqual(ran, ['timer'], 'the phases before the wait ran; no event was made up');
        loop.runOnce(0);
        assert.deepEqual(ran, ['timer', 'io'], 'the next turn polls and dispatches again');
        assert.deepEqual(errors, []);
      });
    }

    it('lets a watcher treat an injected EAGAIN on read as "not now" and read on the next turn', () => {
      const [r, w] = pipe();
      fds.push(r, w);
      writeByte(w);
      const reads: number[] = [];
      const buf = Buffer.alloc(16);
      loop.watch(r, READABLE, () => reads.push(sys.read(r, buf, buf.length)));
      withFaults({ read: { steps: ['EAGAIN', 'EINTR'], fd: r } }, (faults) => {
        loop.runOnce(0);
        loop.runOnce(0);
        loop.runOnce(0);
        assert.equal(faults.total, 2);
      });
      assert.deepEqual(reads, [-E.EAGAIN, -E.EINTR, 1], 'level-triggered: readiness stays until the data is read');
      loop.runOnce(0);
      assert.equal(reads.length, 3, 'drained: no more events');
    });

    it('lets a writer survive short writes and EAGAIN, resuming on WRITABLE', () => {
      const [a, b] = socketpair();
      fds.push(a, b);
      const data = Buffer.from('hello, world');
      let sent = 0;
      const writer = loop.watch(a, WRITABLE, () => {
        const rc = sys.write(a, data.subarray(sent), data.length - sent);
        if (rc > 0) sent += rc;
        if (sent === data.length) writer.close();
      });
      withFaults({ write: { steps: ['EAGAIN', { short: 3 }, 'EINTR', { short: 4 }], fd: a } }, () => {
        for (let i = 0; i < 10 && !writer.closed; i++) loop.runOnce(0);
      });
      assert.equal(writer.closed, true);
      const got = Buffer.alloc(64);
      const n = sys.read(b, got, got.length);
      assert.equal(got.subarray(0, n).toString(), 'hello, world');
    });

    it('survives every fault kind on every call the loop makes, for a whole scenario', () => {
      // a scenario (a timer, data through a pipe, a watcher paused and resumed) with one fault
      // kind at a time injected on every 3rd call of each sys function the loop and it use
      const wrapped: (keyof Sys)[] = [waitCall, 'read', 'write', 'fcntl'];
      if (backend === 'epoll') wrapped.push('epoll_ctl');
      for (const fault of ERRNO_FAULTS) {
        const [r, w] = pipe();
        const local = createLoop({ poller: backend, host: 'none', onError: (err) => errors.push(err) });
        const thrown = new Set<string>();
        let received = 0;
        let fired = 0;
        const attempt = (what: () => void): void => {
          try {
            what();
          } catch (err) {
            thrown.add(codeOf(err) ?? `no code: ${String(err)}`);
          }
        };
        const buf = Buffer.alloc(64);
        try {
          const plan = Object.fromEntries(wrapped.map((c) => [c, { every: 3, fault: fault as FaultStep }]));
          withFaults(plan, () => {
            let watcher: ReturnType<Loop['watch']> | undefined;
            for (let i = 0; i < 5 && watcher === undefined; i++) {
              attempt(() => {
                watcher = local.watch(r, READABLE, () => {
                  const n = sys.read(r, buf, buf.length);
                  if (n > 0) received += n;
                });
              });
            }
            assert.ok(watcher, `${fault}: a watch succeeds once the fault has passed`);
            local.callLater(0, () => fired++);
            for (let i = 0; i < 30; i++) {
              if (i % 4 === 0) sys.write(w, buf, 1); // a faulted write just sends nothing
              if (i === 5) attempt(() => watcher!.setInterest(0));
              if (i === 6) attempt(() => watcher!.setInterest(READABLE));
              attempt(() => local.runOnce(0));
            }
            if (watcher.interest === 0) attempt(() => watcher!.setInterest(READABLE));
          });
          // the faults are gone: the loop must be intact
          const before = received;
          writeByte(w);
          for (let i = 0; i < 3; i++) local.runOnce(0);
          assert.ok(received > before, `${fault}: data still flows after the faults`);
          assert.equal(fired, 1, `${fault}: the timer fired exactly once`);
          for (const code of thrown) assert.equal(code, fault, 'every error carries the injected errno as its code');
          assert.deepEqual(errors, [], `${fault}: no callback threw`);
        } finally {
          local.close();
          close(r);
          close(w);
        }
        assert.equal(local.stats().activeHandles, 0);
      }
    });
  });
}

describe('the loop under faults of epoll_ctl', () => {
  let fdsBack: () => void;
  beforeEach(() => (fdsBack = trackFds()));
  afterEach(() => fdsBack());

  it('leaves no watcher behind when registering fails, and a retry works', () => {
    const loop = createLoop({ poller: 'epoll', host: 'none' });
    const [r, w] = pipe();
    try {
      withFaults({ epoll_ctl: ['ENOMEM'] }, () => {
        assert.throws(() => loop.watch(r, READABLE, () => {}), { code: 'ENOMEM' });
      });
      assert.equal(loop.stats().watchedFds, 0);
      assert.equal(loop.alive, false);
      let calls = 0;
      loop.watch(r, READABLE, () => calls++);
      writeByte(w);
      loop.runOnce(0);
      assert.equal(calls, 1);
    } finally {
      loop.close();
      close(r);
      close(w);
    }
  });

  it('keeps the old interest when changing it fails', () => {
    const loop = createLoop({ poller: 'epoll', host: 'none' });
    const [r, w] = pipe();
    try {
      let seen = 0;
      const watcher = loop.watch(w, READABLE, (ev) => (seen = ev));
      withFaults({ epoll_ctl: ['ENOSPC'] }, () => {
        assert.throws(() => watcher.setInterest(WRITABLE), { code: 'ENOSPC' });
      });
      assert.equal(watcher.interest, READABLE);
      loop.runOnce(0);
      assert.equal(seen, 0, 'still READABLE-only: a pipe write end is never readable');
      watcher.setInterest(WRITABLE);
      loop.runOnce(0);
      assert.equal(seen, WRITABLE);
    } finally {
      loop.close();
      close(r);
      close(w);
    }
  });

  it('does not leave a closed watcher keeping the loop alive when unregistering fails', () => {
    const loop = createLoop({ poller: 'epoll', host: 'none' });
    const [r, w] = pipe();
    try {
      const watcher = loop.watch(r, READABLE, () => {});
      withFaults({ epoll_ctl: ['ENOMEM'] }, () => {
        assert.throws(() => watcher.close(), { code: 'ENOMEM' });
      });
      assert.equal(watcher.closed, true);
      assert.equal(watcher.active, false);
      assert.equal(loop.alive, false, 'the closed watcher is not counted');
      assert.equal(loop.stats().activeHandles, 0);
      assert.equal(loop.stats().watchedFds, 0);
    } finally {
      loop.close();
      close(r);
      close(w);
    }
  });

  for (const errno of ['EBADF', 'ENOENT'] as const) {
    it(`ignores ${errno} when unregistering an fd its owner already closed`, () => {
      const loop = createLoop({ poller: 'epoll', host: 'none' });
      const [r, w] = pipe();
      try {
        const watcher = loop.watch(r, READABLE, () => {});
        withFaults({ epoll_ctl: [errno] }, (faults) => {
          assert.doesNotThrow(() => watcher.close());
          assert.equal(faults.injected.epoll_ctl?.[errno], 1, `the unregister really failed with ${errno}`);
        });
        assert.equal(watcher.closed, true);
        assert.equal(loop.alive, false);
        assert.equal(loop.stats().watchedFds, 0);
      } finally {
        loop.close();
        close(r);
        close(w);
      }
    });
  }
});
