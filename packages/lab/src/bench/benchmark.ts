/**
 * The benchmark harness contract. Each bench/<name>.ts exports a `Benchmark`; `evloop bench
 * <name> --json` prints the figures returned by `run` as one JSON object, and without --json the
 * human table from `table`. Figures are raw measurements; ratios against the baseline measured in
 * the same run are part of the figures (never compared with numbers from another run).
 */
export interface BenchOptions {
  /** A small, fast variant (CI smoke runs). */
  quick: boolean;
  /** Seconds of load, for the benchmarks that take it (soak); each has its own default. */
  duration?: number;
  /** Connections held at once, for the benchmarks that take it (soak). */
  connections?: number;
  /** Progress lines go here (stderr), never to stdout, so --json output stays one JSON object. */
  log: (line: string) => void;
}

export type Figures = Record<string, unknown>;

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(opts: BenchOptions): Promise<Figures>;
  /** Renders the figures as a human-readable table (with the target ratios and whether they hold). */
  table(figures: Figures): string;
}
