import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPids } from '../../src/lab/cleanup.js';
import type { ServerPoint } from '../../src/lab/experiments/server-models.js';
import { experiment } from '../../src/lab/experiments/server-models.js';
import { runExperiments } from '../../src/lab/runner.js';

describe('the server-models experiment in quick mode', () => {
  it('measures five server models at two concurrencies, judges from its figures and leaves no process behind', async () => {
    const { results, exitCode } = await runExperiments({ experiments: [{ experiment, number: 1 }], quick: true, outDir: null, json: false, silentProgress: true });
    assert.equal(exitCode, 0, results.experiments[0]?.error);
    const rec = results.experiments[0]!;
    const f = rec.figures as { points: ServerPoint[]; checks: Record<string, boolean>; concurrencies: number[]; referenceConcurrency: number; rpsGapLoopOverProcess: number };
    assert.deepEqual(f.concurrencies, [1, 10]);
    assert.deepEqual([...new Set(f.points.map((p) => p.model))], ['process', 'thread', 'pool', 'evloop', 'per-core']);
    assert.equal(f.points.length, 10);
    for (const p of f.points) {
      assert.ok(p.rps >= 0 && p.peakRssMiB > 0 && p.peakProcesses >= 1 && p.stalled >= 0 && p.stalled <= p.concurrency, `${p.model}@${p.concurrency}`);
      if (p.rps > 0) assert.ok(p.latency.p50 > 0 && p.latency.p99 >= p.latency.p50 && p.cpuUsPerRequest! > 0, `${p.model}@${p.concurrency} latency and CPU`);
    }
    // the event loop answers at every concurrency, without errors
    for (const p of f.points.filter((x) => x.model === 'evloop')) {
      assert.ok(p.rps > 0);
      assert.deepEqual(p.errors, { connect: 0, reset: 0, timeout: 0, status: 0 });
      assert.equal(p.stalled, 0);
    }
    // a process per request shows up as processes in the tree
    assert.ok(f.points.find((p) => p.model === 'process' && p.concurrency === 10)!.peakProcesses > 1);
    // the verdict follows the figures
    const allPass = Object.values(f.checks).every(Boolean);
    assert.equal(rec.verdict!.holds === true, allPass);
    assert.match(rec.verdict!.text, allPass ? /claim holds$/ : /claim (partly holds|does not hold)/);
    const loop = f.points.find((p) => p.model === 'evloop' && p.concurrency === f.referenceConcurrency)!;
    assert.match(rec.verdict!.text, new RegExp(`one event loop \\(${loop.rps} req/s\\)`));
    assert.equal(f.checks.processIsSlow, f.rpsGapLoopOverProcess >= 3);
    assert.deepEqual(rec.charts!.map((c) => c.id), ['rps', 'cpu']);
    // nothing left behind: servers, their per-connection children, load generator, slow server
    assert.deepEqual(results.leftovers, { disposers: [], children: [], disposeFailures: [] });
    assert.deepEqual(childPids(), []);
  });
});
