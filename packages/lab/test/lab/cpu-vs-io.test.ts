import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPids } from '../../src/lab/cleanup.js';
import type { CpuIoPoint } from '../../src/lab/experiments/cpu-vs-io.js';
import { experiment } from '../../src/lab/experiments/cpu-vs-io.js';
import { runExperiments } from '../../src/lab/runner.js';

describe('the cpu-vs-io experiment in quick mode', () => {
  it('sweeps the CPU share with and without the pool, judges from its figures and leaves nothing behind', async () => {
    const { results, exitCode } = await runExperiments({ experiments: [{ experiment, number: 7 }], quick: true, outDir: null, json: false, silentProgress: true });
    assert.equal(exitCode, 0, results.experiments[0]?.error);
    const rec = results.experiments[0]!;
    const f = rec.figures as { points: CpuIoPoint[]; checks: Record<string, boolean>; idealRps: number; stopsWinningAtShare: number | null };
    assert.deepEqual(f.points.map((p) => `${p.share}${p.pool ? 'p' : ''}`), ['0', '0.25', '0.25p', '0.5', '0.5p', '0.75', '0.75p', '1', '1p']);
    for (const p of f.points) {
      assert.ok(p.rps > 0, `req/s at ${p.share}`);
      assert.ok(p.latency.p50 > 0 && p.latency.p99 >= p.latency.p50, `latency at ${p.share}`);
      assert.ok(p.lagMs.samples > 0 && p.lagMs.p99 >= 0 && p.lagMs.max >= p.lagMs.p99, `lag at ${p.share}`);
      assert.ok(Math.abs(p.cpuMs + p.ioMs - 10) < 1e-9);
    }
    // the verdict follows the figures
    const allPass = Object.values(f.checks).every(Boolean);
    assert.equal(rec.verdict!.holds === true, allPass);
    assert.match(rec.verdict!.text, allPass ? /claim holds$/ : /claim (partly holds|does not hold)/);
    assert.match(rec.verdict!.text, new RegExp(`pure I/O: ${f.points[0]!.rps} req/s`));
    if (f.stopsWinningAtShare !== null) assert.ok(f.points.find((p) => !p.pool && p.share === f.stopsWinningAtShare)!.rps < f.points[0]!.rps);
    assert.deepEqual(rec.charts!.map((c) => c.id), ['throughput', 'lag']);
    // nothing left behind
    assert.deepEqual(results.leftovers, { disposers: [], children: [], disposeFailures: [] });
    assert.deepEqual(childPids(), []);
  });
});
