// Entry of every lab worker thread: tsx's loader hooks are not inherited by worker threads in
// Node 20, so each worker registers them, then imports its TypeScript module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.__labEntry);
