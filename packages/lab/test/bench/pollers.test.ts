import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pollersBench } from '../../src/bench/pollers.js';

describe('the pollers benchmark', () => {
  it('runs in quick mode and returns figures of the documented shape', async () => {
    const before = readdirSync('/proc/self/fd').length;
    const lines: string[] = [];
    const f = (await pollersBench.run({ quick: true, log: (l) => lines.push(l) })) as Record<string, unknown>;
    for (const backend of ['epoll', 'poll', 'select']) {
      const byN = f[backend] as Record<string, number>;
      assert.deepEqual(Object.keys(byN).sort(), ['100', '1000'], `${backend}: N=100 and N=1000 in quick mode`);
      for (const [n, us] of Object.entries(byN)) assert.ok(typeof us === 'number' && us > 0, `${backend} N=${n}: ${us}`);
    }
    assert.ok(Object.keys(f.select as object).every((n) => Number(n) <= 1024), 'select never above FD_SETSIZE');
    assert.ok(Array.isArray(f.notes) && (f.notes as string[]).some((n) => /FD_SETSIZE/.test(n)));
    const ratios = f.ratios as Record<string, number | null>;
    assert.ok(typeof ratios['select N=1000/N=100'] === 'number');
    assert.equal(typeof (f.targets as { epollFlat: { holds: boolean } }).epollFlat.holds, 'boolean');
    assert.ok(lines.length > 0, 'progress goes to log');
    const table = pollersBench.table(f);
    assert.match(table, /epoll/);
    assert.match(table, /target: epoll flat/);
    assert.equal(readdirSync('/proc/self/fd').length, before, 'every fd the benchmark opened is closed');
  });
});
