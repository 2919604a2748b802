// Entry of the UI's worker thread: tsx's loader hooks are not inherited by worker threads in
// Node 20, so the worker registers them, then imports its TypeScript module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
