// One suite, run against every backend (Twisted's ReactorBuilder idea): each `describe` below is
// the same contract checked for epoll, poll and select. Differences a backend cannot avoid are
// declared once in TRAITS and documented in docs/poller.md.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createPoller, POLLER_NAMES } from '../../src/poller/default.js';
import { OwnedFds, trackFds } from '../helpers/fds.js';
import { ERROR, HANGUP, READABLE, ReadyEvents, WRITABLE, type Poller, type PollerName } from '../../src/poller/poller.js';
import { C, E, close, eventfd, eventfdDrain, eventfdSignal, pipe, socketpair, sys, sysAsync } from '../../src/sys/index.js';

const TRAITS: Record<PollerName, { flagsHangupAndError: boolean; reportsClosedFd: boolean }> = {
  // epoll drops a closed fd from its set by itself; it flags EPOLLHUP/EPOLLERR.
  epoll: { flagsHangupAndError: true, reportsClosedFd: false },
  poll: { flagsHangupAndError: true, reportsClosedFd: true },
  // select folds hang-ups and errors into readability/writability.
  select: { flagsHangupAndError: false, reportsClosedFd: true },
};

function writeByte(fd: number): void {
  assert.equal(sys.write(fd, Buffer.from('x'), 1), 1);
}

function drain(fd: number): void {
  const buf = Buffer.alloc(4096);
  while (sys.read(fd, buf, buf.length) > 0);
}

/** The (token → events) pairs of one wait, as a Map for order-free assertions. */
function waitMap(p: Poller, timeoutMs: number, out = new ReadyEvents(64)): Map<number, number> {
  const n = p.wait(timeoutMs, out);
  const m = new Map<number, number>();
  for (let i = 0; i < n; i++) m.set(out.tokens[i]!, out.events[i]!);
  return m;
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

for (const name of POLLER_NAMES) {
  const traits = TRAITS[name];

  describe(`the ${name} poller`, () => {
    let poller: Poller;
    let fdsBack: () => void;
    const owned = new OwnedFds();
    const { own, close: closeOwned } = owned;

    beforeEach(() => {
      fdsBack = trackFds();
      poller = createPoller(name);
    });

    afterEach(() => {
      poller.close();
      owned.closeAll();
      fdsBack();
    });

    it('is named after its backend and reports its pollable fd and limits', () => {
      assert.equal(poller.name, name);
      assert.equal(poller.size, 0);
      if (name === 'epoll') assert.ok(typeof poller.fd === 'number' && poller.fd >= 0);
      else assert.equal(poller.fd, null);
      assert.equal(poller.maxFd, name === 'select' ? C.FD_SETSIZE - 1 : 0x7fffffff);
    });

    it('reports a pipe readable only once data has been written', () => {
      const [r, w] = own(...pipe());
      poller.register(r, READABLE, 1);
      assert.equal(waitMap(poller, 0).size, 0);
      writeByte(w);
      const ev = waitMap(poller, 1000);
      assert.equal(ev.size, 1);
      assert.equal(ev.get(1)! & READABLE, READABLE);
    });

    it('reports a fresh socket writable', () => {
      const [a] = own(...socketpair());
      poller.register(a, WRITABLE, 5);
      assert.deepEqual([...waitMap(poller, 1000)], [[5, WRITABLE]]);
    });

    it('reports readable and writable together on one fd', () => {
      const [a, b] = own(...socketpair());
      poller.register(a, READABLE | WRITABLE, 9);
      writeByte(b);
      assert.equal(waitMap(poller, 1000).get(9), READABLE | WRITABLE);
    });

    it('is level-triggered: an fd stays ready until it is drained', () => {
      const efd = own(eventfd())[0];
      poller.register(efd, READABLE, 2);
      eventfdSignal(efd);
      for (let i = 0; i < 3; i++) assert.equal(waitMap(poller, 0).get(2), READABLE, `wait ${i} still sees it`);
      eventfdDrain(efd);
      assert.equal(waitMap(poller, 0).size, 0);
    });

    it('returns tokens exactly, up to 2^53 - 1', () => {
      const tokens = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 52 + 3, 2 ** 53 - 1];
      const efds = own(...tokens.map(() => eventfd(1)));
      tokens.forEach((t, i) => poller.register(efds[i]!, READABLE, t));
      const got = [...waitMap(poller, 0).keys()].sort((a, b) => a - b);
      assert.deepEqual(got, tokens);
    });

    it('rejects tokens that are not integers in [0, 2^53) and unknown interest bits', () => {
      const efd = own(eventfd())[0];
      for (const bad of [-1, 1.5, 2 ** 53, NaN]) {
        assert.throws(() => poller.register(efd, READABLE, bad), { code: 'ERR_INVALID_ARG' });
      }
      assert.throws(() => poller.register(efd, 64, 1), { code: 'ERR_INVALID_ARG' });
      assert.equal(poller.size, 0);
    });

    it('modify changes the interest and the token', () => {
      const [a, b] = own(...socketpair());
      poller.register(a, READABLE, 1);
      assert.equal(waitMap(poller, 0).size, 0, 'nothing to read yet');
      poller.modify(a, WRITABLE, 2);
      assert.deepEqual([...waitMap(poller, 0)], [[2, WRITABLE]]);
      writeByte(b);
      poller.modify(a, READABLE, 3);
      assert.deepEqual([...waitMap(poller, 0)], [[3, READABLE]]);
      poller.modify(a, 0, 3);
      assert.equal(waitMap(poller, 0).size, 0, 'no interest, no hang-up: no event');
    });

    it('unregister stops events and shrinks size', () => {
      const [x, y] = own(eventfd(1), eventfd(1));
      poller.register(x, READABLE, 1);
      poller.register(y, READABLE, 2);
      assert.equal(poller.size, 2);
      poller.unregister(x);
      assert.equal(poller.size, 1);
      assert.deepEqual([...waitMap(poller, 0).keys()], [2]);
      poller.unregister(y);
      assert.equal(poller.size, 0);
      assert.equal(waitMap(poller, 0).size, 0);
      poller.register(x, READABLE, 3);
      assert.deepEqual([...waitMap(poller, 0).keys()], [3], 'an unregistered fd can be registered again');
    });

    it('reports a hang-up when the peer closes', () => {
      const [a, b] = own(...socketpair());
      poller.register(a, READABLE, 4);
      closeOwned(b);
      const ev = waitMap(poller, 1000).get(4)!;
      if (traits.flagsHangupAndError) assert.equal(ev & HANGUP, HANGUP);
      else assert.equal(ev & READABLE, READABLE, 'select: the hang-up shows as readability (EOF)');
      assert.equal(sys.read(a, Buffer.alloc(8), 8), 0, 'and a read sees EOF');
    });

    it('reports a hang-up whatever the interest (epoll, poll)', { skip: !traits.flagsHangupAndError }, () => {
      const [r, w] = own(...pipe());
      poller.register(r, 0, 6);
      closeOwned(w);
      assert.equal(waitMap(poller, 1000).get(6)! & HANGUP, HANGUP);
    });

    it('reports an error on a pipe whose reader is gone', () => {
      const [r, w] = own(...pipe());
      poller.register(w, WRITABLE, 8);
      closeOwned(r);
      const ev = waitMap(poller, 1000).get(8)!;
      if (traits.flagsHangupAndError) assert.equal(ev & ERROR, ERROR);
      else assert.equal(ev & WRITABLE, WRITABLE, 'select: the error shows as writability');
      assert.equal(-sys.write(w, Buffer.from('x'), 1), E.EPIPE, 'and a write sees EPIPE');
    });

    it('reports a registered fd closed behind its back as ERROR (poll, select)', { skip: !traits.reportsClosedFd }, () => {
      const [efd] = [eventfd(1)];
      poller.register(efd, READABLE, 11);
      close(efd);
      assert.equal(waitMap(poller, 0).get(11), ERROR);
      poller.unregister(efd);
      assert.equal(poller.size, 0);
    });

    it('waits about as long as the timeout when nothing is ready', () => {
      const efd = own(eventfd())[0];
      poller.register(efd, READABLE, 1);
      const start = process.hrtime.bigint();
      assert.equal(poller.wait(50, new ReadyEvents(4)), 0);
      assert.ok(elapsedMs(start) >= 49, `waited ${elapsedMs(start)} ms`);
    });

    it('rounds a fractional timeout up instead of turning it into a zero-timeout poll', () => {
      const start = process.hrtime.bigint();
      assert.equal(poller.wait(0.3, new ReadyEvents(4)), 0);
      // 0.3 ms becomes 1 ms: the kernel sleeps at least that; a 0 ms poll returns in microseconds.
      assert.ok(elapsedMs(start) >= 0.3, `waited ${elapsedMs(start)} ms`);
    });

    it('returns at once from wait(0)', () => {
      const efd = own(eventfd())[0];
      poller.register(efd, READABLE, 1);
      const start = process.hrtime.bigint();
      assert.equal(poller.wait(0, new ReadyEvents(4)), 0);
      assert.ok(elapsedMs(start) < 1000);
    });

    it('treats EINTR as an early wake-up with no events', (t) => {
      const native = name === 'epoll' ? 'epoll_wait' : name satisfies 'poll' | 'select';
      t.mock.method(sys, native, () => -E.EINTR);
      assert.equal(poller.wait(-1, new ReadyEvents(4)), 0);
    });

    it('throws EEXIST when an fd is registered twice', () => {
      const efd = own(eventfd())[0];
      poller.register(efd, READABLE, 1);
      assert.throws(() => poller.register(efd, WRITABLE, 2), { code: 'EEXIST' });
      assert.equal(poller.size, 1);
    });

    it('throws ENOENT when modifying or unregistering an fd it does not watch', () => {
      const efd = own(eventfd())[0];
      assert.throws(() => poller.modify(efd, READABLE, 1), { code: 'ENOENT' });
      assert.throws(() => poller.unregister(efd), { code: 'ENOENT' });
    });

    it('throws EBADF for closed and negative fds', () => {
      const efd = eventfd();
      close(efd);
      assert.throws(() => poller.register(efd, READABLE, 1), { code: 'EBADF' });
      assert.throws(() => poller.register(-1, READABLE, 1), { code: 'EBADF' });
      assert.throws(() => poller.register(1.5, READABLE, 1), { code: 'ERR_INVALID_ARG' });
      assert.equal(poller.size, 0);
    });

    it('finds the few ready fds among 500', () => {
      const efds = own(...Array.from({ length: 500 }, () => eventfd()));
      efds.forEach((fd, i) => poller.register(fd, READABLE, 1000 + i));
      const ready = [3, 77, 250, 401, 499];
      for (const i of ready) eventfdSignal(efds[i]!);
      assert.equal(poller.size, 500);
      assert.deepEqual([...waitMap(poller, 1000).keys()].sort((a, b) => a - b), ready.map((i) => 1000 + i));
    });

    it('reports every ready fd across waits when `out` is smaller than the ready set', () => {
      const efds = own(...Array.from({ length: 200 }, () => eventfd()));
      efds.forEach((fd, i) => poller.register(fd, READABLE, i));
      const ready = [0, 40, 80, 120, 160, 199];
      for (const i of ready) eventfdSignal(efds[i]!);
      const out = new ReadyEvents(2);
      const seen = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const n = poller.wait(0, out);
        assert.equal(n, 2, 'a full buffer every time');
        for (let k = 0; k < n; k++) seen.add(out.tokens[k]!);
      }
      assert.deepEqual([...seen].sort((a, b) => a - b), ready, 'no ready fd starves');
    });

    it('waitAsync returns the events that are ready', async () => {
      const efd = own(eventfd(1))[0];
      poller.register(efd, READABLE, 2 ** 40 + 1);
      const out = new ReadyEvents(8);
      assert.equal(await poller.waitAsync(1000, out), 1);
      assert.equal(out.tokens[0], 2 ** 40 + 1);
      assert.equal(out.events[0], READABLE);
    });

    it('waitAsync wakes when an fd becomes ready during the wait, off the main thread', async () => {
      const efd = own(eventfd())[0];
      poller.register(efd, READABLE, 3);
      const out = new ReadyEvents(8);
      const timer = setTimeout(() => eventfdSignal(efd), 20); // runs only because the wait is off-thread
      const n = await poller.waitAsync(10_000, out);
      clearTimeout(timer);
      assert.equal(n, 1);
      assert.equal(out.tokens[0], 3);
    });

    it('waitAsync times out with 0 events, and refuses a second concurrent waitAsync', async () => {
      const out = new ReadyEvents(8);
      const first = poller.waitAsync(30, out);
      await assert.rejects(poller.waitAsync(30, new ReadyEvents(8)), { code: 'ERR_POLLER_BUSY' });
      assert.equal(await first, 0);
    });

    it('waitAsync counts a failed threadpool wait (errno lost) as an early wake-up', async (t) => {
      const native = name === 'epoll' ? 'epoll_wait' : name satisfies 'poll' | 'select';
      t.mock.method(sysAsync, native, async () => -1);
      assert.equal(await poller.waitAsync(-1, new ReadyEvents(4)), 0);
    });

    it('close is idempotent and later calls throw ERR_POLLER_CLOSED', () => {
      const epfd = poller.fd;
      poller.close();
      poller.close();
      if (epfd !== null) assert.ok(sys.fcntl(epfd, C.F_GETFD) < 0, 'the epoll fd is released');
      assert.equal(poller.size, 0);
      assert.throws(() => poller.wait(0, new ReadyEvents(1)), { code: 'ERR_POLLER_CLOSED' });
      assert.throws(() => poller.register(0, READABLE, 1), { code: 'ERR_POLLER_CLOSED' });
    });
  });
}
