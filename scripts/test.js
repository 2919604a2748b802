#!/usr/bin/env node
// Runs every packages/*/test/**/*.test.ts through node:test, from the TypeScript sources (tsx, and
// the `evloop-source` export condition so that `import 'evloop'` resolves to packages/evloop/src).
// Builds first (incremental): the CLI's tests run bin/evloop.js, which runs the built lab.
// Node 20's --test does not expand globs, so the files are listed here. Extra arguments (file
// paths or substrings) narrow the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = ['packages/evloop/test', 'packages/lab/test']
  .flatMap(find)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test file matches ${filters.join(' ')}`);
  process.exit(2);
}
const build = spawnSync('npm', ['run', '--silent', 'build:js'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--conditions=evloop-source', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
