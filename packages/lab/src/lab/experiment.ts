/**
 * The lab's model: an experiment tests one claim, measures, and returns raw figures, tables,
 * charts and a verdict computed from those figures. The runner (runner.ts) gives each experiment
 * a context: the quick flag, a progress bar, an AbortSignal (Ctrl-C) and a cleanup registry.
 */
import type { CleanupRegistry } from './cleanup.js';

/** Whether the claim held on this machine, and the sentence (with numbers) that says so. */
export interface Verdict {
  holds: boolean | 'partly';
  /** Computed from the figures, e.g. "epoll ×1.1 from N=10 to N=19700, poll ×160: claim holds". */
  text: string;
}

/** A terminal + HTML table. Cells are strings or numbers (numbers are printed as given). */
export interface LabTable {
  title: string;
  head: string[];
  rows: (string | number)[][];
}

/**
 * A chart drawn by chart.js in the report: `config` is a JSON-serialisable chart.js
 * configuration ({ type, data, options }); functions cannot be embedded.
 */
export interface ChartFigure {
  kind: 'chart';
  /** Unique within the experiment (used for the canvas id). */
  id: string;
  title: string;
  caption?: string;
  config: { type: string; data: unknown; options?: unknown };
}

/** A ready-made SVG figure (e.g. the programming-models timeline), inlined in the report. */
export interface SvgFigure {
  kind: 'svg';
  id: string;
  title: string;
  caption?: string;
  /** A complete `<svg …>…</svg>` element. */
  svg: string;
}

export type LabFigure = ChartFigure | SvgFigure;

/** What an experiment's run returns. */
export interface ExperimentResult {
  /** Every raw measurement (JSON-serialisable); copied verbatim into results.json. */
  figures: Record<string, unknown>;
  tables: LabTable[];
  charts: LabFigure[];
  verdict: Verdict;
  /** Conditions worth knowing when reading the figures (limits hit, sizes used). */
  notes?: string[];
}

/** A progress bar for one experiment. */
export interface Progress {
  /** Sets the number of steps (may be called again when the plan changes). */
  setTotal(total: number): void;
  /** Advances by `n` steps (default 1), optionally saying what runs now. */
  tick(n?: number, label?: string): void;
  /** Says what runs now without advancing. */
  label(text: string): void;
}

/** What the runner hands to `Experiment.run`. */
export interface LabContext {
  /** Small and fast (CI): every experiment together well under 60 s. */
  readonly quick: boolean;
  /** Aborted on Ctrl-C (SIGINT/SIGTERM): stop starting new work, let awaits reject. */
  readonly signal: AbortSignal;
  readonly progress: Progress;
  /**
   * Every child process, worker and server the experiment starts registers its disposer here;
   * the runner disposes whatever is left after the run, on error and on Ctrl-C.
   */
  readonly cleanup: CleanupRegistry;
  /** `--port`, when given: the first TCP port experiments may listen on (else ephemeral ports). */
  readonly basePort: number | undefined;
  /** A note line on stderr (shown under the progress bars). */
  log(line: string): void;
}

/** One experiment of the lab. */
export interface Experiment {
  /** CLI name, e.g. 'multiplexers'. */
  readonly name: string;
  /** Short human title. */
  readonly title: string;
  /** The sentence the experiment tests. */
  readonly claim: string;
  /** External commands it needs (checked before anything runs), e.g. ['wrk']. */
  readonly requires?: readonly string[];
  run(ctx: LabContext): Promise<ExperimentResult>;
}
