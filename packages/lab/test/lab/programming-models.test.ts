import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPids } from '../../src/lab/cleanup.js';
import type { SvgFigure } from '../../src/lab/experiment.js';
import { experiment } from '../../src/lab/experiments/programming-models.js';
import type { ModelRun } from '../../src/lab/experiments/programming-models.js';
import { runExperiments } from '../../src/lab/runner.js';

describe('the programming-models experiment in quick mode', () => {
  it('times three tasks per model, draws the timeline, judges from its figures and leaves nothing behind', async () => {
    const { results, exitCode } = await runExperiments({ experiments: [{ experiment, number: 2 }], quick: true, outDir: null, json: false, silentProgress: true });
    assert.equal(exitCode, 0, results.experiments[0]?.error);
    const rec = results.experiments[0]!;
    const f = rec.figures as { sumMs: number; maxMs: number; models: ModelRun[]; checks: Record<string, boolean>; ratios: Record<string, number> };
    assert.deepEqual(f.models.map((m) => m.model), ['synchronous', 'threads', 'event loop']);
    for (const m of f.models) {
      assert.ok(m.totalMs > 0, `${m.model} total`);
      assert.ok(m.spans.length >= 3 * 3 * 3, `${m.model} spans`);
      for (const s of m.spans) {
        // every span lies inside the run
        assert.ok(s.start >= 0 && s.end >= s.start && s.end <= m.totalMs * 1000 + 1, `${m.model} span ${JSON.stringify(s)}`);
      }
      for (const t of m.perTask) assert.ok(t.computeMs > 0 && t.blockedMs > 0, `${m.model} task ${t.task}`);
    }
    assert.equal(f.models[1]!.threads, 3);
    assert.equal(f.models[2]!.threads, 1);
    assert.ok(f.sumMs > f.maxMs && f.maxMs > 0);
    // the verdict follows the figures
    const allPass = Object.values(f.checks).every(Boolean);
    assert.equal(rec.verdict!.holds === true, allPass);
    assert.match(rec.verdict!.text, allPass ? /claim holds/ : /claim (partly holds|does not hold)/);
    assert.match(rec.verdict!.text, new RegExp(`×${f.ratios.synchronousOverSum!.toFixed(2)}`));
    const svg = rec.charts!.find((c) => c.kind === 'svg') as SvgFigure;
    assert.match(svg.svg, /^<svg[\s\S]*<\/svg>$/);
    assert.equal((svg.svg.match(/task 1</g) ?? []).length, 3, 'one lane per task in each of the three panels');
    // nothing left behind
    assert.deepEqual(results.leftovers, { disposers: [], children: [], disposeFailures: [] });
    assert.deepEqual(childPids(), []);
  });
});
