import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/loop/clock.js';
import { createLoop, getDefaultLoop } from '../../src/loop/loop.js';
import { connectUnix } from '../../src/net/connect.js';
import { EchoProtocol } from '../../src/net/echo.js';
import { createServer, defaultMaxConnections } from '../../src/net/server.js';
import { openFileLimit, withFaults, type FaultStep } from '../../src/sys/index.js';
import { requireIPv6 } from '../helpers/requires.js';
import { Collector, nodeConnect, nodeRoundTrip, sleep, trackFds, waitFor } from './helpers.js';
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
  const reported: { code?: string; what: string }[] = [];
  const server = createServer(echo, { host: '127.0.0.1', port: 0, onError: (err, what) => reported.push({ code: (err as { code?: string }).code, what }) });
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
    return { iterations, attempts, cpuMs: (cpu.user + cpu.system) / 1000, got, emfiles: faults.injected.accept4?.EMFILE };
  });
  assert.equal(result.got, 'hello', 'the connection was served once fds were available');
  assert.ok(result.attempts < 30, `accept4 was retried with backoff, not in a loop (${result.attempts} calls)`);
  assert.ok(result.iterations < 100, `the loop did not spin (${result.iterations} turns in 300 ms)`);
  assert.ok(result.cpuMs < 150, `CPU stayed low while starved (${result.cpuMs.toFixed(1)} ms in 300 ms)`);
  assert.ok(server.stats().acceptPauses >= 2, 'it backed off more than once');
  assert.deepEqual(reported, [{ code: 'EMFILE', what: 'accept' }], 'the run of EMFILE is reported once, not once per retry');
  assert.equal(server.stats().acceptErrors, result.emfiles, 'every failed accept is counted');
  server.close();
  await done();
});

test('a closed connection resumes a paused accept at once, not after the backoff timer (virtual time: the timer never fires)', async () => {
  const done = await trackFds();
  // A real poller on a clock that stands still: the 10 ms retry timer can never come due, so the
  // late connection can only be accepted by the resume that a closing connection triggers.
  const clock = new VirtualClock();
  const loop = createLoop({ clock });
  const server = createServer(echo, { host: '127.0.0.1', port: 0, loop, onError: () => {} });
  try {
    const { port } = (await server.listen()) as { port: number };
    const keep = await nodeConnect(port);
    await waitFor(() => server.connections === 1, 'the held connection');
    let starve = true;
    await withFaults({ accept4: () => (starve ? 'EMFILE' : 'pass') }, async (faults) => {
      const late = nodeRoundTrip(port, Buffer.from('late'));
      await waitFor(() => server.stats().acceptPauses >= 1, 'a pause');
      await sleep(100); // real time passes; virtual time does not: no retry
      assert.equal(faults.calls.accept4, 1, 'no timer retried accept while the clock stood still');
      starve = false;
      keep.destroy(); // the server's side closes, an fd is free: accepting resumes now
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the late connection was not accepted within 10 s of an fd freeing')), 10_000);
      });
      try {
        assert.equal(String(await Promise.race([late, stuck])), 'late');
      } finally {
        clearTimeout(timer);
      }
    });
    assert.equal(clock.now(), 0, 'virtual time never moved');
    assert.equal(server.stats().acceptPauses, 1);
  } finally {
    server.close();
    loop.close();
  }
  await done();
});

test('past maxConnections a new connection is accepted and closed at once, counted as rejected', async () => {
  const done = await trackFds();
  const server = createServer(echo, { host: '127.0.0.1', port: 0, maxConnections: 2 });
  const held: net.Socket[] = [];
  try {
    const { port } = (await server.listen()) as { port: number };
    held.push(await nodeConnect(port), await nodeConnect(port));
    await waitFor(() => server.connections === 2, 'two held connections');
    // the third gets EOF (or a reset, had its bytes arrived first) without a byte of echo
    const third = await new Promise<{ got: string; closedByServer: boolean }>((resolve) => {
      let got = '';
      const s = net.connect({ port, host: '127.0.0.1' }, () => s.write('over the cap'));
      const hang = setTimeout(() => { s.destroy(); resolve({ got, closedByServer: false }); }, 10_000);
      s.on('data', (d) => (got += d));
      s.on('error', () => {});
      s.on('close', () => { clearTimeout(hang); resolve({ got, closedByServer: true }); });
    });
    assert.deepEqual(third, { got: '', closedByServer: true }, 'the connection over the cap was closed at once, unserved');
    assert.deepEqual({ accepted: server.stats().accepted, rejected: server.stats().rejected }, { accepted: 2, rejected: 1 });
    assert.equal(server.connections, 2);
    held[0]!.destroy();
    await waitFor(() => server.connections === 1, 'a slot freed');
    assert.equal(String(await nodeRoundTrip(port, Buffer.from('room again'))), 'room again', 'below the cap connections are served again');
  } finally {
    for (const h of held) h.destroy();
    server.close();
  }
  await done();
});

test('maxConnections defaults to the open-file limit minus 128 and refuses bad values', () => {
  const { soft } = openFileLimit();
  assert.equal(defaultMaxConnections(), soft === Infinity ? Infinity : Math.max(1, soft - 128));
  assert.equal(createServer(echo).maxConnections, defaultMaxConnections());
  assert.equal(createServer(echo, { maxConnections: Infinity }).maxConnections, Infinity);
  assert.equal(createServer(echo, { maxConnections: 0 }).maxConnections, 0);
  for (const bad of [-1, 1.5, NaN, '10' as unknown as number]) {
    assert.throws(() => createServer(echo, { maxConnections: bad }), { code: 'ERR_INVALID_ARG' }, String(bad));
  }
});

test('transient accept errors are skipped or backed off from, reported only when unusual, and serving goes on', async () => {
  const done = await trackFds();
  const reported: string[] = [];
  const server = createServer(echo, { host: '127.0.0.1', port: 0, onError: (err, what) => reported.push(`${what}:${(err as { code?: string }).code}`) });
  const { port } = (await server.listen()) as { port: number };
  try {
    // a pending connection's own network error: skipped at once, nothing to report
    const skipped: FaultStep[] = ['EINTR', 'ECONNABORTED', 'EPROTO', 'ENONET', 'ENETDOWN', 'EHOSTUNREACH'];
    // the listener's trouble (resources, a firewall, a timeout): reported, backed off from, retried
    const backedOff: FaultStep[] = ['EPERM', 'ETIMEDOUT', 'ENOBUFS', 'ENOMEM', 'EMFILE', 'ENFILE'];
    for (const errno of [...skipped, ...backedOff]) {
      reported.length = 0;
      const pauses = server.stats().acceptPauses;
      // three failures in a row, then the real call
      await withFaults({ accept4: [errno, errno, errno] }, async (faults) => {
        assert.equal(String(await nodeRoundTrip(port, Buffer.from(String(errno)))), errno, `served after ${String(errno)}`);
        assert.equal(faults.injected.accept4?.[errno as string], 3);
      });
      if (skipped.includes(errno)) {
        assert.deepEqual(reported, [], `${String(errno)} is not reported`);
        assert.equal(server.stats().acceptPauses, pauses, `${String(errno)} does not pause accepting`);
      } else {
        assert.deepEqual(reported, [`accept:${String(errno)}`], `${String(errno)} is reported once for its run of three`);
        assert.equal(server.stats().acceptPauses, pauses + 3, `${String(errno)} backs off before each retry`);
      }
    }
    assert.equal(server.stats().acceptErrors, 3 * (skipped.length + backedOff.length));
  } finally {
    server.close();
  }
  await done();
});

test('an unexpected accept error does not make the loop spin: it backs off like EMFILE', async () => {
  const done = await trackFds();
  const reported: string[] = [];
  const server = createServer(echo, { host: '127.0.0.1', port: 0, onError: (err) => reported.push(String((err as { code?: string }).code)) });
  const { port } = (await server.listen()) as { port: number };
  let failing = true;
  try {
    const attempts = await withFaults({ accept4: () => (failing ? 'EINVAL' : 'pass') }, async (faults) => {
      const served = nodeRoundTrip(port, Buffer.from('after EINVAL'));
      await sleep(300);
      const n = faults.calls.accept4 ?? 0;
      failing = false;
      assert.equal(String(await served), 'after EINVAL');
      return n;
    });
    assert.ok(attempts < 30, `accept4 was retried with backoff (${attempts} calls in 300 ms), not on every turn`);
    assert.ok(server.stats().acceptPauses >= 2, 'it backed off');
    assert.deepEqual(reported, ['EINVAL'], 'reported once');
  } finally {
    server.close();
  }
  await done();
});

test('with no onError anywhere, throwing protocols and factories are logged and the process keeps serving (child process)', async () => {
  const fixture = fileURLToPath(new URL('./fixtures/throwing-protocol.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  assert.equal(code, 0, `the child survived (stderr: ${err.slice(0, 2000)})`);
  assert.match(out, /SERVED still here errors=4/, 'a well-behaved client was served after four throws');
  for (const what of ['protocol callback failed: Error: dataReceived exploded', 'protocol callback failed: Error: connectionLost exploded', 'protocol factory failed: Error: factory exploded']) {
    assert.ok(err.includes(what), `logged: ${what}`);
  }
});

test('a unix socket server applies its mode to the socket file before listening', async () => {
  const done = await trackFds();
  const dir = mkdtempSync(join(tmpdir(), 'evloop-net-'));
  try {
    for (const mode of [0o600, 0o660, 0o666]) {
      const path = join(dir, `m${mode.toString(8)}.sock`);
      const server = createServer(echo, { path, mode });
      try {
        await server.listen();
        assert.equal(statSync(path).mode & 0o777, mode, `mode ${mode.toString(8)}`);
        assert.ok(statSync(path).isSocket());
        const [tr, p] = await connectUnix(path, () => new Collector());
        tr.write('ok');
        await waitFor(() => p.received === 2, 'the echo');
        tr.close();
        await p.closed;
      } finally {
        server.close();
      }
      assert.equal(existsSync(path), false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await done();
});

test('mode is refused for TCP, abstract names and bits beyond 0o777', () => {
  assert.throws(() => createServer(echo, { port: 0, mode: 0o600 }), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => createServer(echo, { path: '\0abstract', mode: 0o600 }), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => createServer(echo, { path: '/tmp/x.sock', mode: 0o4777 }), { code: 'ERR_INVALID_ARG' });
  assert.throws(() => createServer(echo, { path: '/tmp/x.sock', mode: -1 }), { code: 'ERR_INVALID_ARG' });
});

test('a failed listen on a unix path removes the file its bind made', async () => {
  const done = await trackFds();
  const dir = mkdtempSync(join(tmpdir(), 'evloop-net-'));
  try {
    const path = join(dir, 'fail.sock');
    await withFaults({ listen: ['EADDRINUSE'] }, async () => {
      await assert.rejects(createServer(echo, { path }).listen(), { code: 'EADDRINUSE', syscall: 'listen' });
    });
    assert.equal(existsSync(path), false, 'no stale socket file is left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
