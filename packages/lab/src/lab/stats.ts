/** Small statistics for the experiments: latency percentiles (hdr-histogram-js), medians, rounding. */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  /** µs */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles of latencies given in µs (3 significant digits, as HdrHistogram keeps them). */
export function summarizeUs(samplesUs: readonly number[]): LatencySummary {
  if (samplesUs.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const h = hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 3.6e9, numberOfSignificantValueDigits: 3 });
  let sum = 0;
  let max = 0;
  for (const x of samplesUs) {
    // sub-µs values still count as 1 µs: the histogram's floor
    h.recordValue(Math.max(1, Math.round(x)));
    sum += x;
    if (x > max) max = x;
  }
  const out = {
    count: samplesUs.length,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    max: round(max, 1),
    mean: round(sum / samplesUs.length, 1),
  };
  h.destroy();
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** "×12" / "×1.4": a ratio for verdict sentences. */
export function times(x: number): string {
  return `×${x >= 10 ? Math.round(x) : x.toFixed(1)}`;
}

/** A duration in µs as a short human string (µs below 1 ms, else ms). */
export function fmtUs(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 1 : 0)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
