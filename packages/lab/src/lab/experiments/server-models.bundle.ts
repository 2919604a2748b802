/**
 * Bundles the blocking server thread (server-models.thread.worker.ts) into one plain-JavaScript
 * module with esbuild (tsx's own compiler), so a thread per connection starts in ~80 ms like a
 * plain Node Worker instead of ~500 ms registering tsx in every new thread: the experiment
 * measures creating threads, not compiling TypeScript. koffi stays external (a native addon); the
 * bundle lives under node_modules/.cache so it resolves it.
 */
import { buildSync } from 'esbuild';
import { renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { siblingModule } from 'evloop';

const ENTRY = fileURLToPath(siblingModule(import.meta.url, './server-models.thread.worker'));
const OUT = new URL('../../../../../node_modules/.cache/evloop-lab/', import.meta.url);

/** Builds the bundle (a cache: rebuilt by every server, replaced atomically); returns its URL. */
export function bundleThreadWorker(): URL {
  const out = new URL(`thread.worker.${process.pid}.tmp.mjs`, OUT);
  const final = new URL('thread.worker.mjs', OUT);
  buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['koffi'],
    outfile: fileURLToPath(out),
    logLevel: 'error',
    // koffi is CommonJS: the ESM bundle needs a require
    banner: { js: "import { createRequire as __labRequire } from 'node:module'; const require = __labRequire(import.meta.url);" },
  });
  renameSync(out, final);
  return final;
}
