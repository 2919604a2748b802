/** `evloop bench <name> [--json] [--quick] [--duration S] [--connections N]`: runs one benchmark from bench/ and prints its figures. */
import type { Benchmark } from '../bench/benchmark.js';
import { EvloopError } from 'evloop';

/** The benchmarks, loaded on demand. */
const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  timers: async () => (await import('../bench/timers.js')).timersBench,
  pollers: async () => (await import('../bench/pollers.js')).pollersBench,
  echo: async () => (await import('../bench/echo.js')).echoBench,
  'idle-connections': async () => (await import('../bench/idle-connections.js')).idleConnectionsBench,
  'http-parser': async () => (await import('../bench/http-parser.js')).httpParserBench,
  http: async () => (await import('../bench/http.js')).httpBench,
  soak: async () => (await import('../bench/soak.js')).soakBench,
};

export function benchmarkNames(): string[] {
  return Object.keys(BENCHMARKS);
}

export async function runBench(names: string[], opts: { json: boolean; quick: boolean; list: boolean; duration?: number; connections?: number }): Promise<number> {
  if (opts.list) {
    for (const name of benchmarkNames()) console.log(`${name.padEnd(18)} ${(await BENCHMARKS[name]!()).description}`);
    return 0;
  }
  if (names.length !== 1) throw new EvloopError('ERR_INVALID_ARG', `name exactly one benchmark (${benchmarkNames().join(', ')})`);
  const load = BENCHMARKS[names[0]!];
  if (!load) throw new EvloopError('ERR_UNKNOWN_BENCH', `unknown benchmark "${names[0]}"; known: ${benchmarkNames().join(', ')}`);
  const bench = await load();
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const figures = await bench.run({ quick: opts.quick, duration: opts.duration, connections: opts.connections, log });
  console.log(opts.json ? JSON.stringify(figures) : bench.table(figures));
  return 0;
}
