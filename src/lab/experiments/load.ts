/**
 * Runs the load generator (load.child.ts) in a child process, optionally pinned to CPUs with
 * taskset, registered with the cleanup registry; resolves with its result.
 */
import { spawn } from 'node:child_process';
import { EvloopError } from '../../errors.js';
import type { LabContext } from '../experiment.js';
import type { LoadParams, LoadResult } from './load.child.js';
import { TSX_IMPORT } from './slow-server.js';

const CHILD = new URL('./load.child.ts', import.meta.url);

export type { LoadParams, LoadResult };

export function runLoad(ctx: LabContext, params: LoadParams, cpus?: string): Promise<LoadResult> {
  ctx.signal.throwIfAborted();
  const args = ['--import', TSX_IMPORT, CHILD.pathname, JSON.stringify(params)];
  const child = cpus === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  ctx.cleanup.trackChild(child, 'load generator');
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as LoadResult);
      } catch {
        reject(new EvloopError('ERR_LAB_CHILD', `the load generator failed (code ${code}): ${err.slice(-500)}`));
      }
    });
  });
}
