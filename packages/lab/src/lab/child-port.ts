/**
 * Lab servers run in child processes and announce their port with a `PORT <n>` line on stdout;
 * these helpers start such a child (pinned to CPUs when asked) and wait for that line.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EvloopError } from 'evloop';

/** Spawns `node args…`, under `taskset -c cpus` when `cpus` is given. */
export function spawnNode(args: string[], cpus: string | undefined, options: SpawnOptions): ChildProcess {
  return cpus === undefined ? spawn(process.execPath, args, options) : spawn('taskset', ['-c', cpus, process.execPath, ...args], options);
}

/**
 * Resolves with the port the child announces (`PORT <n>` on stdout); rejects with ERR_LAB_CHILD
 * when it exits first or stays silent for `timeoutMs`. `detail` adds context to the exit error
 * (e.g. the tail of the child's stderr).
 */
export function waitForPort(child: ChildProcess, what: string, timeoutMs: number, detail: () => string = () => ''): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new EvloopError('ERR_LAB_CHILD', `the ${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
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
      const more = detail();
      reject(new EvloopError('ERR_LAB_CHILD', `the ${what} exited (code ${code}) before listening${more ? `: ${more}` : ''}`));
    });
  });
}
