/**
 * Runs a fixture script (test/fixtures/NAME.ts) in a child process with tsx, as
 * `node --import tsx fixture.ts`, and collects what it printed. Fixtures print one JSON line per
 * result prefixed with `RESULT `; `results` holds them parsed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface FixtureRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall time from spawn to exit (ms) */
  elapsedMs: number;
  /** true when the child was killed because it outlived `timeoutMs` */
  timedOut: boolean;
  results: Record<string, unknown>[];
}

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function runFixture(name: string, env: Record<string, string> = {}, timeoutMs = 10_000): Promise<FixtureRun> {
  const start = performance.now();
  // node --test marks its children with NODE_TEST_CONTEXT; a fixture is not a test file
  // and the EVLOOP_* settings of the parent must not leak into the environment under test
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT' && !k.startsWith('EVLOOP_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', `${FIXTURES}${name}.ts`], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const results = stdout
        .split('\n')
        .filter((l) => l.startsWith('RESULT '))
        .map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - start, timedOut, results });
    });
  });
}

/** The environments every coexistence scenario runs under: each host path the loop can take. */
export const HOST_ENVS: { name: string; env: Record<string, string> }[] = [
  { name: 'the default host (uv-poll on epoll)', env: {} },
  { name: 'the thread-wait host (EVLOOP_NO_LIBUV=1)', env: { EVLOOP_NO_LIBUV: '1' } },
  { name: 'the poll backend (EVLOOP_POLLER=poll)', env: { EVLOOP_POLLER: 'poll' } },
];
