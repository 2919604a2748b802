import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { childPids } from '../../src/lab/cleanup.js';
import type { LabResults } from '../../src/lab/runner.js';
import { alive, ROOT, startLab } from './helpers.js';

const OUT = `${ROOT}.tmp/lab-interrupt-test`;

describe('Ctrl-C during evloop lab', () => {
  it('stops the running experiment, writes the partial report and exits 130 with nothing left behind', async () => {
    rmSync(OUT, { recursive: true, force: true });
    let sent = false;
    let children: number[] = [];
    const lab = startLab(['--quick', '--plain', '--out', OUT, 'multiplexers', 'polling-vs-events', 'blocking-scan'], (err, child) => {
      // interrupt while the busy poller spins in its worker thread (the second experiment; they run in the order)
      if (!sent && /polling-vs-events \d+\/\d+ busy polling for/.test(err)) {
        sent = true;
        children = childPids(child.pid!);
        child.kill('SIGINT');
      }
    });
    const r = await lab.done;
    assert.ok(sent, `never reached the busy poller:\n${r.stderr}`);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /SIGINT: stopping everything started/);
    const results = JSON.parse(readFileSync(`${OUT}/results.json`, 'utf8')) as LabResults;
    assert.equal(results.aborted, true);
    assert.deepEqual(results.experiments.map((e) => [e.name, e.status]), [['multiplexers', 'ok'], ['polling-vs-events', 'aborted']]);
    assert.ok(results.verdicts[0]!.holds !== null);
    assert.deepEqual(results.leftovers, { disposers: [], children: [], disposeFailures: [] });
    assert.ok(existsSync(`${OUT}/report.html`));
    assert.match(readFileSync(`${OUT}/report.html`, 'utf8'), /interrupted: partial results/);
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} of the lab is still alive`);
  });
});
