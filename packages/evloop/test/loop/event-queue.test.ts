import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TestLoop, type EventQueue } from '../../src/index.js';
import { trackFds } from '../helpers/fds.js';

type Ev = { type: 'click'; x: number } | { type: 'key'; key: string } | { type: 'tick' };

describe('the event queue', () => {
  let loop: TestLoop;
  let events: EventQueue<Ev>;
  let errors: [unknown, string][];
  let fdsBack: () => void;

  beforeEach(() => {
    fdsBack = trackFds();
    errors = [];
    loop = new TestLoop({ onError: (err, what) => errors.push([err, what]) });
    events = loop.events as EventQueue<Ev>;
  });

  afterEach(() => {
    if (!loop.closed) loop.close();
    fdsBack();
  });

  it('dispatches posted events in the loop\'s queued-events phase, not at post', () => {
    const seen: number[] = [];
    events.on('click', (e) => seen.push(e.x));
    events.post({ type: 'click', x: 1 });
    assert.deepEqual(seen, []);
    assert.equal(events.pending, 1);
    assert.equal(loop.alive, true, 'a queued event keeps the loop alive');
    loop.runOnce(0);
    assert.deepEqual(seen, [1]);
    assert.equal(events.pending, 0);
    assert.equal(events.dispatched, 1);
    assert.equal(loop.stats().eventsDispatched, 1);
  });

  it('dispatches in posting order across types, each to the handlers of its type', () => {
    const seen: string[] = [];
    events.on('click', (e) => seen.push(`click ${e.x}`));
    events.on('key', (e) => seen.push(`key ${e.key}`));
    events.on('click', (e) => seen.push(`click2 ${e.x}`));
    events.post({ type: 'click', x: 1 });
    events.post({ type: 'key', key: 'a' });
    events.post({ type: 'click', x: 2 });
    loop.runOnce(0);
    assert.deepEqual(seen, ['click 1', 'click2 1', 'key a', 'click 2', 'click2 2']);
  });

  it('runs queued events after timers and callSoon callbacks of the same turn', () => {
    const seen: string[] = [];
    events.on('tick', () => seen.push('event'));
    events.post({ type: 'tick' });
    loop.callSoon(() => seen.push('soon'));
    loop.callLater(0, () => seen.push('timer'));
    loop.runOnce(0);
    assert.deepEqual(seen, ['timer', 'soon', 'event']);
  });

  it('stops calling a handler once off() removed it, and off returns whether it was there', () => {
    let calls = 0;
    const h = (): void => {
      calls++;
    };
    events.on('tick', h);
    events.post({ type: 'tick' });
    loop.runOnce(0);
    assert.equal(events.off('tick', h), true);
    assert.equal(events.off('tick', h), false);
    assert.equal(events.off('key', h as never), false);
    events.post({ type: 'tick' }); // the type stays known
    loop.runOnce(0);
    assert.equal(calls, 1);
  });

  it('returns a remover from on()', () => {
    let calls = 0;
    const remove = events.on('tick', () => calls++);
    remove();
    events.post({ type: 'tick' });
    loop.runOnce(0);
    assert.equal(calls, 0);
  });

  it('accepts declared types with no handler and drops their events quietly', () => {
    events.declare('key', 'tick');
    events.post({ type: 'key', key: 'x' });
    loop.runOnce(0);
    assert.equal(events.dispatched, 1);
    assert.deepEqual(errors, []);
  });

  it('rejects a type never registered or declared with ERR_UNKNOWN_EVENT_TYPE, queueing nothing', () => {
    events.on('click', () => {});
    assert.throws(() => events.post({ type: 'clik' } as unknown as Ev), { code: 'ERR_UNKNOWN_EVENT_TYPE' });
    assert.equal(events.pending, 0);
    assert.equal(loop.alive, false);
  });

  it('rejects events that are not objects with a non-empty string type with ERR_INVALID_EVENT', () => {
    for (const bad of [null, undefined, 42, 'click', {}, { type: '' }, { type: 7 }]) {
      assert.throws(() => events.post(bad as unknown as Ev), { code: 'ERR_INVALID_EVENT' }, JSON.stringify(bad));
    }
    assert.throws(() => events.on('' as 'tick', () => {}), { code: 'ERR_INVALID_EVENT' });
    assert.throws(() => events.declare(3 as unknown as 'tick'), { code: 'ERR_INVALID_EVENT' });
    assert.equal(events.pending, 0);
  });

  it('rejects a handler that is not a function with ERR_INVALID_ARG', () => {
    assert.throws(() => events.on('tick', 'nope' as unknown as () => void), { code: 'ERR_INVALID_ARG' });
    assert.throws(() => events.post({ type: 'tick' }), { code: 'ERR_UNKNOWN_EVENT_TYPE' }, 'the failed on() did not make the type known');
  });

  it('applies a handler added during dispatch from the next event on', () => {
    const seen: string[] = [];
    events.on('click', (e) => {
      seen.push(`first ${e.x}`);
      if (e.x === 1) events.on('click', (e2) => seen.push(`late ${e2.x}`));
    });
    events.post({ type: 'click', x: 1 });
    events.post({ type: 'click', x: 2 });
    loop.runOnce(0);
    assert.deepEqual(seen, ['first 1', 'first 2', 'late 2']);
  });

  it('still calls, for the current event, a handler removed by an earlier handler', () => {
    const seen: string[] = [];
    const second = (): void => {
      seen.push('second');
    };
    events.on('tick', () => {
      seen.push('first');
      events.off('tick', second);
    });
    events.on('tick', second);
    events.post({ type: 'tick' });
    events.post({ type: 'tick' });
    loop.runOnce(0);
    assert.deepEqual(seen, ['first', 'second', 'first']);
  });

  it('runs events posted by handlers on the next turn', () => {
    const seen: number[] = [];
    events.on('click', (e) => {
      seen.push(e.x);
      if (e.x < 3) events.post({ type: 'click', x: e.x + 1 });
    });
    events.post({ type: 'click', x: 1 });
    loop.runOnce(0);
    assert.deepEqual(seen, [1]);
    assert.equal(events.pending, 1);
    loop.runOnce(0);
    loop.runOnce(0);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('reports a throwing handler to onError and still runs the other handlers and events', () => {
    const seen: string[] = [];
    const boom = new Error('handler boom');
    events.on('tick', () => {
      throw boom;
    });
    events.on('tick', () => seen.push('second handler'));
    events.on('key', () => seen.push('next event'));
    events.post({ type: 'tick' });
    events.post({ type: 'key', key: 'k' });
    loop.runOnce(0);
    assert.deepEqual(seen, ['second handler', 'next event']);
    assert.deepEqual(errors, [[boom, 'event:tick']]);
    assert.equal(loop.stats().errors, 1);
  });

  it('keeps order through many events posted over many turns (queue compaction)', () => {
    const seen: number[] = [];
    events.on('click', (e) => seen.push(e.x));
    let next = 0;
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 1500; i++) events.post({ type: 'click', x: next++ });
      loop.runOnce(0);
    }
    assert.equal(seen.length, next);
    assert.ok(seen.every((x, i) => x === i));
  });
});
