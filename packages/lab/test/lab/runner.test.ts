import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { childPids } from '../../src/lab/cleanup.js';
import { runExperiments, type LabResults } from '../../src/lab/runner.js';
import { failingExperiment, hangingExperiment, okExperiment } from './fixtures.js';
import { alive } from './helpers.js';

const OUT = '.tmp/lab-runner-test';
const base = { quick: true, json: false, silentProgress: true, quiet: true } as const;

describe('the lab runner', () => {
  it('runs experiments in order and writes results.json (machine, verdicts) and report.html', async () => {
    rmSync(OUT, { recursive: true, force: true });
    const { results, exitCode } = await runExperiments({ ...base, outDir: OUT, experiments: [{ experiment: okExperiment('a'), number: 1 }, { experiment: okExperiment('b'), number: 2 }] });
    assert.equal(exitCode, 0);
    assert.deepEqual(results.experiments.map((e) => e.name), ['a', 'b']);
    const json = JSON.parse(readFileSync(`${OUT}/results.json`, 'utf8')) as LabResults;
    assert.ok(json.machine.cpuModel.length > 0 && json.machine.cores > 0 && json.machine.kernel && json.machine.node.startsWith('v'));
    assert.ok(json.machine.openFileLimit.soft > 0);
    assert.deepEqual(json.verdicts, [
      { name: 'a', holds: true, text: 'x = 1: claim holds' },
      { name: 'b', holds: true, text: 'x = 1: claim holds' },
    ]);
    assert.deepEqual(json.leftovers, { disposers: [], children: [], disposeFailures: [] });
    const html = readFileSync(`${OUT}/report.html`, 'utf8');
    assert.match(html, /<section id="exp-a"/);
    assert.match(html, /<svg xmlns/);
  });

  it('reports a failing experiment, goes on with the next, and exits 1', async () => {
    const { results, exitCode } = await runExperiments({ ...base, outDir: null, experiments: [{ experiment: failingExperiment }, { experiment: okExperiment('after') }] });
    assert.equal(exitCode, 1);
    assert.equal(results.experiments[0]!.status, 'failed');
    assert.match(results.experiments[0]!.error!, /boom/);
    assert.equal(results.experiments[1]!.status, 'ok');
  });

  it('refuses to start when a required command is missing', async () => {
    const needsTool = { ...okExperiment('tool'), requires: ['evloop-no-such-tool'] };
    await assert.rejects(runExperiments({ ...base, outDir: null, experiments: [{ experiment: needsTool }] }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'ERR_LAB_MISSING_TOOL');
      assert.match(err.message, /evloop-no-such-tool \(needed by tool\)/);
      return true;
    });
  });

  it('on abort keeps the results gathered so far, and stops every child process (and its children) and worker it started', async () => {
    rmSync(OUT, { recursive: true, force: true });
    const controller = new AbortController();
    let pids: number[] = [];
    const hang = hangingExperiment((p) => {
      pids = p;
      setTimeout(() => controller.abort(), 100);
    });
    const { results, exitCode } = await runExperiments({ ...base, outDir: OUT, abort: controller.signal, experiments: [{ experiment: okExperiment('first') }, { experiment: hang }, { experiment: okExperiment('never') }] });
    assert.equal(exitCode, 130);
    assert.equal(results.aborted, true);
    assert.deepEqual(results.experiments.map((e) => [e.name, e.status]), [['first', 'ok'], ['hang', 'aborted']]);
    assert.ok(pids.length > 0);
    for (const pid of pids) assert.equal(alive(pid), false, `child ${pid} still alive`);
    assert.deepEqual(childPids(), [], 'no child process left');
    assert.deepEqual(results.leftovers.disposers, []);
    const json = JSON.parse(readFileSync(`${OUT}/results.json`, 'utf8')) as LabResults;
    assert.equal(json.aborted, true);
    assert.ok(existsSync(`${OUT}/report.html`));
  });
});
