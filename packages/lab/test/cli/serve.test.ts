import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alive, startServe } from './serve-helpers.js';

describe('evloop serve', () => {
  it('prints its address, answers GET /, POST /echo and GET /stats, and exits 0 on SIGTERM', async () => {
    const s = await startServe(1);
    try {
      assert.match(s.line, /^evloop serve listening on http:\/\/127\.0\.0\.1:\d+ \(poller \w+\)$/);
      const r = await fetch(`${s.base}/`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /^text\/plain/);
      assert.equal(await r.text(), 'Hello, World!');
      const e = await fetch(`${s.base}/echo`, { method: 'POST', headers: { 'content-type': 'application/x-test' }, body: 'echo me' });
      assert.equal(e.headers.get('content-type'), 'application/x-test');
      assert.equal(await e.text(), 'echo me');
      const st = await fetch(`${s.base}/stats`);
      const stats = (await st.json()) as { loop: { iterations: number; poller: string }; server: { requests: number } };
      assert.ok(stats.loop.iterations > 0);
      assert.ok(stats.server.requests >= 3);
      const nf = await fetch(`${s.base}/missing`);
      assert.equal(nf.status, 404);
      await nf.arrayBuffer();
    } finally {
      assert.equal(await s.stop('SIGTERM'), 0);
    }
  });

  it('stops cleanly on SIGINT and runs on the poll backend too', async () => {
    const s = await startServe(1, 'poll');
    assert.match(s.line, /\(poller poll\)/);
    assert.equal(await (await fetch(`${s.base}/`)).text(), 'Hello, World!');
    assert.equal(await s.stop('SIGINT'), 0);
  });

  it('runs 2 workers on one port with SO_REUSEPORT, both answering, and leaves no worker behind', async () => {
    const s = await startServe(2);
    const pids = (/pids ([\d ]+)\)/.exec(s.line)?.[1] ?? '').trim().split(' ').map(Number);
    try {
      assert.equal(pids.length, 2, s.line);
      const seen = new Set<number>();
      // a new connection per request: the kernel spreads connections over the listeners
      for (let i = 0; i < 60 && seen.size < 2; i++) {
        const r = await fetch(`${s.base}/stats`, { headers: { connection: 'close' } });
        seen.add(((await r.json()) as { pid: number }).pid);
      }
      assert.deepEqual([...seen].sort(), [...pids].sort(), 'both workers answered');
    } finally {
      assert.equal(await s.stop('SIGTERM'), 0);
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} exited`);
  });
});
