import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TestLoop, TimerHandle } from '../../src/index.js';
import { trackFds } from '../helpers/fds.js';

describe('a timer handle', () => {
  let loop: TestLoop;
  let fdsBack: () => void;

  beforeEach(() => {
    fdsBack = trackFds();
    loop = new TestLoop();
  });

  afterEach(() => {
    if (!loop.closed) loop.close();
    fdsBack();
  });

  it('is active and referenced while armed, and keeps the loop alive', () => {
    const t = loop.callLater(10, () => {});
    assert.ok(t instanceof TimerHandle);
    assert.equal(t.active, true);
    assert.equal(t.hasRef(), true);
    assert.equal(loop.alive, true);
    assert.equal(loop.stats().activeHandles, 1);
    assert.equal(loop.stats().refHandles, 1);
  });

  it('becomes inactive once it has fired, and the loop is no longer alive', () => {
    let ran = 0;
    const t = loop.callLater(10, () => ran++);
    loop.advance(10);
    assert.equal(ran, 1);
    assert.equal(t.active, false);
    assert.equal(loop.alive, false);
    assert.equal(loop.stats().activeHandles, 0);
  });

  it('does not run after cancel, and cancelling twice is harmless', () => {
    let ran = 0;
    const t = loop.callLater(10, () => ran++);
    t.cancel();
    t.cancel();
    loop.advance(50);
    assert.equal(ran, 0);
    assert.equal(t.active, false);
    assert.equal(loop.stats().activeHandles, 0);
  });

  it('does not run after close, and a second close throws ERR_HANDLE_CLOSED', () => {
    let ran = 0;
    const t = loop.callLater(10, () => ran++);
    t.close();
    assert.equal(t.closed, true);
    assert.throws(() => t.close(), { code: 'ERR_HANDLE_CLOSED' });
    loop.advance(50);
    assert.equal(ran, 0);
    assert.equal(loop.alive, false);
  });

  it('may be closed once after it fired', () => {
    const t = loop.callLater(1, () => {});
    loop.advance(1);
    t.close();
    assert.throws(() => t.close(), { code: 'ERR_HANDLE_CLOSED' });
    assert.equal(loop.stats().activeHandles, 0);
  });

  it('lets the loop end when unref\'d, yet still fires if the loop runs', () => {
    let ran = 0;
    const t = loop.callLater(10, () => ran++).unref();
    assert.equal(t.hasRef(), false);
    assert.equal(loop.alive, false, 'an unref\'d timer does not keep the loop alive');
    assert.equal(loop.stats().activeHandles, 1);
    assert.equal(loop.stats().refHandles, 0);
    loop.advance(10);
    assert.equal(ran, 1);
  });

  it('keeps the loop alive again after ref', () => {
    const t = loop.callLater(10, () => {}).unref();
    t.ref();
    assert.equal(loop.alive, true);
    assert.equal(loop.stats().refHandles, 1);
    t.unref().unref();
    assert.equal(loop.stats().refHandles, 0, 'unref twice counts once');
  });

  it('keeps its ref state across cancel without skewing the counts', () => {
    const t = loop.callLater(10, () => {}).unref();
    t.cancel();
    t.ref();
    assert.equal(loop.stats().refHandles, 0, 'an inactive handle is not counted, ref or not');
    assert.equal(loop.alive, false);
  });
});
