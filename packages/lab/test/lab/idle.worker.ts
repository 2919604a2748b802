// A worker that, once told to go, spins forever (only terminate() ends it).
import { serveWorker } from '../../src/lab/worker-side.js';

serveWorker<unknown, unknown, unknown>(() => () => {
  for (;;);
});
