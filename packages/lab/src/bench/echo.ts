/**
 * Echo ping-pong: 10 concurrent clients each send a 1 KiB message and wait for its echo before
 * sending the next, against an evloop echo server and a Node `net` echo server in the same run.
 * Each server runs in its own process pinned to core 1 (`taskset -c 1`); the client is evloop's
 * own (a blocking reactor, no Node loop in the way) in its own process pinned to core 0.
 * evloop is measured twice: `evloop` is a dedicated reactor process (`runBlocking`, the way the
 * lab runs servers), `evloop-hosted` the default uv_poll host inside Node's loop.
 * Server CPU per message comes from /proc/PID/stat (utime + stime, in CLK_TCK ticks) over the
 * measured window, so it stays meaningful even when the client is the bottleneck.
 *
 * Targets: evloop's server CPU per message <= 0.5 x Node's; msgs/s >= Node's.
 *
 * This file is also the child processes: `echo.ts server-evloop|server-node|client ...`.
 *
 * @example
 * const figures = await echoBench.run({ quick: true, log: console.error });
 * console.log(echoBench.table(figures));
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuTicks } from 'evloop/sys';
import type { Benchmark, BenchOptions, Figures } from './benchmark.js';
import { killAndWait } from './child.js';
import { nodeArgsFor } from 'evloop';

const SELF = fileURLToPath(import.meta.url);
const MSG_SIZE = 1024;
const CLIENTS = 10;
const WARMUP_MS = 500;
const CPU_TARGET = 0.5;
const RATE_TARGET = 1;

interface ServerFigures {
  msgs_per_s: number;
  cpu_us_per_msg: number;
  /** the user-space part of cpu_us_per_msg (the rest is the kernel's: TCP, epoll) */
  user_us_per_msg: number;
  sys_us_per_msg: number;
  client_cpu_pct: number;
}

// ---- child roles --------------------------------------------------------------------------

/**
 * `blocking`: the process is all reactor, turns run back to back in `runBlocking` (epoll_wait
 * blocks on this thread). `hosted`: the default, Node's libuv wakes the loop (uv_poll host).
 */
async function serveEvloop(mode: 'blocking' | 'hosted'): Promise<void> {
  const { createLoop } = await import('evloop');
  const { createServer } = await import('evloop');
  const { EchoProtocol } = await import('evloop');
  const loop = createLoop({ host: mode === 'blocking' ? 'none' : 'auto' });
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0, loop });
  if (mode === 'hosted') {
    const addr = (await server.listen()) as { port: number };
    console.log(`READY ${addr.port}`);
    return;
  }
  let ready = false;
  server.listen().then((a) => { ready = true; console.log(`READY ${(a as { port: number }).port}`); }, (err) => { throw err; });
  // the DNS step of listen() needs Node's loop once; then the reactor owns the thread
  while (!ready) await new Promise((r) => setImmediate(r));
  loop.runBlocking();
}

function serveNode(): void {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => s.destroy());
  });
  server.listen(0, '127.0.0.1', () => console.log(`READY ${(server.address() as net.AddressInfo).port}`));
}

/** The ping-pong client on a blocking evloop reactor; prints START, then RESULT {...}. */
async function client(port: number, clients: number, ms: number): Promise<void> {
  const { createLoop } = await import('evloop');
  const { connect } = await import('evloop');
  const loop = createLoop({ host: 'none' });
  const msg = Buffer.alloc(MSG_SIZE, 0x78);
  let counting = false;
  let msgs = 0;
  const transports: { close(): void }[] = [];
  class PingPong {
    t!: { write(d: Uint8Array): void; close(): void };
    got = 0;
    connectionMade(t: PingPong['t']) { this.t = t; t.write(msg); }
    dataReceived(d: Buffer) {
      this.got += d.length;
      while (this.got >= MSG_SIZE) {
        this.got -= MSG_SIZE;
        if (counting) msgs++;
        if (this.got === 0) this.t.write(msg);
      }
    }
    connectionLost() {}
  }
  // connect() needs the loop turning while it waits: drive it until every client is up
  const pending = Array.from({ length: clients }, () => connect('127.0.0.1', port, () => new PingPong(), { loop }));
  let up = 0;
  pending.forEach((p) => p.then(([t]) => { transports.push(t); up++; }));
  while (up < clients) {
    loop.runOnce(10);
    await new Promise((r) => setImmediate(r));
  }
  const warmEnd = loop.now() + WARMUP_MS;
  while (loop.now() < warmEnd) loop.runOnce(10);
  console.log('START');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  counting = true;
  loop.callLater(ms, () => {
    counting = false;
    for (const t of transports) t.close();
  });
  loop.runBlocking();
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(`RESULT ${JSON.stringify({ msgs, secs, cpuUs: cpu.user + cpu.system })}`);
  loop.close();
}

// ---- the harness --------------------------------------------------------------------------

function clkTck(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}

function spawnRole(role: string[], core: number | null): ChildProcess {
  const node = [process.execPath, ...nodeArgsFor(SELF), SELF, ...role];
  const [cmd, ...args] = core === null ? node : ['taskset', '-c', String(core), ...node];
  return spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
}

/** Resolves with the first stdout line matching `re`. */
function waitLine(child: ChildProcess, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d;
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ${re}`)));
  });
}

async function measure(kind: 'evloop' | 'evloop-hosted' | 'node', ms: number, pin: boolean, tck: number, log: (l: string) => void): Promise<ServerFigures> {
  let server: ChildProcess | undefined;
  let cli: ChildProcess | undefined;
  try {
    const role = kind === 'node' ? ['server-node'] : ['server-evloop', kind === 'evloop' ? 'blocking' : 'hosted'];
    server = spawnRole(role, pin ? 1 : null);
    const [, port] = await waitLine(server, /READY (\d+)/);
    cli = spawnRole(['client', port!, String(CLIENTS), String(ms)], pin ? 0 : null);
    await waitLine(cli, /START/);
    const ticks0 = cpuTicks(server.pid!);
    const m = await waitLine(cli, /RESULT (.*)\n/, ms + 30_000);
    const ticks1 = cpuTicks(server.pid!);
    const r = JSON.parse(m[1]!) as { msgs: number; secs: number; cpuUs: number };
    const perMsg = (t: number) => Number((((t / tck) * 1e6) / r.msgs).toFixed(3));
    const user = ticks1.user - ticks0.user;
    const sys = ticks1.sys - ticks0.sys;
    const fig = {
      msgs_per_s: Math.round(r.msgs / r.secs),
      cpu_us_per_msg: perMsg(user + sys),
      user_us_per_msg: perMsg(user),
      sys_us_per_msg: perMsg(sys),
      client_cpu_pct: Number(((r.cpuUs / 1e6 / r.secs) * 100).toFixed(1)),
    };
    log(`echo ${kind}: ${fig.msgs_per_s} msgs/s, server ${fig.cpu_us_per_msg} µs CPU/msg (user ${fig.user_us_per_msg}, sys ${fig.sys_us_per_msg}), client ${fig.client_cpu_pct}% CPU`);
    return fig;
  } finally {
    await killAndWait(cli);
    await killAndWait(server);
  }
}

export const echoBench: Benchmark = {
  name: 'echo',
  description: '1 KiB ping-pong, 10 clients: evloop echo server vs Node net (server CPU per message, msgs/s)',
  async run(opts: BenchOptions): Promise<Figures> {
    const ms = opts.quick ? 1000 : 5000;
    const pin = hasTaskset();
    if (!pin) opts.log('taskset not found: processes are not pinned');
    const tck = clkTck();
    const evloop = await measure('evloop', ms, pin, tck, opts.log);
    const hosted = await measure('evloop-hosted', ms, pin, tck, opts.log);
    const node = await measure('node', ms, pin, tck, opts.log);
    return {
      evloop,
      'evloop-hosted': hosted,
      'node-net': node,
      ratios: {
        cpu_us_per_msg: Number((evloop.cpu_us_per_msg / node.cpu_us_per_msg).toFixed(3)),
        user_us_per_msg: Number((evloop.user_us_per_msg / node.user_us_per_msg).toFixed(3)),
        msgs_per_s: Number((evloop.msgs_per_s / node.msgs_per_s).toFixed(3)),
        hosted_cpu_us_per_msg: Number((hosted.cpu_us_per_msg / node.cpu_us_per_msg).toFixed(3)),
        hosted_msgs_per_s: Number((hosted.msgs_per_s / node.msgs_per_s).toFixed(3)),
      },
      params: { message_bytes: MSG_SIZE, clients: CLIENTS, seconds_each: ms / 1000, pinned: pin, clk_tck: tck },
    };
  },
  table(f: Figures): string {
    const e = f.evloop as ServerFigures;
    const n = f['node-net'] as ServerFigures;
    const r = f.ratios as { cpu_us_per_msg: number; msgs_per_s: number; user_us_per_msg: number };
    const row = (name: string, x: ServerFigures) =>
      `${name.padEnd(10)} ${String(x.msgs_per_s).padStart(10)} ${x.cpu_us_per_msg.toFixed(2).padStart(14)} ${x.user_us_per_msg.toFixed(2).padStart(10)} ${x.sys_us_per_msg.toFixed(2).padStart(10)} ${x.client_cpu_pct.toFixed(1).padStart(12)}`;
    return [
      `${'server'.padEnd(10)} ${'msgs/s'.padStart(10)} ${'µs CPU/msg'.padStart(14)} ${'user µs'.padStart(10)} ${'sys µs'.padStart(10)} ${'client CPU%'.padStart(12)}`,
      row('evloop', e),
      row('evloop-h', f['evloop-hosted'] as ServerFigures),
      row('node-net', n),
      `CPU/msg ratio ${r.cpu_us_per_msg} (target <= ${CPU_TARGET}: ${r.cpu_us_per_msg <= CPU_TARGET ? 'met' : 'NOT met'}); user-space only ${r.user_us_per_msg}`,
      `msgs/s ratio ${r.msgs_per_s} (target >= ${RATE_TARGET}: ${r.msgs_per_s >= RATE_TARGET ? 'met' : 'NOT met'})`,
    ].join('\n');
  },
};

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [role, ...args] = process.argv.slice(2);
  if (role === 'server-evloop') await serveEvloop(args[0] === 'hosted' ? 'hosted' : 'blocking');
  else if (role === 'server-node') serveNode();
  else if (role === 'client') await client(Number(args[0]), Number(args[1]), Number(args[2]));
}
