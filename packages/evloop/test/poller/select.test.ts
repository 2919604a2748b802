import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { READABLE, ReadyEvents } from '../../src/poller/poller.js';
import { SelectPoller } from '../../src/poller/select.js';
import { C, close, eventfd } from '../../src/sys/index.js';

function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('the select poller at FD_SETSIZE', () => {
  let baseline: number;
  let fds: number[];
  let poller: SelectPoller;
  let high: number;
  let edge: number;

  beforeEach(() => {
    baseline = openFdCount();
    poller = new SelectPoller();
    // Open eventfds until one lands at or above FD_SETSIZE; fds are handed out lowest first.
    fds = [];
    for (let fd = eventfd(1); ; fd = eventfd(1)) {
      fds.push(fd);
      if (fd >= C.FD_SETSIZE) break;
    }
    high = fds.at(-1)!;
    edge = fds.find((fd) => fd === C.FD_SETSIZE - 1)!;
  });

  afterEach(() => {
    poller.close();
    for (const fd of fds) close(fd);
    assert.equal(openFdCount(), baseline, 'every fd the test opened is closed');
  });

  it('refuses an fd >= 1024 with ERR_FD_SETSIZE naming the limit and the fd', () => {
    assert.throws(() => poller.register(high, READABLE, 1), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_FD_SETSIZE');
      assert.match(err.message, /FD_SETSIZE \(1024\)/);
      assert.match(err.message, new RegExp(`fd ${high}\\b`));
      return true;
    });
    assert.equal(poller.size, 0);
    assert.equal(poller.maxFd, 1023);
  });

  it('watches fd 1023, the last bit of the last fd_set word', () => {
    assert.equal(edge, 1023);
    poller.register(edge, READABLE, 42);
    const out = new ReadyEvents(4);
    assert.equal(poller.wait(0, out), 1);
    assert.equal(out.tokens[0], 42);
    assert.equal(out.events[0], READABLE);
    poller.unregister(edge);
    assert.equal(poller.wait(0, out), 0);
  });
});
