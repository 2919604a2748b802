#!/usr/bin/env node
// The `evloop` command: the lab's built JavaScript under plain node (no loader).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('evloop: the lab is not built yet: run `npm run build` in the repository root');
  process.exit(1);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
