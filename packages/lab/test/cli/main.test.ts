import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/evloop.js', import.meta.url));

function evloop(args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the evloop command', () => {
  it('lists its subcommands with --help and exits 0', async () => {
    const r = await evloop(['--help']);
    assert.equal(r.code, 0);
    for (const name of ['start', 'lab', 'demo', 'echo', 'serve', 'bench']) assert.match(r.stdout, new RegExp(`^  ${name}\\b`, 'm'));
  });

  it('rejects an unknown command with exit code 2 and the list of commands', async () => {
    const r = await evloop(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /commands:/);
  });

  it('rejects an unknown option with exit code 2 and the usage line', async () => {
    const r = await evloop(['demo', '--nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: evloop demo/);
  });

  it('rejects a malformed number with exit code 2', async () => {
    const r = await evloop(['demo', '--clients', 'many']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--clients must be a positive integer/);
  });

  it('names its benchmarks with bench --list', async () => {
    const r = await evloop(['bench', '--list']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^timers\b/m);
    assert.match(r.stdout, /^pollers\b/m);
  });

  it('refuses an unknown benchmark with exit code 2', async () => {
    const r = await evloop(['bench', 'nosuch']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown benchmark "nosuch"/);
  });

  it('runs the demo: an echo server on the reactor answers Node clients', async () => {
    const r = await evloop(['demo', '--clients', '3', '--messages', '50']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /echo server on the reactor at 127\.0\.0\.1:\d+/);
    const m = /(\d+) echoes in/.exec(r.stdout);
    assert.equal(Number(m?.[1]), 150);
    const events = /(\d+) I\/O events dispatched/.exec(r.stdout);
    assert.ok(Number(events?.[1]) >= 150, 'every echo went through the reactor');
  });

  it('prints one JSON object for bench timers --quick --json', async () => {
    const r = await evloop(['bench', 'timers', '--quick', '--json'], 120_000);
    assert.equal(r.code, 0, r.stderr);
    const f = JSON.parse(r.stdout);
    assert.ok(f.evloop_ms > 0 && f.node_settimeout_ms > 0);
    assert.equal(f.timers, 100_000);
  });
});

describe('evloop echo', () => {
  it('serves TCP echo on the given port until SIGTERM, then exits 0', async () => {
    const { spawn } = await import('node:child_process');
    const net = await import('node:net');
    const child = spawn(process.execPath, [bin, 'echo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before listening`)));
      });
      const port = Number(/:(\d+)/.exec(line)?.[1]);
      assert.ok(port > 0, line);
      const echoed = await new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.end('ping'));
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('close', () => resolve(got));
        c.on('error', reject);
      });
      assert.equal(echoed, 'ping');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a bad poller name with exit code 2', async () => {
    const r = await evloop(['echo', '--poller', 'kqueue']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--poller must be one of epoll, poll, select/);
  });
});
