// Blocking or CPU-heavy work off the loop: the worker pool runs a job in a thread while the loop
// keeps its timers on time.
// Run: node examples/worker-pool.mjs
import { createPool, JOBS, sleep } from 'evloop';

const pool = createPool({ size: 2 });
let ticks = 0;
const ticking = (async () => {
  for (let i = 0; i < 5; i++) {
    await sleep(20);
    ticks++;
  }
})();
const fib = await pool.run(JOBS, 'fib', [27]);
await ticking;
console.log(`fib(27) = ${fib}; the loop ticked ${ticks} times meanwhile`);
await pool.close();
