import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KINDS, MALFORMED, soakBench, splitConnections, type SoakFigures } from '../../src/bench/soak.js';
import { trackFds } from '../../../evloop/test/helpers/fds.js';

describe('the soak benchmark', () => {
  it('splits the connections by kind: every kind at least one, the sum exact', () => {
    for (const n of [6, 500, 10_000, 12_345]) {
      const s = splitConnections(n);
      assert.equal(KINDS.reduce((a, k) => a + s[k], 0), n, `sum for ${n}`);
      for (const k of KINDS) assert.ok(s[k] >= 1, `${k} for ${n}: ${s[k]}`);
    }
    assert.deepEqual(splitConnections(10_000), { keepalive: 4500, pipelined: 500, slowreader: 100, slowloris: 2400, reset: 1250, malformed: 1250 });
  });

  // The quick soak (500 connections, 5 s) against a real server child: the goals of issue 8.
  it('quick mode: no error for well-behaved clients, every kind exercised, fds/watchers/timers back to baseline', async () => {
    const fdsBack = trackFds();
    const lines: string[] = [];
    const f = (await soakBench.run({ quick: true, log: (l) => lines.push(l) })) as SoakFigures;
    const { load, server } = f;
    const why = `\n${lines.join('\n')}\n${soakBench.table(f)}`;

    assert.equal(load.well_behaved.errors, 0, `errors seen by well-behaved clients: ${JSON.stringify(load.well_behaved.error_samples)}${why}`);
    for (const k of ['keepalive', 'pipelined'] as const) {
      assert.ok(load.kinds[k].responses > 0, `${k} got answers${why}`);
      assert.equal(load.kinds[k].responses, load.kinds[k].requests, `${k}: every request answered${why}`);
    }
    assert.ok(load.well_behaved.latency_ms.count > 0 && load.well_behaved.latency_ms.p99 > 0, `a p99 was measured${why}`);
    for (const k of KINDS) assert.ok(load.kinds[k].connections > 0, `${k} connections opened${why}`);
    assert.ok(load.kinds.slowreader.bytes_read > 0, `slow readers read part of /big${why}`);
    assert.equal(load.kinds.slowreader.statuses['200'], load.kinds.slowreader.requests, `every slow reader got a 200 head${why}`);
    assert.ok(load.kinds.slowloris.server_closed > 0, `the headers timeout cut slowloris connections${why}`);
    assert.equal(load.kinds.slowloris.detail['not cut within 2x headers timeout + 2 s'], undefined, `no slowloris outlived its headers timeout${why}`);
    for (const v of ['rst-mid-head', 'rst-after-request', 'rst-mid-response', 'rst-after-pipeline', 'destroy-mid-body']) {
      assert.ok((load.kinds.reset.detail[v] ?? 0) > 0, `reset variant ${v} ran${why}`);
    }
    for (const c of MALFORMED) {
      const answered = Object.entries(load.kinds.malformed.detail).filter(([key]) => key.startsWith(`${c.name}: `));
      assert.ok(answered.length > 0, `malformed case ${c.name} ran${why}`);
      for (const [key] of answered) assert.match(key, /: (4\d\d|505|ECONNRESET|in flight|.*still open when the load stopped)/, `malformed ${c.name} gets a 4xx: ${key}${why}`);
      assert.ok(answered.some(([key]) => /: 4\d\d$|: 505$/.test(key)), `malformed ${c.name} answered with an error status at least once${why}`);
    }
    assert.equal(load.kinds.malformed.detail['answered 2xx/3xx'], undefined, why);

    assert.ok(f.server_requests > 0, why);
    assert.equal(server.after.handlerErrors, 0, `no handler error${why}`);
    assert.equal(server.after.connections, 0, `every connection closed${why}`);
    assert.ok(server.after.fds <= server.before.fds, `server fds ${server.before.fds} -> ${server.after.fds}${why}`);
    assert.ok(server.after.watchers <= server.before.watchers, `watchers ${server.before.watchers} -> ${server.after.watchers}${why}`);
    assert.ok(server.after.timers <= server.before.timers, `timers ${server.before.timers} -> ${server.after.timers}${why}`);
    assert.ok((server.peak.connections ?? 0) > 100, `the load held connections open at once (peak ${server.peak.connections})${why}`);
    assert.ok(Object.values(f.goals).every(Boolean), `every goal met: ${JSON.stringify(f.goals)}${why}`);

    const table = soakBench.table(f);
    assert.match(table, /slowloris/);
    assert.match(table, /goals:/);
    assert.doesNotMatch(table, /MISSED/);
    fdsBack();
  });
});
