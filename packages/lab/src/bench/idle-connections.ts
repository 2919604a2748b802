/**
 * Memory per idle connection: N connections (default 10,000, capped below the open-file limit)
 * held open by an evloop echo server process and by a Node `net` echo server process. Each
 * server reports its own RSS and V8 heap (after a forced GC) over stdout, before and after the
 * connections arrive; the figure is the growth divided by N. The clients live in a third
 * process (Node net) so the fds split across processes.
 *
 * Target: evloop <= 0.25 x Node per connection (RSS and heap).
 *
 * This file is also the child processes: `idle-connections.ts server-evloop|server-node|clients ...`.
 *
 * @example
 * const figures = await idleConnectionsBench.run({ quick: true, log: console.error });
 * console.log(idleConnectionsBench.table(figures));
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, BenchOptions, Figures } from './benchmark.js';
import { killAndWait } from './child.js';
import { nodeArgsFor } from 'evloop';

const SELF = fileURLToPath(import.meta.url);
const DEFAULT_N = 10_000;
const QUICK_N = 2_000;
/** fds left for Node itself in each process. */
const HEADROOM = 500;
const TARGET = 0.25;

interface PerConn {
  rss_bytes_per_conn: number;
  heap_bytes_per_conn: number;
}

interface Mem {
  rss: number;
  heap: number;
  connections: number;
}

// ---- child roles --------------------------------------------------------------------------

/** Answers each stdin line with `MEM {...}` after a full GC. */
function reportOnRequest(connections: () => number): void {
  process.stdin.setEncoding('utf8').on('data', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    console.log(`MEM ${JSON.stringify({ rss: m.rss, heap: m.heapUsed, connections: connections() })}`);
  });
}

async function serveEvloop(): Promise<void> {
  const { createServer } = await import('evloop');
  const { EchoProtocol } = await import('evloop');
  const server = createServer(() => new EchoProtocol(), { host: '127.0.0.1', port: 0, backlog: 4096 });
  const addr = (await server.listen()) as { port: number };
  reportOnRequest(() => server.connections);
  console.log(`READY ${addr.port}`);
}

function serveNode(): void {
  let n = 0;
  const server = net.createServer({ noDelay: true }, (s) => {
    n++;
    s.on('data', (d) => s.write(d));
    s.on('error', () => s.destroy());
    s.on('close', () => n--);
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    reportOnRequest(() => n);
    console.log(`READY ${(server.address() as net.AddressInfo).port}`);
  });
}

async function clients(port: number, n: number): Promise<void> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i += 500) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      batch.push(new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1' }, () => resolve());
        s.once('error', reject);
        sockets.push(s);
      }));
    }
    await Promise.all(batch);
  }
  console.log(`CONNECTED ${sockets.length}`);
  process.stdin.resume(); // held until the parent kills us
}

// ---- the harness --------------------------------------------------------------------------

function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = Number((line ?? '').replace('Max open files', '').trim().split(/\s+/)[0]);
  return Number.isFinite(soft) ? soft : 1024;
}

function spawnRole(role: string[], gc: boolean): ChildProcess {
  const args = [...(gc ? ['--expose-gc'] : []), ...nodeArgsFor(SELF), SELF, ...role];
  return spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
}

/** A line reader over a child's stdout. */
function lines(child: ChildProcess): (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray> {
  let buf = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = 0; i < waiters.length; i++) {
      const m = waiters[i]!.re.exec(buf);
      if (m) {
        buf = buf.slice(m.index + m[0].length);
        waiters.splice(i--, 1)[0]!.resolve(m);
      }
    }
  });
  return (re, timeoutMs = 60_000) => new Promise((resolve, reject) => {
    const m = re.exec(buf);
    if (m) {
      buf = buf.slice(m.index + m[0].length);
      return resolve(m);
    }
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}`)), timeoutMs);
    waiters.push({ re, resolve: (x) => { clearTimeout(timer); resolve(x); } });
  });
}

async function askMem(server: ChildProcess, next: ReturnType<typeof lines>): Promise<Mem> {
  server.stdin!.write('mem\n');
  const m = await next(/MEM (.*)\n/);
  return JSON.parse(m[1]!) as Mem;
}

async function measure(kind: 'evloop' | 'node', n: number, log: (l: string) => void): Promise<PerConn & { before: Mem; after: Mem }> {
  let server: ChildProcess | undefined;
  let cli: ChildProcess | undefined;
  try {
    server = spawnRole([kind === 'evloop' ? 'server-evloop' : 'server-node'], true);
    const next = lines(server);
    const [, port] = await next(/READY (\d+)/);
    const before = await askMem(server, next);
    cli = spawnRole(['clients', port!, String(n)], false);
    const cliNext = lines(cli);
    await cliNext(/CONNECTED (\d+)/, 120_000);
    let after = await askMem(server, next);
    for (let i = 0; i < 100 && after.connections < n; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await askMem(server, next);
    }
    if (after.connections !== n) throw new Error(`${kind} server holds ${after.connections} of ${n} connections`);
    const fig = {
      rss_bytes_per_conn: Math.round((after.rss - before.rss) / n),
      heap_bytes_per_conn: Math.round((after.heap - before.heap) / n),
      before,
      after,
    };
    log(`idle ${kind}: ${n} connections, ${fig.rss_bytes_per_conn} B RSS and ${fig.heap_bytes_per_conn} B heap per connection`);
    return fig;
  } finally {
    await killAndWait(cli);
    await killAndWait(server);
  }
}

export const idleConnectionsBench: Benchmark = {
  name: 'idle-connections',
  description: 'memory per idle connection held by an evloop server vs a Node net server',
  async run(opts: BenchOptions): Promise<Figures> {
    const wanted = Number(process.env.EVLOOP_IDLE_CONNECTIONS ?? (opts.quick ? QUICK_N : DEFAULT_N));
    const n = Math.min(wanted, openFileLimit() - HEADROOM);
    if (n < wanted) opts.log(`idle-connections: capped at ${n} (open-file limit)`);
    const e = await measure('evloop', n, opts.log);
    const node = await measure('node', n, opts.log);
    const pick = (x: PerConn): PerConn => ({ rss_bytes_per_conn: x.rss_bytes_per_conn, heap_bytes_per_conn: x.heap_bytes_per_conn });
    return {
      connections: n,
      evloop: pick(e),
      'node-net': pick(node),
      ratios: {
        rss_bytes_per_conn: Number((e.rss_bytes_per_conn / node.rss_bytes_per_conn).toFixed(3)),
        heap_bytes_per_conn: Number((e.heap_bytes_per_conn / node.heap_bytes_per_conn).toFixed(3)),
      },
    };
  },
  table(f: Figures): string {
    const e = f.evloop as PerConn;
    const n = f['node-net'] as PerConn;
    const r = f.ratios as PerConn;
    const ok = (x: number) => (x <= TARGET ? 'met' : 'NOT met');
    return [
      `${f.connections} idle connections`,
      `${'server'.padEnd(10)} ${'RSS B/conn'.padStart(12)} ${'heap B/conn'.padStart(12)}`,
      `${'evloop'.padEnd(10)} ${String(e.rss_bytes_per_conn).padStart(12)} ${String(e.heap_bytes_per_conn).padStart(12)}`,
      `${'node-net'.padEnd(10)} ${String(n.rss_bytes_per_conn).padStart(12)} ${String(n.heap_bytes_per_conn).padStart(12)}`,
      `RSS ratio ${r.rss_bytes_per_conn} (target <= ${TARGET}: ${ok(r.rss_bytes_per_conn)}), heap ratio ${r.heap_bytes_per_conn} (${ok(r.heap_bytes_per_conn)})`,
    ].join('\n');
  },
};

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [role, ...args] = process.argv.slice(2);
  if (role === 'server-evloop') await serveEvloop();
  else if (role === 'server-node') serveNode();
  else if (role === 'clients') await clients(Number(args[0]), Number(args[1]));
}
