/**
 * The lab's results schema (results.json) and the verdict wording: one module that the runner,
 * the HTML report and the terminal renderer all read, so none of them imports another.
 */
import type { ExperimentResult } from './experiment.js';
import type { MachineInfo } from './machine.js';

export type ExperimentStatus = 'ok' | 'failed' | 'aborted';

/** One experiment's entry in results.json. */
export interface ExperimentRecord extends Partial<ExperimentResult> {
  number?: number;
  name: string;
  title: string;
  claim: string;
  status: ExperimentStatus;
  durationMs: number;
  error?: string;
}

/** results.json. */
export interface LabResults {
  lab: 'evloop';
  quick: boolean;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** True when Ctrl-C stopped the run: the experiments listed are those that ran (or were cut). */
  aborted: boolean;
  experiments: ExperimentRecord[];
  verdicts: { name: string; holds: boolean | 'partly' | null; text: string }[];
  /** What the lab left behind after its own cleanup (all empty after a clean run). */
  leftovers: { disposers: string[]; children: number[]; disposeFailures: string[] };
}

/** The words for a verdict, the same in the terminal, the report and results.json. */
export function verdictWord(holds: boolean | 'partly' | null | undefined): string {
  return holds === true ? 'claim holds' : holds === 'partly' ? 'claim partly holds' : holds === false ? 'claim does NOT hold' : 'no verdict';
}
