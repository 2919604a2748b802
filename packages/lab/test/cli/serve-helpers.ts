/** Runs `evloop serve` (through serve-child.ts) as a child process and stops it by signal. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Served {
  child: ChildProcess;
  port: number;
  base: string;
  line: string;
  output: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const CHILD = fileURLToPath(new URL('./serve-child.ts', import.meta.url));

export function startServe(workers = 1, poller = 'auto'): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=evloop-source', CHILD, String(workers), poller], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`evloop serve did not start: ${out}`));
    }, 30_000);
    const onData = (): void => {
      const m = /listening on http:\/\/[^\s]*:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      const port = Number(m[1]);
      resolve({
        child, port, base: `http://127.0.0.1:${port}`, line: out.split('\n')[0]!, output: () => out,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`evloop serve exited (${code}) before listening: ${out}`));
    });
  });
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
