/**
 * The load generator (load.child.ts) in a child process, optionally pinned to CPUs with taskset,
 * registered with the cleanup registry. One process serves a whole sweep: `run` sends one set of
 * parameters and resolves with that run's result.
 */
import { spawn } from 'node:child_process';
import { EvloopError, siblingModule, nodeArgsFor } from 'evloop';
import type { LabContext } from '../experiment.js';
import type { LoadParams, LoadResult } from './load.child.js';

const CHILD = siblingModule(import.meta.url, './load.child');

export type { LoadParams, LoadResult };

export interface LoadGenerator {
  run(params: LoadParams): Promise<LoadResult>;
  close(): Promise<void>;
}

export function startLoadGenerator(ctx: LabContext, cpus?: string): LoadGenerator {
  ctx.signal.throwIfAborted();
  const args = [...nodeArgsFor(CHILD), CHILD.pathname];
  const child = cpus === undefined
    ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  ctx.cleanup.trackChild(child, 'load generator');
  let err = '';
  let out = '';
  const waiters: { resolve: (r: LoadResult) => void; reject: (e: Error) => void }[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      waiters.shift()?.resolve(JSON.parse(line) as LoadResult);
    }
  });
  child.once('exit', (code) => {
    const e = new EvloopError('ERR_LAB_CHILD', `the load generator exited (code ${code}): ${err.slice(-500)}`);
    for (const w of waiters.splice(0)) w.reject(e);
  });
  child.stdin!.on('error', () => {});
  return {
    run(params) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new EvloopError('ERR_LAB_CHILD', `the load generator is gone: ${err.slice(-500)}`));
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        child.stdin!.write(`${JSON.stringify(params)}\n`);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
