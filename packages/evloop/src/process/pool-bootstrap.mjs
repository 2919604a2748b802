// Worker entry of the blocking-work pool (src/process/pool.ts). Plain JS on purpose: under
// Node 20 a worker ignores `execArgv: ['--import', 'tsx']`, so the TypeScript loader is
// registered here (tsx/esm/api) before the TypeScript job loop is imported.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
