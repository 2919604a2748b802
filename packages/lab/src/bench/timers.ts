/**
 * `evloop bench timers`: arm and fire N timers (default 1,000,000) with random deadlines spread
 * over one second; CPU milliseconds (user + sys, process.cpuUsage) spent arming and firing them,
 * evloop's loop vs Node's setTimeout, each measured in its own process in the same run, with the
 * same deadlines. Wall time would only measure the one-second spread, so CPU is the figure.
 * Target: evloop at least 2× cheaper than Node's setTimeout.
 */
import type { Benchmark, Figures } from './benchmark.js';
import { median, runFixture } from './child.js';

interface ChildResult {
  cpu_ms: number;
  wall_ms: number;
  fired: number;
}

const TARGET_RATIO = 2;

export const timersBench: Benchmark = {
  name: 'timers',
  description: 'arm and fire 1,000,000 timers over one second: CPU ms, evloop vs Node setTimeout',
  async run({ quick, log }) {
    const count = quick ? 100_000 : 1_000_000;
    const rounds = quick ? 1 : 3;
    const evloop: number[] = [];
    const node: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const seed = String(1 + r);
      // alternate the order so neither side always runs on a warmer machine
      const order = r % 2 === 0 ? (['evloop', 'node'] as const) : (['node', 'evloop'] as const);
      for (const impl of order) {
        log(`timers: round ${r + 1}/${rounds}, ${impl}, ${count} timers`);
        const res = await runFixture<ChildResult>('timers-child.ts', [impl, String(count), seed]);
        if (res.fired !== count) throw new Error(`${impl} fired ${res.fired} of ${count} timers`);
        (impl === 'evloop' ? evloop : node).push(res.cpu_ms);
      }
    }
    const evloop_ms = median(evloop);
    const node_settimeout_ms = median(node);
    return {
      timers: count,
      rounds,
      evloop_ms,
      node_settimeout_ms,
      ratio_node_over_evloop: node_settimeout_ms / evloop_ms,
      target_ratio: TARGET_RATIO,
      samples: { evloop, node },
    };
  },
  table(f: Figures) {
    const ratio = f.ratio_node_over_evloop as number;
    return [
      `timers: ${f.timers} timers over 1 s, CPU ms (median of ${f.rounds})`,
      `  evloop               ${(f.evloop_ms as number).toFixed(0).padStart(7)} ms`,
      `  Node setTimeout      ${(f.node_settimeout_ms as number).toFixed(0).padStart(7)} ms`,
      `  Node / evloop        ${ratio.toFixed(2).padStart(7)}×   target ≥ ${TARGET_RATIO}×: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
    ].join('\n');
  },
};
