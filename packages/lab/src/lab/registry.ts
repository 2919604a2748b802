/**
 * The lab's experiments, in the order. Only implemented experiments are listed: a
 * name that is planned but not written yet is refused ("not implemented yet"), never shown as if
 * it ran. To add one: write src/lab/experiments/<name>.ts exporting `experiment: Experiment`,
 * then add its line below at its place in the order (docs/lab.md, "Adding an experiment").
 */
import type { Experiment } from './experiment.js';

export interface RegistryEntry {
  /** 1–7: the number in the lab issue. */
  readonly number: number;
  readonly name: string;
  /** Loaded on demand so `--list` and usage errors stay quick. */
  load(): Promise<Experiment>;
}

export const REGISTRY: readonly RegistryEntry[] = [
  { number: 1, name: 'server-models', load: async () => (await import('./experiments/server-models.js')).experiment },
  { number: 2, name: 'programming-models', load: async () => (await import('./experiments/programming-models.js')).experiment },
  { number: 3, name: 'multiplexers', load: async () => (await import('./experiments/multiplexers.js')).experiment },
  { number: 4, name: 'polling-vs-events', load: async () => (await import('./experiments/polling-vs-events.js')).experiment },
  { number: 5, name: 'blocking-scan', load: async () => (await import('./experiments/blocking-scan.js')).experiment },
  { number: 6, name: 'shared-state', load: async () => (await import('./experiments/shared-state.js')).experiment },
  { number: 7, name: 'cpu-vs-io', load: async () => (await import('./experiments/cpu-vs-io.js')).experiment },
];

/** Names from the issue that have no implementation yet (refused with a clear message). */
export const PLANNED: readonly string[] = ['server-models', 'programming-models', 'cpu-vs-io'].filter(
  (n) => !REGISTRY.some((e) => e.name === n),
);
