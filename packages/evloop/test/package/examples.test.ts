/**
 * The files of examples/ run as a user runs them: plain `node file.mjs`, no loader, so
 * `import 'evloop'` resolves to the built package (dist/) through the workspace link.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

/** What each example must print, line by line. */
const EXPECTED: Record<string, RegExp[]> = {
  'hello-http.mjs': [/^200 hello from evloop: GET \/greeting$/],
  'tcp-echo-streams.mjs': [/^echo: one$/, /^echo: two$/, /^echo: three$/],
  'tasks-and-cancellation.mjs': [/^quick: done in ~50 ms$/, /^slow: cancelled$/, /^bounded: cancelled by its timeout$/, /^all settled after \d+ ms, not 10 s$/],
  'event-queue.mjs': [/^click at 3,4$/, /^click at 10,2$/, /^key q$/, /^ERR_UNKNOWN_EVENT_TYPE$/],
  'worker-pool.mjs': [/^fib\(27\) = 196418; the loop ticked 5 times meanwhile$/],
};

test('every example has its expected output listed here', () => {
  assert.deepEqual(readdirSync(EXAMPLES).filter((f) => f.endsWith('.mjs')).sort(), Object.keys(EXPECTED).sort());
});

for (const [file, lines] of Object.entries(EXPECTED)) {
  test(`examples/${file} runs under plain node against the built package`, async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && k !== 'NODE_TEST_CONTEXT'));
    const { stdout } = await run(process.execPath, [file], { cwd: EXAMPLES, env, timeout: 60_000 });
    const out = stdout.trimEnd().split('\n');
    assert.equal(out.length, lines.length, stdout);
    lines.forEach((re, i) => assert.match(out[i]!, re));
  });
}
