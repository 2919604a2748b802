/**
 * Real clients nobody here wrote, against `evloop serve` in a child process: curl, Node's fetch
 * (undici) and wrk. A client that is not installed skips its test locally and fails it under CI
 * (scripts/install-system-deps.sh installs curl and wrk).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requireTool } from '../../../evloop/test/helpers/requires.js';
import { startServe, type Served } from './serve-helpers.js';

const run = promisify(execFile);

describe('real clients against evloop serve', () => {
  let s: Served;
  before(async () => {
    s = await startServe(1);
  });
  after(async () => {
    assert.equal(await s.stop('SIGTERM'), 0);
  });

  it('curl gets Hello, World! twice over one reused connection', async (t) => {
    const skip = requireTool('curl');
    if (skip) return t.skip(skip);
    const { stdout, stderr } = await run('curl', ['-sv', `${s.base}/`, `${s.base}/`]);
    assert.equal(stdout, 'Hello, World!Hello, World!');
    assert.match(stderr, /Re-using existing connection|Reusing existing connection/);
    assert.match(stderr, /< Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT/);
  });

  it('curl posts a file to /echo and gets it back byte for byte, with 100-continue for a large one', async (t) => {
    const skip = requireTool('curl');
    if (skip) return t.skip(skip);
    const { stdout: small } = await run('curl', ['-s', '-H', 'Content-Type: text/csv', '--data-binary', 'a,b\n1,2\n', `${s.base}/echo`]);
    assert.equal(small, 'a,b\n1,2\n');
    // curl sends Expect: 100-continue for bodies over 1 MiB
    const { stdout: big } = await run('sh', ['-c', `head -c 3000000 /dev/zero | tr '\\0' x | curl -sv --data-binary @- -H 'Content-Type: text/plain' ${s.base}/echo 2>/tmp/evloop-curl-$$.err | wc -c; grep -c '100 Continue' /tmp/evloop-curl-$$.err; rm -f /tmp/evloop-curl-$$.err`]);
    const [bytes, continues] = big.trim().split(/\s+/).map(Number);
    assert.equal(bytes, 3_000_000);
    assert.equal(continues, 1, 'the server answered Expect: 100-continue');
  });

  it('curl sends chunked uploads and HEAD requests that the server frames right', async (t) => {
    const skip = requireTool('curl');
    if (skip) return t.skip(skip);
    const { stdout } = await run('curl', ['-s', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunked body', `${s.base}/echo`]);
    assert.equal(stdout, 'chunked body');
    const { stdout: head } = await run('curl', ['-sI', `${s.base}/`]);
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /Content-Length: 13\r\n/i);
  });

  it('Node fetch (undici) runs 200 concurrent requests, GET and POST, all answered right', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      if (i % 2 === 0) return (await fetch(`${s.base}/`)).text();
      return (await fetch(`${s.base}/echo`, { method: 'POST', body: `body ${i}` })).text();
    }));
    results.forEach((r, i) => assert.equal(r, i % 2 === 0 ? 'Hello, World!' : `body ${i}`));
  });

  it('wrk runs 1 s against it with no error and no non-2xx response', async (t) => {
    const skip = requireTool('wrk');
    if (skip) return t.skip(skip);
    const { stdout } = await run('wrk', ['-t1', '-c32', '-d1s', `${s.base}/`]);
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
    assert.ok(requests > 100, `wrk completed ${requests} requests`);
    assert.doesNotMatch(stdout, /Non-2xx or 3xx responses/);
    assert.doesNotMatch(stdout, /Socket errors/);
  });
});
