// Coroutines on evloop's timers: tasks run concurrently, one is cancelled, one times out.
// Run: node examples/tasks-and-cancellation.mjs
import { isCancelled, sleep, spawn } from 'evloop';

const started = performance.now();
const slow = spawn('slow', async (signal) => {
  await sleep(10_000, { signal });
  return 'never';
});
const quick = spawn('quick', async (signal) => {
  await sleep(50, { signal });
  return 'done in ~50 ms';
});
const bounded = spawn('bounded', async (signal) => {
  await sleep(5_000, { signal: AbortSignal.any([signal, AbortSignal.timeout(100)]) });
});

console.log('quick:', await quick);
slow.cancel('not needed any more');
try {
  await slow;
} catch (err) {
  console.log('slow:', isCancelled(err) ? 'cancelled' : err);
}
try {
  await bounded;
} catch (err) {
  console.log('bounded:', isCancelled(err) ? 'cancelled by its timeout' : err);
}
console.log(`all settled after ${Math.round(performance.now() - started)} ms, not 10 s`);
