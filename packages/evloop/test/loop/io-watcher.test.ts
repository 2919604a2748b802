// Every test runs against each real backend, driven by hand (host 'none', runOnce).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLoop, ERROR, HANGUP, READABLE, WRITABLE, type IoWatcher, type Loop, type PollerName } from '../../src/index.js';
import { close, pipe, socketpair, sys } from '../../src/sys/index.js';
import { OwnedFds, trackFds } from '../helpers/fds.js';

const F_DUPFD = 0;

function writeByte(fd: number): void {
  assert.equal(sys.write(fd, Buffer.from('x'), 1), 1);
}

function drain(fd: number): number {
  const buf = Buffer.alloc(4096);
  let total = 0;
  for (let n = sys.read(fd, buf, buf.length); n > 0; n = sys.read(fd, buf, buf.length)) total += n;
  return total;
}

for (const backend of ['epoll', 'poll', 'select'] as PollerName[]) {
  describe(`I/O watchers on the ${backend} backend`, () => {
    let loop: Loop;
    let errors: unknown[];
    let fdsBack: () => void;
    const owned = new OwnedFds();
    const { own, close: closeOwned } = owned;

    beforeEach(() => {
      fdsBack = trackFds();
      errors = [];
      loop = createLoop({ poller: backend, host: 'none', onError: (err) => errors.push(err) });
    });

    afterEach(() => {
      if (!loop.closed) loop.close();
      owned.closeAll();
      assert.deepEqual(errors, [], 'no callback threw');
      fdsBack();
    });

    it('calls a READABLE watcher when its pipe has data, with the watcher as second argument', () => {
      const [r, w] = own(...pipe());
      const seen: [number, IoWatcher][] = [];
      const watcher = loop.watch(r, READABLE, (ev, wt) => seen.push([ev, wt]));
      loop.runOnce(0);
      assert.equal(seen.length, 0, 'an empty pipe is not readable');
      writeByte(w);
      loop.runOnce(0);
      assert.deepEqual(seen, [[READABLE, watcher]]);
      loop.runOnce(0);
      assert.equal(seen.length, 2, 'level-triggered: still readable until drained');
      drain(r);
      loop.runOnce(0);
      assert.equal(seen.length, 2);
      assert.equal(loop.stats().ioEvents, 2);
    });

    it('calls a WRITABLE watcher on a socketpair end with room to write', () => {
      const [a] = own(...socketpair());
      let events = 0;
      loop.watch(a, WRITABLE, (ev) => (events = ev));
      loop.runOnce(0);
      assert.equal(events, WRITABLE);
    });

    it('delivers only the bits asked for, and both when both are ready', () => {
      const [a, b] = own(...socketpair());
      writeByte(b);
      const seen: number[] = [];
      const watcher = loop.watch(a, READABLE, (ev) => seen.push(ev));
      loop.runOnce(0);
      watcher.add(WRITABLE);
      loop.runOnce(0);
      watcher.remove(READABLE);
      loop.runOnce(0);
      assert.deepEqual(seen, [READABLE, READABLE | WRITABLE, WRITABLE]);
      assert.equal(watcher.interest, WRITABLE);
    });

    it('setInterest(0) pauses the watcher: inactive, no events, the loop not kept alive', () => {
      const [r, w] = own(...pipe());
      writeByte(w);
      let calls = 0;
      const watcher = loop.watch(r, READABLE, () => calls++);
      assert.equal(watcher.active, true);
      assert.equal(loop.alive, true);
      watcher.setInterest(0);
      assert.equal(watcher.active, false);
      assert.equal(loop.alive, false);
      assert.equal(loop.stats().activeHandles, 0);
      loop.runOnce(0);
      assert.equal(calls, 0);
      watcher.setInterest(READABLE);
      assert.equal(loop.alive, true);
      loop.runOnce(0);
      assert.equal(calls, 1, 'resumed');
    });

    it('can start with interest 0 and be enabled later', () => {
      const [r, w] = own(...pipe());
      writeByte(w);
      let calls = 0;
      const watcher = loop.watch(r, 0, () => calls++);
      assert.equal(loop.stats().activeHandles, 0);
      loop.runOnce(0);
      assert.equal(calls, 0);
      watcher.add(READABLE);
      loop.runOnce(0);
      assert.equal(calls, 1);
    });

    it('stops events and frees the fd for a new watcher once closed; the fd stays open', () => {
      const [r, w] = own(...pipe());
      writeByte(w);
      let calls = 0;
      const watcher = loop.watch(r, READABLE, () => calls++);
      watcher.close();
      assert.equal(loop.alive, false);
      loop.runOnce(0);
      assert.equal(calls, 0);
      assert.throws(() => watcher.setInterest(READABLE), { code: 'ERR_HANDLE_CLOSED' });
      assert.throws(() => watcher.close(), { code: 'ERR_HANDLE_CLOSED' });
      assert.equal(drain(r), 1, 'the fd itself was not closed');
      writeByte(w);
      loop.watch(r, READABLE, () => calls++);
      loop.runOnce(0);
      assert.equal(calls, 1);
    });

    it('lets an unref\'d watcher run without keeping the loop alive', () => {
      const [r, w] = own(...pipe());
      writeByte(w);
      let calls = 0;
      loop.watch(r, READABLE, () => calls++).unref();
      assert.equal(loop.alive, false);
      loop.runOnce(0);
      assert.equal(calls, 1);
    });

    it('rejects a closed fd with EBADF', () => {
      const [r, w] = pipe();
      close(r);
      close(w);
      assert.throws(() => loop.watch(r, READABLE, () => {}), { code: 'EBADF' });
      assert.equal(loop.stats().watchedFds, 0);
      assert.equal(loop.alive, false);
    });

    it('rejects fd -1, 1.5, NaN and non-numbers with EBADF', () => {
      for (const bad of [-1, 1.5, NaN, Infinity, '3' as unknown as number]) {
        assert.throws(() => loop.watch(bad, READABLE, () => {}), { code: 'EBADF', name: 'SysError' }, String(bad));
      }
      assert.equal(loop.stats().watchedFds, 0);
    });

    it('rejects unknown interest bits and a non-function callback with ERR_INVALID_ARG', () => {
      const [r] = own(...pipe());
      for (const bad of [4, 8, 16, -1, 1.5, NaN, '1' as unknown as number]) {
        assert.throws(() => loop.watch(r, bad, () => {}), { code: 'ERR_INVALID_ARG' }, String(bad));
      }
      assert.throws(() => loop.watch(r, READABLE, 'cb' as unknown as () => void), { code: 'ERR_INVALID_ARG' });
      const watcher = loop.watch(r, READABLE, () => {});
      assert.throws(() => watcher.setInterest(ERROR), { code: 'ERR_INVALID_ARG' });
      assert.equal(watcher.interest, READABLE, 'a rejected change leaves the interest as it was');
    });

    it('rejects a second watcher on the same fd with ERR_FD_WATCHED, leaving the first working', () => {
      const [r, w] = own(...pipe());
      let first = 0;
      loop.watch(r, READABLE, () => first++);
      assert.throws(() => loop.watch(r, WRITABLE, () => {}), { code: 'ERR_FD_WATCHED' });
      writeByte(w);
      loop.runOnce(0);
      assert.equal(first, 1);
      assert.equal(loop.stats().watchedFds, 1);
    });

    it('drops the event of a watcher closed by an earlier callback of the same batch', () => {
      const [r1, w1] = own(...pipe());
      const [r2, w2] = own(...pipe());
      writeByte(w1);
      writeByte(w2);
      const calls: number[] = [];
      // whichever runs first closes the other: exactly one callback may run
      const w = new Map<number, IoWatcher>();
      for (const [fd, other] of [[r1, r2], [r2, r1]] as const) {
        w.set(fd, loop.watch(fd, READABLE, () => {
          calls.push(fd);
          w.get(other)!.close();
        }));
      }
      loop.runOnce(0);
      assert.equal(calls.length, 1);
      assert.equal(loop.stats().staleEvents, 1);
      assert.equal(loop.stats().ioEvents, 1);
    });

    it('does not hand a stale event to a new watcher on a reused fd number in the same batch', () => {
      const [r1, w1] = own(...pipe());
      const [r2, w2] = own(...pipe());
      const [spareR, spareW] = own(...pipe()); // empty until the end of the test
      writeByte(w1);
      writeByte(w2);
      const calls: string[] = [];
      const watchers = new Map<number, IoWatcher>();
      let replacement: IoWatcher | undefined;
      for (const [fd, other] of [[r1, r2], [r2, r1]] as const) {
        watchers.set(fd, loop.watch(fd, READABLE, () => {
          calls.push(`old ${fd}`);
          drain(fd);
          if (replacement) return;
          // close the other watcher and its fd, then take the same fd number for an empty pipe
          watchers.get(other)!.close();
          closeOwned(other);
          const reused = sys.fcntl(spareR, F_DUPFD, other);
          assert.equal(reused, other, 'F_DUPFD takes the lowest free number from `other` on');
          own(reused);
          replacement = loop.watch(reused, READABLE, (ev) => {
            calls.push(`new ev=${ev}`);
            drain(reused);
          });
        }));
      }
      loop.runOnce(0);
      assert.equal(calls.length, 1, `only one old callback ran: ${calls.join(', ')}`);
      assert.ok(replacement);
      assert.equal(loop.stats().staleEvents, 1, 'the old watcher\'s event was dropped, not delivered');
      loop.runOnce(0);
      assert.deepEqual(calls.slice(1), [], 'the new watcher never saw readiness it does not have');
      writeByte(spareW); // the replacement is a working watcher
      loop.runOnce(0);
      assert.deepEqual(calls.slice(1), [`new ev=${READABLE}`]);
    });

    if (backend !== 'select') {
      it('delivers HANGUP without interest in it: the read end of a pipe whose writer closed', () => {
        const [r, w] = own(...pipe());
        let events = 0;
        loop.watch(r, WRITABLE, (ev) => (events = ev)); // a read end is never writable
        loop.runOnce(0);
        assert.equal(events, 0);
        closeOwned(w);
        loop.runOnce(0);
        assert.equal(events & HANGUP, HANGUP);
        assert.equal(events & WRITABLE, 0);
      });

      it('delivers ERROR without interest in it: the write end of a pipe whose reader closed', () => {
        const [r, w] = own(...pipe());
        let events = 0;
        loop.watch(w, READABLE, (ev) => (events = ev)); // a write end is never readable
        loop.runOnce(0);
        assert.equal(events, 0);
        closeOwned(r);
        loop.runOnce(0);
        assert.equal(events & ERROR, ERROR);
        assert.equal(events & READABLE, 0);
      });
    } else {
      it('reports a hang-up as readability (select has no HANGUP bit)', () => {
        const [r, w] = own(...pipe());
        let events = 0;
        loop.watch(r, READABLE, (ev) => (events = ev));
        closeOwned(w);
        loop.runOnce(0);
        assert.equal(events, READABLE);
        assert.equal(drain(r), 0, 'EOF');
      });
    }

    it('reports an exception from an I/O callback and dispatches the next event', () => {
      const [r1, w1] = own(...pipe());
      const [r2, w2] = own(...pipe());
      writeByte(w1);
      writeByte(w2);
      let ok = 0;
      const boom = new Error('io boom');
      loop.watch(r1, READABLE, () => {
        throw boom;
      });
      loop.watch(r2, READABLE, () => ok++);
      loop.runOnce(0);
      assert.equal(ok, 1);
      assert.deepEqual(errors.splice(0), [boom]);
      assert.equal(loop.stats().errors, 1);
    });

    it('closes every watcher when the loop closes, leaving the fds open', () => {
      const [r, w] = own(...pipe());
      const watcher = loop.watch(r, READABLE, () => {});
      loop.close();
      assert.equal(watcher.closed, true);
      writeByte(w);
      assert.equal(drain(r), 1);
    });
  });
}
