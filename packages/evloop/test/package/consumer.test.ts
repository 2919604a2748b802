/**
 * evloop as a user gets it: `npm pack` of the built library, installed from the tarball into a
 * fresh project, then (a) a plain `.mjs` under plain node serves and fetches one request, (b) a
 * strict TypeScript consumer compiles against the shipped types (skipLibCheck off) and runs,
 * (c) the installed dependency tree is koffi alone. Prints the tarball's file count, the install
 * size and the import time (figures for the note, not assertions).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir = '';
let tarball = '';

async function duBytes(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const name of await readdir(path)) total += await duBytes(join(path, name));
  return total;
}

// npm pack + install + tsc take tens of seconds on a loaded 2-core machine: above the suite's 120 s default.
const SLOW = { timeout: 600_000 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evloop-consumer-'));
  const { stdout } = await run(NPM, ['pack', PACKAGE, '--json', '--pack-destination', dir], { cwd: dir, maxBuffer: 64 << 20 });
  const [info] = JSON.parse(stdout) as { filename: string; entryCount: number; size: number; unpackedSize: number; files: { path: string }[] }[];
  assert.ok(info, 'npm pack printed no result');
  tarball = join(dir, info.filename);
  const paths = info.files.map((f) => f.path);
  for (const forbidden of [/^test\//, /^bench\//, /\.test\.ts$/, /^\.ci\//, /tsbuildinfo$/]) {
    assert.deepEqual(paths.filter((p) => forbidden.test(p)), [], `the tarball holds ${forbidden}`);
  }
  for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/sys/index.js', 'dist/http/index.d.ts']) {
    assert.ok(paths.includes(needed), `the tarball lacks ${needed}`);
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await run(NPM, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeout: 300_000 });
  const size = await duBytes(join(dir, 'node_modules'));
  console.log(`tarball: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked; install: ${(size / 1048576).toFixed(1)} MiB in node_modules`);
}, SLOW);

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a plain .mjs under plain node imports evloop, serves one request and fetches it', SLOW, async () => {
  await writeFile(join(dir, 'app.mjs'), `
    const t0 = performance.now();
    const { serve } = await import('evloop');
    const importMs = performance.now() - t0;
    const server = await serve((req, res) => res.end('hello ' + req.url), { port: 0, host: '127.0.0.1' });
    const addr = server.address();
    const res = await fetch('http://127.0.0.1:' + addr.port + '/from-mjs');
    console.log(JSON.stringify({ status: res.status, body: await res.text(), importMs }));
    await server.close();
  `);
  const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: dir, timeout: 60_000 });
  const out = JSON.parse(stdout.trim()) as { status: number; body: string; importMs: number };
  assert.equal(out.status, 200);
  assert.equal(out.body, 'hello /from-mjs');
  console.log(`import('evloop') took ${out.importMs.toFixed(0)} ms under ${process.version}`);
});

test('a strict TypeScript consumer compiles against the shipped types and runs', SLOW, async () => {
  await writeFile(join(dir, 'consumer.ts'), `
    import { serve, createLoop, EvloopError, type HttpServer } from 'evloop';
    import { HttpParser } from 'evloop/http';
    import { C, SysError } from 'evloop/sys';

    const server: HttpServer = await serve((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(req.method + ' ' + req.url);
    }, { port: 0, host: '127.0.0.1' });
    const addr = server.address();
    if (addr.family === 'unix') throw new EvloopError('ERR_TEST', 'expected a TCP address');
    const res = await fetch('http://127.0.0.1:' + addr.port + '/typed');
    const kinds = [typeof HttpParser, typeof C.EPOLLIN, typeof createLoop, typeof SysError].join(',');
    console.log(JSON.stringify({ status: res.status, body: await res.text(), kinds }));
    await server.close();
  `);
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out',
      strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
      typeRoots: [join(REPO, 'node_modules/@types')], types: ['node'],
    },
    files: ['consumer.ts'],
  }));
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', '.'], { cwd: dir, timeout: 300_000 }).catch((err: { stdout?: string }) => {
    assert.fail(`tsc found errors:\n${err.stdout ?? String(err)}`);
  });
  const { stdout } = await run(process.execPath, ['out/consumer.js'], { cwd: dir, timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout.trim()), { status: 200, body: 'GET /typed', kinds: 'function,number,function,function' });
});

test('the installed dependency tree is evloop and koffi alone', SLOW, async () => {
  const { stdout } = await run(NPM, ['ls', '--all', '--json'], { cwd: dir });
  interface Node { dependencies?: Record<string, Node> }
  const names: string[] = [];
  const walk = (n: Node) => {
    for (const [name, child] of Object.entries(n.dependencies ?? {})) {
      names.push(name);
      walk(child);
    }
  };
  walk(JSON.parse(stdout) as Node);
  // koffi ships its native binary as one optional package per platform (@koromix/koffi-<os>-<cpu>).
  const installed = names.filter((n) => !/^@koromix\/koffi-[a-z0-9]+-[a-z0-9]+$/.test(n)).sort();
  assert.deepEqual(installed, ['evloop', 'koffi']);
});
