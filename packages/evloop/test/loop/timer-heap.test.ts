import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TimerHeap, type HeapTimer } from '../../src/loop/timer-heap.js';

/** `id` is the arming order: the tests push timers in increasing id, as the loop arms them. */
interface T extends HeapTimer {
  id: number;
  deadline: number;
}

function timer(deadline: number, id: number): T {
  return { deadline, armed: true, id };
}

/** Pops everything, returning the ids in the order they came out. */
function drain(h: TimerHeap<T>): number[] {
  const out: number[] = [];
  for (let t = h.pop(); t !== undefined; t = h.pop()) out.push(t.id);
  return out;
}

/** Queues a timer at its own deadline (the loop passes the deadline alongside the timer). */
function push(h: TimerHeap<T>, t: T): void {
  h.push(t, t.deadline);
}

function cancel(h: TimerHeap<T>, t: T): void {
  t.armed = false;
  h.noteCancelled();
}

describe('the timer heap', () => {
  it('pops timers in deadline order whatever order they were pushed in', () => {
    const h = new TimerHeap<T>();
    const deadlines = [50, 10, 40, 30, 20, 0, 60];
    deadlines.forEach((d, i) => push(h, timer(d, i)));
    assert.equal(h.size, 7);
    const order = drain(h).map((id) => deadlines[id]);
    assert.deepEqual(order, [0, 10, 20, 30, 40, 50, 60]);
    assert.equal(h.size, 0);
  });

  it('keeps arming order among timers with equal deadlines', () => {
    // a plain binary heap without a tie-break would pop the last pushed right after the first
    // (it sifts the last element down from the root)
    const h = new TimerHeap<T>();
    const deadlines = [100, 50, 100, 50, 100, 100, 50, 100, 100, 50];
    deadlines.forEach((d, seq) => push(h, timer(d, seq)));
    assert.deepEqual(drain(h), [1, 3, 6, 9, 0, 2, 4, 5, 7, 8]);
  });

  it('peek returns the earliest armed timer without removing it', () => {
    const h = new TimerHeap<T>();
    push(h, timer(20, 0));
    push(h, timer(10, 1));
    assert.equal(h.peek()?.id, 1);
    assert.equal(h.peek()?.id, 1);
    assert.equal(h.size, 2);
  });

  it('returns undefined from peek and pop when empty', () => {
    const h = new TimerHeap<T>();
    assert.equal(h.peek(), undefined);
    assert.equal(h.pop(), undefined);
  });

  it('skips cancelled timers lazily when they reach the top', () => {
    const h = new TimerHeap<T>();
    const ts = [timer(10, 0), timer(20, 1), timer(30, 2)];
    for (const t of ts) push(h, t);
    cancel(h, ts[0]!);
    cancel(h, ts[2]!);
    assert.equal(h.size, 3, 'cancelled timers stay in the heap until they surface');
    assert.equal(h.peek()?.id, 1);
    assert.equal(h.size, 2, 'the cancelled top was dropped by peek');
    assert.deepEqual(drain(h), [1]);
  });

  it('compacts once more than 1024 cancelled timers make up most of the heap', () => {
    const h = new TimerHeap<T>();
    const ts: T[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = timer(1000 + ((i * 7919) % 2000), i);
      ts.push(t);
      push(h, t);
    }
    // cancel from the back of the deadline order so none surfaces at the top on its own
    const byDeadline = [...ts].sort((a, b) => b.deadline - a.deadline);
    for (let i = 0; i < 1024; i++) cancel(h, byDeadline[i]!);
    assert.equal(h.size, 2000, '1024 cancelled of 2000: not yet compacted');
    cancel(h, byDeadline[1024]!);
    assert.equal(h.size, 2000 - 1025, 'the 1025th cancellation compacts the heap down to the live timers');
    const out = drain(h).map((id) => ts[id]!.deadline);
    assert.deepEqual(out, [...out].sort((a, b) => a - b), 'the compacted heap still pops in order');
    assert.equal(out.length, 975);
  });

  it('does not compact while cancelled timers are a minority, even past 1024', () => {
    const h = new TimerHeap<T>();
    const ts: T[] = [];
    for (let i = 0; i < 3000; i++) {
      ts.push(timer(i, i));
      push(h, ts[i]!);
    }
    for (let i = 2999; i >= 2999 - 1100; i--) cancel(h, ts[i]!);
    assert.equal(h.size, 3000);
  });

  it('keeps ordering through pushes after a compaction', () => {
    const h = new TimerHeap<T>();
    const ts: T[] = [];
    for (let i = 0; i < 1100; i++) {
      ts.push(timer(5000 - i, i));
      push(h, ts[i]!);
    }
    for (let i = 0; i < 1100 - 10; i++) cancel(h, ts[i]!);
    assert.ok(h.size < 1100, 'compacted');
    push(h, timer(1, 5000));
    push(h, timer(9999, 5001));
    const out = drain(h);
    assert.equal(out[0], 5000);
    assert.equal(out.at(-1), 5001);
    assert.deepEqual(out.slice(1, -1), [1099, 1098, 1097, 1096, 1095, 1094, 1093, 1092, 1091, 1090]);
  });

  it('agrees with a stable sort by deadline for random pushes, cancels and pops', () => {
    type Op = { kind: 'push'; deadline: number } | { kind: 'cancel'; pick: number } | { kind: 'pop' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), deadline: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const h = new TimerHeap<T>();
        const model: T[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const t = timer(o.deadline, seq++);
            push(h, t);
            model.push(t);
          } else if (o.kind === 'cancel') {
            if (model.length === 0) continue;
            const t = model.splice(o.pick % model.length, 1)[0]!;
            cancel(h, t);
          } else {
            model.sort((a, b) => a.deadline - b.deadline || a.id - b.id);
            const expected = model.shift();
            assert.equal(h.pop(), expected);
          }
        }
        model.sort((a, b) => a.deadline - b.deadline || a.id - b.id);
        assert.deepEqual(drain(h), model.map((t) => t.id));
      }),
      { numRuns: 300 },
    );
  });
});
