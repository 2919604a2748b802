/** Helpers for benchmarks that measure each side in its own process. */
import { execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { siblingModule, nodeArgsFor } from 'evloop';

/** Runs a TypeScript fixture under tsx in a fresh process and parses the JSON line it prints last. */
export function runFixture<T>(fixture: string, args: string[], opts: { timeoutMs?: number; cpu?: number } = {}): Promise<T> {
  const script = fileURLToPath(siblingModule(import.meta.url, `./fixtures/${fixture.replace(/\.ts$/, '')}`));
  const nodeArgs = [...nodeArgsFor(script), script, ...args];
  const [cmd, argv] = opts.cpu === undefined ? [process.execPath, nodeArgs] : ['taskset', ['-c', String(opts.cpu), process.execPath, ...nodeArgs]];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${fixture} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${fixture} printed no JSON result: ${stdout}\n${stderr}`));
      }
    });
  });
}

/** The median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** SIGKILLs a benchmark's child process (if still running) and resolves once it has exited. */
export function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}
