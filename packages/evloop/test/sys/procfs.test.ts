import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuTicks, procStat } from '../../src/sys/procfs.js';

describe('reading /proc', () => {
  it('gives the fields after the command name: state, then the parent pid', () => {
    const f = procStat(process.pid);
    assert.ok(f);
    assert.match(f[0]!, /^[RSD]$/);
    assert.equal(Number(f[1]), process.ppid);
  });

  it('returns null for a process that does not exist', () => {
    assert.equal(procStat(2 ** 22 + 12345), null);
    assert.deepEqual(cpuTicks(2 ** 22 + 12345), { user: 0, sys: 0 });
  });

  it('counts the CPU ticks a busy process spends', () => {
    const before = cpuTicks(process.pid);
    const end = performance.now() + 100;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    const after = cpuTicks(process.pid);
    assert.ok(x > 0);
    assert.ok(after.user + after.sys - (before.user + before.sys) >= 3, '100 ms of spinning is at least 3 ticks of 10 ms');
  });
});
