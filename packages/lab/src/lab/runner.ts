/**
 * Runs the selected experiments in order: one progress bar each, a fresh cleanup registry per
 * experiment (disposed after it, whatever happened), Ctrl-C turned into an abort that keeps what
 * was gathered so far, then results.json, report.html and the terminal tables.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EvloopError } from 'evloop';
import { childPids, CleanupRegistry } from './cleanup.js';
import type { Experiment, LabContext } from './experiment.js';
import { describeMachine } from './machine.js';
import { assertPortFree, assertTools } from './preflight.js';
import { createProgressDisplay } from './progress.js';
import { renderReport } from './report-html.js';
import { verdictWord, type ExperimentRecord, type LabResults } from './results.js';
import { renderTerminal } from './terminal.js';

export type { ExperimentRecord, ExperimentStatus, LabResults } from './results.js';
export { verdictWord } from './results.js';

export interface RunOptions {
  experiments: { experiment: Experiment; number?: number }[];
  quick: boolean;
  /** Where report.html and results.json go (created). null: write nothing. */
  outDir: string | null;
  /** Print results.json on stdout (tables go to stderr then). */
  json: boolean;
  basePort?: number;
  /** Plain progress lines even on a TTY; or no progress at all. */
  plainProgress?: boolean;
  silentProgress?: boolean;
  /** Listen for SIGINT/SIGTERM (the CLI does; in-process tests pass their own `abort`). */
  handleSignals?: boolean;
  /** An external abort (tests). */
  abort?: AbortSignal;
  /** Print nothing on stdout/stderr (in-process tests). */
  quiet?: boolean;
}

/** How long an aborted experiment gets to return once its resources are disposed. */
const ABORT_GRACE_MS = 2000;

/** Runs the experiments; returns the results and the exit code (0 ok, 1 failures, 130 aborted). */
export async function runExperiments(opts: RunOptions): Promise<{ results: LabResults; exitCode: number }> {
  // preflight: fail before anything starts
  assertTools(opts.experiments.map(({ experiment }) => ({ experiment: experiment.name, requires: experiment.requires ?? [] })));
  if (opts.basePort !== undefined) await assertPortFree(opts.basePort);

  const controller = new AbortController();
  const display = createProgressDisplay({ plain: opts.plainProgress, silent: opts.silentProgress });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) display.log(`lab: ${sig}: stopping everything started, keeping the results gathered so far…`);
    controller.abort(new EvloopError('ERR_LAB_ABORTED', `interrupted by ${sig}`));
  };
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const onExternalAbort = (): void => controller.abort(opts.abort?.reason);
  opts.abort?.addEventListener('abort', onExternalAbort);

  const started = Date.now();
  const machine = describeMachine();
  const records: ExperimentRecord[] = [];
  const disposeFailures: string[] = [];
  const leftoverDisposers: string[] = [];
  try {
    for (const { experiment, number } of opts.experiments) {
      if (controller.signal.aborted) break;
      const bar = display.bar(experiment.name);
      const cleanup = new CleanupRegistry();
      const ctx: LabContext = {
        quick: opts.quick,
        signal: controller.signal,
        progress: bar,
        cleanup,
        basePort: opts.basePort,
        log: (line) => display.log(`${experiment.name}: ${line}`),
      };
      const t0 = performance.now();
      const base = { number, name: experiment.name, title: experiment.title, claim: experiment.claim };
      const run = Promise.resolve().then(() => experiment.run(ctx));
      run.catch(() => {}); // observed below; an aborted run may reject after we moved on
      const aborted = new Promise<'aborted'>((res) => {
        if (controller.signal.aborted) res('aborted');
        controller.signal.addEventListener('abort', () => res('aborted'), { once: true });
      });
      let record: ExperimentRecord;
      try {
        const outcome = await Promise.race([run, aborted]);
        if (outcome === 'aborted') throw controller.signal.reason;
        record = { ...base, status: 'ok', durationMs: Math.round(performance.now() - t0), ...outcome };
        bar.done(`done: ${verdictWord(outcome.verdict.holds)}`);
      } catch (err) {
        const wasAborted = controller.signal.aborted;
        if (wasAborted) {
          await cleanup.disposeAll();
          // let the experiment unwind (its awaits reject once its workers are gone)
          let grace: NodeJS.Timeout | undefined;
          await Promise.race([run.catch(() => {}), new Promise((r) => (grace = setTimeout(r, ABORT_GRACE_MS)))]);
          clearTimeout(grace);
        }
        record = { ...base, status: wasAborted ? 'aborted' : 'failed', durationMs: Math.round(performance.now() - t0), error: (err as Error)?.message ?? String(err) };
        bar.done(wasAborted ? 'aborted' : 'FAILED');
        if (!wasAborted) display.log(`${experiment.name} failed: ${(err as Error)?.stack ?? String(err)}`);
      } finally {
        await cleanup.disposeAll();
        disposeFailures.push(...cleanup.failures.map((f) => `${experiment.name}: ${f}`));
        leftoverDisposers.push(...cleanup.live().map((l) => `${experiment.name}: ${l}`));
      }
      records.push(record);
    }
  } finally {
    display.stop();
    if (opts.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    opts.abort?.removeEventListener('abort', onExternalAbort);
  }

  const results: LabResults = {
    lab: 'evloop',
    quick: opts.quick,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine,
    aborted: controller.signal.aborted,
    experiments: records,
    verdicts: records.map((r) => ({ name: r.name, holds: r.verdict?.holds ?? null, text: r.verdict?.text ?? `${r.status}${r.error ? `: ${r.error}` : ''}` })),
    leftovers: { disposers: leftoverDisposers, children: childPids(), disposeFailures },
  };

  if (opts.outDir !== null) writeReport(opts.outDir, results);
  const terminal = renderTerminal(results);
  if (opts.quiet) {
    // nothing printed
  } else if (opts.json) {
    process.stderr.write(`${terminal}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    process.stdout.write(`${terminal}\n`);
  }
  if (opts.outDir !== null && !opts.quiet) process.stderr.write(`report: ${join(resolve(opts.outDir), 'report.html')}\n`);
  const exitCode = results.aborted ? 130 : records.some((r) => r.status !== 'ok') ? 1 : 0;
  return { results, exitCode };
}

/** Writes results.json and report.html into `dir` (created if needed). */
export function writeReport(dir: string, results: LabResults): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'report.html'), renderReport(results));
}
