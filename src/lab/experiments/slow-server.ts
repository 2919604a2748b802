/**
 * Starts the slow server (slow-server.child.ts) in a child process, registered with the cleanup
 * registry; resolves with its port once it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EvloopError } from '../../errors.js';
import type { LabContext } from '../experiment.js';

const CHILD = new URL('./slow-server.child.ts', import.meta.url);
/** tsx's loader by URL: the child finds it whatever the working directory. */
export const TSX_IMPORT = import.meta.resolve('tsx');

export interface SlowServer {
  port: number;
  child: ChildProcess;
  close(): Promise<void>;
}

/** Listens on `--port` when given, else an ephemeral port. @param cpus taskset CPU list to pin it to (e.g. '1') */
export async function startSlowServer(ctx: LabContext, cpus?: string): Promise<SlowServer> {
  const env = { ...process.env, SLOW_SERVER_PORT: String(ctx.basePort ?? 0) };
  ctx.signal.throwIfAborted();
  const args = ['--import', TSX_IMPORT, CHILD.pathname];
  const child = cpus === undefined
    ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true, env })
    : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'], detached: true, env });
  ctx.cleanup.trackChild(child, 'slow server');
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new EvloopError('ERR_LAB_CHILD', 'the slow server did not start within 20 s')), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new EvloopError('ERR_LAB_CHILD', `the slow server exited (code ${code}) before listening`));
    });
  });
  return {
    port,
    child,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
