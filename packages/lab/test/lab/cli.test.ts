import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { runLabCli } from './helpers.js';

describe('evloop lab (command line)', () => {
  it('lists the implemented experiments with their claims, and marks planned ones as not implemented', async () => {
    const r = await runLabCli(['--list']);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['multiplexers', 'polling-vs-events', 'blocking-scan', 'shared-state']) assert.match(r.stdout, new RegExp(`\\d\\. ${name}`));
    // only implemented experiments are numbered; planned ones are marked as such
    const { REGISTRY, PLANNED } = await import('../../src/lab/registry.js');
    const numbered = [...r.stdout.matchAll(/^\s*\d+\. (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(numbered, REGISTRY.map((e) => e.name));
    for (const name of PLANNED) assert.match(r.stdout, new RegExp(`${name}\\s+\\(not implemented yet\\)`));
  });

  it('refuses an unknown experiment with exit 2 and the list of experiments', async () => {
    const r = await runLabCli(['multiplexers', 'no-such-thing']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown experiment: no-such-thing/);
    assert.match(r.stderr, /experiments: .*multiplexers.*shared-state/);
    assert.equal(r.stdout, '');
  });

  it('refuses a bad option with exit 2 and the usage', async () => {
    const r = await runLabCli(['--frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown option '--frobnicate'/);
    assert.match(r.stderr, /usage: evloop lab/);
  });

  it('refuses a --port that is not a port with exit 2', async () => {
    const r = await runLabCli(['--port', 'http', 'multiplexers']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port must be an integer 1–65535/);
  });

  it('stops before running anything when --port is already in use (exit 1)', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await runLabCli(['--port', String(port), '--quick', '--out', '.tmp/lab-port-test', 'multiplexers']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`port ${port} is already in use`));
      assert.doesNotMatch(r.stderr, /\[lab\] multiplexers/, 'no experiment may start');
    } finally {
      server.close();
    }
  });
});
