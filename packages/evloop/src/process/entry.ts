/**
 * Entry files of child processes and worker threads, resolved beside the file that starts them.
 * From the built package a sibling is `x.js` and runs under plain `node`; from the TypeScript
 * sources (the repository's tests) it is `x.ts` and its child needs tsx and the `evloop-source`
 * export condition. This is the one place that knows the difference.
 *
 * @example
 * const worker = siblingModule(import.meta.url, './cluster-worker');
 * fork(fileURLToPath(worker), [], { execArgv: nodeArgsFor(worker) });
 */

/** The sibling `relative` (without extension) of `base`, with the extension `base` itself has. */
export function siblingModule(base: string | URL, relative: string): URL {
  const href = typeof base === 'string' ? base : base.href;
  const ext = /\.(ts|mts)$/.test(href) ? '.ts' : '.js';
  return new URL(relative + ext, href);
}

/** True when `module` is TypeScript, so that whatever runs it needs a loader. */
export function isTypeScript(module: string | URL): boolean {
  return /\.(ts|mts|cts)$/.test(typeof module === 'string' ? module : module.pathname);
}

/** The Node options a child process needs to run `module`: none for JavaScript. */
export function nodeArgsFor(module: string | URL): string[] {
  return isTypeScript(module) ? ['--import', tsxLoader(), '--conditions=evloop-source'] : [];
}

// By URL, so the child finds tsx whatever its working directory; tsx is a development tool only.
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}
