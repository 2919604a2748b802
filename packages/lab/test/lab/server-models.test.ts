import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPids } from '../../src/lab/cleanup.js';
import type { ServerPoint } from '../../src/lab/experiments/server-models.js';
import { experiment } from '../../src/lab/experiments/server-models.js';
import { runExperiments } from '../../src/lab/runner.js';

describe('the server-models experiment in quick mode', () => {
  it('measures five server models at two concurrencies after their start-up, judges from its figures and leaves no process behind', async () => {
    const { results, exitCode } = await runExperiments({ experiments: [{ experiment, number: 1 }], quick: true, outDir: null, json: false, silentProgress: true });
    assert.equal(exitCode, 0, results.experiments[0]?.error);
    const rec = results.experiments[0]!;
    const f = rec.figures as {
      points: ServerPoint[]; checks: Record<string, boolean>; concurrencies: number[]; referenceConcurrency: number; rpsGapLoopOverProcess: number;
      cpuGapProcessOverLoop: number | null; durationMs: number; startupMaxMs: number; serverStartMs: Record<string, number>; skipped: unknown[];
      thresholds: { processGapMin: number; loopVsThreadsMin: number };
    };
    assert.deepEqual(f.concurrencies, [1, 10]);
    assert.deepEqual([...new Set(f.points.map((p) => p.model))], ['process', 'thread', 'pool', 'evloop', 'per-core']);
    assert.equal(f.points.length, 10);
    for (const p of f.points) {
      assert.ok(p.rps >= 0 && p.peakRssMiB > 0 && p.peakProcesses >= 1 && p.stalled >= 0 && p.stalled <= p.concurrency, `${p.model}@${p.concurrency}`);
      if (p.rps > 0) assert.ok(p.latency.p50 > 0 && p.latency.p99 >= p.latency.p50 && p.cpuUsPerRequest! > 0, `${p.model}@${p.concurrency} latency and CPU`);
      // start-up is measured apart: positive, and the window after it is steady state
      assert.ok(Number.isFinite(p.startupMs) && p.startupMs > 0 && p.startupMs <= f.startupMaxMs + 500, `${p.model}@${p.concurrency} startupMs ${p.startupMs}`);
      assert.ok(p.startupCpuMs >= 0 && p.windowMs >= f.durationMs - 5, `${p.model}@${p.concurrency} window ${p.windowMs}`);
      const expect = Math.min(p.concurrency, p.capacity ?? Infinity);
      assert.ok(p.startupBoundHit ? p.up < expect : p.up >= expect, `${p.model}@${p.concurrency} up ${p.up} of ${expect}`);
      // every model answers in steady state (quick: 1 and 10 connections, within every limit)
      assert.ok(p.rps > 0, `${p.model}@${p.concurrency} served nothing in steady state`);
    }
    // quick: 10 connections fit every model's limit, nothing is starved or skipped
    assert.deepEqual(f.skipped, []);
    for (const p of f.points.filter((x) => !x.startupBoundHit)) assert.equal(p.stalled, 0, `${p.model}@${p.concurrency} stalled`);
    assert.deepEqual(Object.keys(f.serverStartMs), ['process', 'thread', 'pool', 'evloop', 'per-core']);
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
    assert.equal(f.checks.processIsSlow, f.rpsGapLoopOverProcess >= f.thresholds.processGapMin);
    assert.equal(f.checks.processCostsCpu, f.cpuGapProcessOverLoop !== null && f.cpuGapProcessOverLoop >= f.thresholds.processGapMin);
    const at = (model: string): ServerPoint => f.points.find((p) => p.model === model && p.concurrency === f.referenceConcurrency)!;
    assert.equal(f.checks.loopKeepsUpWithThreads, loop.rps >= f.thresholds.loopVsThreadsMin * Math.max(at('thread').rps, at('pool').rps));
    // the sentence quotes the steady-state figures, and the start-up as a clause of its own
    const thread = at('thread');
    assert.match(rec.verdict!.text, /^steady state at concurrency /);
    assert.match(rec.verdict!.text, new RegExp(`process per connection ${at('process').rps} req/s`));
    assert.match(rec.verdict!.text, new RegExp(`thread per connection ${thread.rps} req/s`));
    assert.match(rec.verdict!.text, new RegExp(`start-up \\(until every connection answered once\\): thread per connection [^;]* to start ${Math.min(f.referenceConcurrency, 128)} threads .*then ${thread.rps} req/s`));
    assert.deepEqual(rec.charts!.map((c) => c.id), ['rps', 'startup', 'cpu']);
    // nothing left behind: servers, their per-connection children, load generator, slow server
    assert.deepEqual(results.leftovers, { disposers: [], children: [], disposeFailures: [] });
    assert.deepEqual(childPids(), []);
  });
});
