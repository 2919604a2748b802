import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unsupportedReason } from '../../src/sys/platform.js';

const run = promisify(execFile);
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

test('linux x64/arm64 on glibc is supported; other systems, CPUs and musl are not', () => {
  const glibc = () => '7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n';
  const musl = () => '7f00-7f01 r-xp 00000000 08:01 1 /lib/ld-musl-x86_64.so.1\n';
  assert.equal(unsupportedReason('linux', 'x64', glibc), null);
  assert.equal(unsupportedReason('linux', 'arm64', glibc), null);
  assert.equal(unsupportedReason('darwin', 'arm64', glibc), 'this is darwin-arm64');
  assert.equal(unsupportedReason('linux', 'ia32', glibc), 'this is linux-ia32');
  assert.equal(unsupportedReason('linux', 'x64', musl), 'this is linux-x64 with musl libc');
});

for (const [platform, arch] of [['darwin', 'arm64'], ['linux', 'ia32']] as const) {
  test(`importing the built package as ${platform}-${arch} fails with ERR_UNSUPPORTED_PLATFORM in one line, before koffi loads`, async () => {
    // Pretend to be another platform before evloop loads, then report what the import threw and
    // whether koffi was ever loaded (it must not be: a koffi crash is what this guards against).
    const script = `
      Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });
      Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} });
      try { await import(${JSON.stringify(DIST)}); console.log('imported'); }
      catch (err) {
        const { createRequire } = await import('node:module');
        const koffiLoaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('koffi'));
        console.log(JSON.stringify({ code: err.code, message: err.message, koffiLoaded }));
      }`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    const out = JSON.parse(stdout.trim()) as { code: string; message: string; koffiLoaded: boolean };
    assert.equal(out.code, 'ERR_UNSUPPORTED_PLATFORM');
    assert.equal(out.message.split('\n').length, 1);
    assert.match(out.message, /^evloop supports linux-x64 \(glibc\) and linux-arm64 \(glibc\); this is /);
    assert.equal(out.koffiLoaded, false);
  });
}
