import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createPoller, POLLER_NAMES } from '../../src/poller/default.js';
import type { PollerName } from '../../src/poller/poller.js';

describe('createPoller', () => {
  let saved: string | undefined;
  let openFds: number;
  beforeEach(() => {
    openFds = readdirSync('/proc/self/fd').length;
    saved = process.env.EVLOOP_POLLER;
    delete process.env.EVLOOP_POLLER;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.EVLOOP_POLLER;
    else process.env.EVLOOP_POLLER = saved;
    assert.equal(readdirSync('/proc/self/fd').length, openFds, 'every poller created was closed');
  });

  function nameOf(name?: PollerName | 'auto'): string {
    const p = createPoller(name);
    try {
      return p.name;
    } finally {
      p.close();
    }
  }

  it('lists the backends best first', () => {
    assert.deepEqual([...POLLER_NAMES], ['epoll', 'poll', 'select']);
  });

  it('picks epoll, the best backend, on Linux when nothing is asked for', () => {
    assert.equal(nameOf(), 'epoll');
    assert.equal(nameOf('auto'), 'epoll');
  });

  it('creates the backend that is named', () => {
    for (const name of POLLER_NAMES) assert.equal(nameOf(name), name);
  });

  it('follows EVLOOP_POLLER when no name is given', () => {
    for (const name of POLLER_NAMES) {
      process.env.EVLOOP_POLLER = name;
      assert.equal(nameOf(), name);
      assert.equal(nameOf('auto'), name);
    }
    process.env.EVLOOP_POLLER = '';
    assert.equal(nameOf(), 'epoll', 'an empty variable means auto');
  });

  it('prefers an explicit name over EVLOOP_POLLER', () => {
    process.env.EVLOOP_POLLER = 'select';
    assert.equal(nameOf('poll'), 'poll');
  });

  it('rejects unknown names with ERR_INVALID_ARG listing the valid ones', () => {
    const listsNames = (err: Error & { code?: string }) =>
      err.code === 'ERR_INVALID_ARG' && /epoll, poll, select/.test(err.message) && /kqueue/.test(err.message);
    assert.throws(() => createPoller('kqueue' as PollerName), listsNames);
    process.env.EVLOOP_POLLER = 'kqueue';
    assert.throws(() => createPoller(), listsNames);
    assert.throws(() => createPoller(42 as unknown as PollerName), { code: 'ERR_INVALID_ARG' });
  });
});
