/** Fake experiments for the runner's tests. */
import { spawn } from 'node:child_process';
import type { Experiment, ExperimentResult } from '../../src/lab/experiment.js';
import { startWorker } from '../../src/lab/workers.js';

export const okExperiment = (name: string): Experiment => ({
  name,
  title: `fake ${name}`,
  claim: 'fakes run',
  async run(ctx): Promise<ExperimentResult> {
    ctx.progress.setTotal(1);
    ctx.progress.tick(1, 'done');
    return { figures: { x: 1 }, tables: [{ title: 't', head: ['a'], rows: [[1]] }], charts: [{ kind: 'svg', id: 's', title: 'svg', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>' }], verdict: { holds: true, text: 'x = 1: claim holds' } };
  },
});

/** Starts a child process (in its own group, with a grandchild) and a worker, then waits forever. */
export const hangingExperiment = (started: (pids: number[]) => void): Experiment => ({
  name: 'hang',
  title: 'hangs until aborted',
  claim: 'aborts clean up',
  async run(ctx): Promise<ExperimentResult> {
    const child = spawn('sh', ['-c', 'sleep 60 & sleep 60; wait'], { detached: true, stdio: 'ignore' });
    ctx.cleanup.trackChild(child, 'sleepers');
    const w = startWorker<unknown, unknown>(ctx, new URL('./idle.worker.ts', import.meta.url), {});
    await w.ready;
    started([child.pid!]);
    w.run({}).catch(() => {}); // rejects when the abort terminates the worker
    await new Promise(() => {}); // until aborted
    throw new Error('unreachable');
  },
});

export const failingExperiment: Experiment = {
  name: 'fails',
  title: 'throws',
  claim: 'failures are reported',
  requires: [],
  async run() {
    throw new Error('boom');
  },
};
