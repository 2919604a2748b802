/**
 * `evloop lab [experiment…] [--quick] [--out DIR] [--json] [--port N] [--plain]` and
 * `evloop lab --list`: runs the lab's experiments (all implemented ones by default) and writes
 * DIR/report.html and DIR/results.json (default ./lab-report).
 *
 * Exit codes: 0 all ran; 1 an experiment failed, or the environment is not ready (missing tool,
 * port in use); 2 usage error (unknown experiment, bad option); 130 interrupted (partial report
 * written).
 */
import { parseArgs } from 'node:util';
import { REGISTRY, PLANNED } from '../lab/registry.js';
import { runExperiments } from '../lab/runner.js';

export interface LabCliOptions {
  /** Experiment names in any order (run in the order); empty: all. */
  names: string[];
  quick?: boolean;
  out?: string;
  json?: boolean;
  list?: boolean;
  /** --port as given on the command line (validated here). */
  port?: string | number;
  /** Plain progress lines even on a TTY. */
  plain?: boolean;
}

export const LAB_USAGE = 'evloop lab [experiment…] [--quick] [--out DIR] [--json] [--port N] [--plain] | evloop lab --list';

/** The parseArgs options of `evloop lab` (shared with the COMMANDS table). */
export const LAB_OPTIONS = {
  quick: { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  list: { type: 'boolean' },
  port: { type: 'string' },
  plain: { type: 'boolean' },
} as const;

/** Parses `evloop lab` arguments (used when called without main.ts's table). */
export function parseLabArgs(argv: string[]): LabCliOptions {
  const { values, positionals } = parseArgs({ args: argv, options: LAB_OPTIONS, allowPositionals: true, strict: true });
  return { names: positionals, ...values };
}

function usageError(message: string): number {
  process.stderr.write(`evloop lab: ${message}\nusage: ${LAB_USAGE}\n`);
  return 2;
}

/** Runs `evloop lab`; returns the exit code (never throws for bad input). */
export async function runLab(opts: LabCliOptions): Promise<number> {
  const known = REGISTRY.map((e) => e.name);
  if (opts.list) {
    for (const entry of REGISTRY) {
      const e = await entry.load();
      process.stdout.write(`${String(entry.number).padStart(2)}. ${e.name.padEnd(20)} ${e.claim}\n`);
    }
    for (const name of PLANNED) process.stdout.write(`    ${name.padEnd(20)} (not implemented yet)\n`);
    return 0;
  }
  const unknown = opts.names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    const planned = unknown.filter((n) => PLANNED.includes(n));
    const what = planned.length === unknown.length ? `not implemented yet: ${planned.join(', ')}` : `unknown experiment${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`;
    return usageError(`${what}\nexperiments: ${known.join(', ')}`);
  }
  let basePort: number | undefined;
  if (opts.port !== undefined) {
    basePort = Number(opts.port);
    if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65535) return usageError(`--port must be an integer 1–65535, got ${String(opts.port)}`);
  }
  if (opts.out !== undefined && opts.out.trim() === '') return usageError('--out needs a directory');

  const selected = REGISTRY.filter((e) => opts.names.length === 0 || opts.names.includes(e.name));
  const experiments = await Promise.all(selected.map(async (e) => ({ experiment: await e.load(), number: e.number })));
  try {
    const { exitCode } = await runExperiments({
      experiments,
      quick: !!opts.quick,
      outDir: opts.out ?? 'lab-report',
      json: !!opts.json,
      basePort,
      plainProgress: !!opts.plain,
      handleSignals: true,
    });
    return exitCode;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code?.startsWith('ERR_LAB_')) {
      process.stderr.write(`evloop lab: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}
