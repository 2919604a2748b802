import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runEcho } from '../../src/cli/echo.js';
import { nodeRoundTrip, runNc, trackFds, waitFor } from '../../../evloop/test/net/helpers.js';

test('runEcho prints its address, echoes nc and Node clients, and stops when aborted', async () => {
  const done = await trackFds();
  const lines: string[] = [];
  const ac = new AbortController();
  const running = runEcho({ port: 0, host: '127.0.0.1', poller: 'epoll', print: (l) => lines.push(l), signal: ac.signal });
  await waitFor(() => lines.length === 1, 'the listening line');
  const m = /listening on 127\.0\.0\.1:(\d+) \(poller epoll\)/.exec(lines[0]!);
  assert.ok(m, lines[0]);
  const port = Number(m[1]);
  const viaNc = await runNc(['-N', '127.0.0.1', String(port)], 'hello from nc\n');
  assert.equal(String(viaNc.stdout), 'hello from nc\n');
  assert.equal(String(await nodeRoundTrip(port, Buffer.from('hello from node'))), 'hello from node');
  ac.abort();
  await running;
  await assert.rejects(nodeRoundTrip(port, Buffer.from('gone')), { code: 'ECONNREFUSED' });
  await done();
});

test('runEcho stops on SIGTERM', async () => {
  const done = await trackFds();
  const lines: string[] = [];
  const running = runEcho({ port: 0, host: '127.0.0.1', print: (l) => lines.push(l) });
  await waitFor(() => lines.length === 1, 'the listening line');
  process.kill(process.pid, 'SIGTERM');
  await running;
  assert.equal(process.listenerCount('SIGTERM'), 0, 'its signal handlers are removed');
  await done();
});
