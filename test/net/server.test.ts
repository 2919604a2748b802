import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getDefaultLoop } from '../../src/loop/loop.js';
import { connectUnix } from '../../src/net/connect.js';
import { EchoProtocol } from '../../src/net/echo.js';
import { createServer } from '../../src/net/server.js';
import { withFaults } from '../../src/sys/index.js';
import { requireIPv6 } from '../helpers/requires.js';
import { Collector, nodeRoundTrip, sleep, trackFds, waitFor } from './helpers.js';
import net from 'node:net';

const echo = () => new EchoProtocol();

test('a TCP server reports its bound address only while it listens', async () => {
  const done = await trackFds();
  const server = createServer(echo, { host: '127.0.0.1', port: 0 });
  assert.throws(() => server.address(), { code: 'ERR_SERVER_NOT_LISTENING' });
  const addr = await server.listen();
  assert.equal(addr.family, 'IPv4');
  assert.ok((addr as { port: number }).port > 0);
  assert.deepEqual(server.address(), addr);
  assert.equal(await server.listen(), addr, 'listen() twice gives the same address');
  server.close();
  assert.throws(() => server.address(), { code: 'ERR_SERVER_NOT_LISTENING' });
  server.close(); // idempotent
  await done();
});

test('binding a port in use fails with SysError EADDRINUSE and leaks nothing', async () => {
  const done = await trackFds();
  const a = createServer(echo, { host: '127.0.0.1', port: 0 });
  const { port } = (await a.listen()) as { port: number };
  const b = createServer(echo, { host: '127.0.0.1', port });
  await assert.rejects(b.listen(), { code: 'EADDRINUSE', syscall: 'bind' });
  a.close();
  b.close();
  await done();
});

test('two listeners share a port with reusePort', async () => {
  const done = await trackFds();
  const a = createServer(echo, { host: '127.0.0.1', port: 0, reusePort: true });
  const { port } = (await a.listen()) as { port: number };
  const b = createServer(echo, { host: '127.0.0.1', port, reusePort: true });
  assert.equal(((await b.listen()) as { port: number }).port, port);
  for (let i = 0; i < 6; i++) assert.equal(String(await nodeRoundTrip(port, Buffer.from(`r${i}`))), `r${i}`);
  assert.equal(a.stats().accepted + b.stats().accepted, 6);
  a.close();
  b.close();
  await done();
});

test('a TCP server over IPv6 ::1 echoes a Node client', async (t) => {
  const skip = await requireIPv6();
  if (skip) return t.skip(skip);
  const done = await trackFds();
  const server = createServer(echo, { host: '::1', port: 0 });
  const addr = await server.listen();
  assert.equal(addr.family, 'IPv6');
  assert.equal((addr as { address: string }).address, '::1');
  const back = await nodeRoundTrip((addr as { port: number }).port, Buffer.from('over v6'), '::1');
  assert.equal(String(back), 'over v6');
  server.close();
  await done();
});

test('a unix socket server at a path serves Node and evloop clients and removes its file on close', async () => {
  const done = await trackFds();
  const dir = mkdtempSync(join(tmpdir(), 'evloop-net-'));
  const path = join(dir, 'echo.sock');
  try {
    const server = createServer(echo, { path });
    assert.deepEqual(await server.listen(), { family: 'unix', path });
    const viaNode = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = net.connect({ path, allowHalfOpen: true }, () => s.end('from node'));
      s.on('data', (d) => (got += d));
      s.on('end', () => s.end());
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    assert.equal(viaNode, 'from node');
    const [tr, p] = await connectUnix(path, () => new Collector());
    tr.write('from evloop');
    await waitFor(() => p.received === 11, 'the echo');
    tr.close();
    await p.closed;
    server.close();
    assert.equal(existsSync(path), false, 'the socket file is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await done();
});

test('an abstract unix socket server is reachable by its name', async () => {
  const done = await trackFds();
  const name = `\0evloop-test-${process.pid}-${Date.now()}`;
  const server = createServer(echo, { path: name });
  assert.deepEqual(await server.listen(), { family: 'unix', path: name });
  const [tr, p] = await connectUnix(name, () => new Collector());
  tr.write('abstract');
  await waitFor(() => p.received === 8, 'the echo');
  assert.equal(String(p.data), 'abstract');
  tr.close();
  await p.closed;
  server.close();
  await done();
});

test('EMFILE while accepting pauses the listener without spinning and accepting resumes later', async () => {
  const done = await trackFds();
  const loop = getDefaultLoop();
  const server = createServer(echo, { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  let starve = true;
  const result = await withFaults({ accept4: () => (starve ? 'EMFILE' : 'pass') }, async (faults) => {
    const client = new net.Socket();
    const echoed = new Promise<string>((resolve, reject) => {
      let got = '';
      client.on('data', (d) => {
        got += d;
        if (got.length === 5) resolve(got);
      });
      client.on('error', reject);
    });
    client.connect(port, '127.0.0.1', () => client.write('hello'));
    await waitFor(() => server.stats().acceptPauses >= 1, 'the first pause');
    const it0 = loop.stats().iterations;
    const cpu0 = process.cpuUsage();
    await sleep(300);
    const cpu = process.cpuUsage(cpu0);
    const iterations = loop.stats().iterations - it0;
    const attempts = faults.calls.accept4 ?? 0;
    starve = false;
    const got = await echoed;
    client.destroy();
    return { iterations, attempts, cpuMs: (cpu.user + cpu.system) / 1000, got };
  });
  assert.equal(result.got, 'hello', 'the connection was served once fds were available');
  assert.ok(result.attempts < 30, `accept4 was retried with backoff, not in a loop (${result.attempts} calls)`);
  assert.ok(result.iterations < 100, `the loop did not spin (${result.iterations} turns in 300 ms)`);
  assert.ok(result.cpuMs < 150, `CPU stayed low while starved (${result.cpuMs.toFixed(1)} ms in 300 ms)`);
  assert.ok(server.stats().acceptPauses >= 2, 'it backed off more than once');
  server.close();
  await done();
});

test('a closed connection frees an fd and resumes a paused accept at once', async () => {
  const done = await trackFds();
  const server = createServer(echo, { host: '127.0.0.1', port: 0 });
  const { port } = (await server.listen()) as { port: number };
  const first = await nodeRoundTrip(port, Buffer.from('one')); // warm: a connection comes and goes
  assert.equal(String(first), 'one');
  const keep = new net.Socket();
  await new Promise<void>((r) => keep.connect(port, '127.0.0.1', () => r()));
  await waitFor(() => server.connections === 1, 'the held connection');
  let starve = true;
  await withFaults({ accept4: () => (starve ? 'EMFILE' : 'pass') }, async () => {
    const late = nodeRoundTrip(port, Buffer.from('late'));
    await waitFor(() => server.stats().acceptPauses >= 1, 'a pause');
    starve = false;
    const t0 = Date.now();
    keep.destroy(); // frees a connection on the server: accepting resumes without waiting for the timer
    assert.equal(String(await late), 'late');
    assert.ok(Date.now() - t0 < 500);
  });
  server.close();
  await done();
});

test('10,000 concurrent connections from another process are accepted and served', { timeout: 120_000 }, async () => {
  const done = await trackFds();
  const N = Number(process.env.EVLOOP_MANY_CONNECTIONS ?? 10_000);
  const server = createServer(echo, { host: '127.0.0.1', port: 0, backlog: 4096 });
  const { port } = (await server.listen()) as { port: number };
  const fixture = fileURLToPath(new URL('./fixtures/many-clients.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, String(port), String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitFor(() => out.includes('CONNECTED'), 'all clients connected', 100_000);
    const [, ok, failed] = /CONNECTED (\d+) (\d+)/.exec(out)!;
    assert.equal(Number(failed), 0, 'no client failed');
    assert.equal(Number(ok), N);
    assert.equal(server.connections, N, 'the server holds every connection at once');
    assert.equal(server.stats().accepted, N);
    child.stdin.write('close\n');
    await waitFor(() => out.includes('CLOSED'), 'the clients closed', 60_000);
    await waitFor(() => server.connections === 0, 'the server side closed', 30_000);
  } finally {
    child.kill('SIGKILL');
    server.close();
  }
  await done();
});
