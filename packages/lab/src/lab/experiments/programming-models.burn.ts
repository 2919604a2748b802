/** The computing part of experiment 2's tasks: a fixed amount of pure CPU work, and its calibration. */

/** Pure CPU work: `iters` integer steps (the result is returned so it is not optimised away). */
export function burn(iters: number): number {
  let x = 1;
  for (let i = 0; i < iters; i++) x = (Math.imul(x, 31) + i) | 0;
  return x;
}

/** Iterations of `burn` per millisecond on this thread (the fastest of a few tries, JIT warmed). */
export function burnItersPerMs(): number {
  let best = 0;
  let sink = 0;
  for (let k = 0; k < 7; k++) {
    const n = 2_000_000;
    const t0 = process.hrtime.bigint();
    sink ^= burn(n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (k >= 2) best = Math.max(best, n / ms);
  }
  return sink === 0.5 ? 0 : Math.round(best);
}
