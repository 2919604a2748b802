/**
 * `evloop bench http`: hello world over keep-alive connections, wrk (Debian) pinned to one core
 * and each server to another, every server measured in the same run: evloop (native API),
 * evloop through the fetch adapter, Node http, nginx (nginx-light, 1 worker, `return 200`) and
 * Bun.serve when a Bun binary is found (BUN_BIN, .cache/bun from scripts/install-bun.sh, PATH).
 *
 * Per server: req/s and p99 (plain, 64 connections), server CPU µs per request from
 * /proc/PID/stat (utime+stime of the server and its children over the run / requests), and
 * req/s with 16 requests pipelined per write (wrk + a Lua script; wrk's percentiles are not
 * meaningful there, so none are reported).
 *
 * The machines this runs on are shared: all servers start at once and the measurements
 * interleave (3 rounds × 3 s per server and mode; --quick: 1 round × 1 s), each figure the
 * median of its rounds, so a burst of outside load does not land on one server only.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { cpuTicks as procCpuTicks } from 'evloop/sys';
import type { Benchmark, BenchOptions, Figures } from './benchmark.js';
import { nodeArgsFor, siblingModule } from 'evloop';

interface ServerFigures {
  rps: number;
  p99_ms: number;
  cpu_us_per_req: number;
  rps_pipelined: number;
  cpu_us_per_req_pipelined: number;
  requests: number;
  non_2xx: number;
}

interface ServerSpec {
  name: string;
  start(port: number, cpu: string): ChildProcess;
}

/** The repository's root (the same depth from src/bench and dist/bench). */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** A fixture beside this file: `.ts` from the sources, `.js` when built. */
function fixturePath(file: string): string {
  return fileURLToPath(siblingModule(import.meta.url, `./fixtures/${file.replace(/\.ts$/, '')}`));
}
const CLK_TCK = 100;
const CONNECTIONS = 64;

const PIPELINE_LUA = `
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/") end
  req = table.concat(r)
end
request = function() return req end
`;

function pinned(cpu: string, cmd: string, args: string[], opts: { cwd?: string } = {}): ChildProcess {
  return spawn('taskset', ['-c', cpu, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? ROOT });
}

function nodeFixture(file: string, args: string[]): (port: number, cpu: string) => ChildProcess {
  return (port, cpu) => pinned(cpu, process.execPath, [...nodeArgsFor(fixturePath(file)), fixturePath(file), ...args, String(port)]);
}

function findBun(): string | null {
  const candidates = [process.env.BUN_BIN, join(ROOT, 'node_modules/.bin/bun'), join(ROOT, '.cache/bun/package/bin/bun')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'bun'))) return join(dir, 'bun');
  return null;
}

function findNginx(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  return null;
}

function nginxSpec(bin: string, dir: string): ServerSpec {
  return {
    name: 'nginx',
    start(port, cpu) {
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} error;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  default_type text/plain;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "Hello, World!"; }
  }
}
`);
      return pinned(cpu, bin, ['-c', conf, '-e', join(dir, 'error.log'), '-p', dir]);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** utime+stime (ticks) of a process and its children (nginx's worker). */
function cpuTicks(pid: number): number {
  let total = 0;
  const pids = [pid];
  try {
    for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) if (t) pids.push(Number(t));
  } catch {
    // no children file: the process alone
  }
  for (const p of pids) {
    const t = procCpuTicks(p); // zeros for a process that exited
    total += t.user + t.sys;
  }
  return total;
}

function waitListening(child: ChildProcess, port: number, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => check(true), 15_000);
    const probe = setInterval(() => check(false), 100);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('LISTENING')) done();
    };
    const done = () => {
      clearTimeout(timer);
      clearInterval(probe);
      resolve();
    };
    // nginx prints nothing: probe the port instead
    const check = (final: boolean) => {
      if (name !== 'nginx') {
        if (final) reject(new Error(`${name} did not start: ${out}`));
        return;
      }
      const s = spawn('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`]);
      let code = '';
      s.stdout.on('data', (d: Buffer) => (code += d.toString()));
      s.on('close', () => {
        if (code === '200') done();
        else if (final) reject(new Error(`${name} did not start`));
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(probe);
      reject(new Error(`${name} exited (${code}): ${out}`));
    });
  });
}

interface WrkResult {
  requests: number;
  rps: number;
  p99_ms: number;
  non_2xx: number;
}

function parseDuration(v: string, unit: string): number {
  const x = Number(v);
  return unit === 'us' ? x / 1000 : unit === 's' ? x * 1000 : unit === 'm' ? x * 60_000 : x;
}

function wrk(cpu: string, port: number, seconds: number, script?: string): Promise<WrkResult> {
  const args = ['-c', cpu, 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency'];
  if (script) args.push('-s', script);
  args.push(`http://127.0.0.1:${port}/`);
  return new Promise((resolve, reject) => {
    execFile('taskset', args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}`));
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)/.exec(stdout);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      const errors = /Socket errors: (.*)/.exec(stdout)?.[1];
      if (errors && /read [1-9]|write [1-9]|timeout [1-9]/.test(errors)) process.stderr.write(`wrk: socket errors: ${errors}\n`);
      resolve({ requests, rps, p99_ms: p99 ? parseDuration(p99[1]!, p99[2]!) : NaN, non_2xx: non2xx });
    });
  });
}

interface Running {
  spec: ServerSpec;
  child: ChildProcess;
  port: number;
}

async function startServer(spec: ServerSpec, cpu: string): Promise<Running> {
  const port = await freePort();
  const child = spec.start(port, cpu);
  try {
    await waitListening(child, port, spec.name);
  } catch (err) {
    await stopServer(child);
    throw err;
  }
  return { spec, child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise<void>((r) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
}

interface Sample {
  rps: number;
  p99_ms: number;
  cpu: number;
  requests: number;
  non_2xx: number;
}

/** One wrk run against one server, with the server's CPU time over it. */
async function sample(s: Running, cpu: string, seconds: number, script?: string): Promise<Sample> {
  const t0 = cpuTicks(s.child.pid!);
  const w = await wrk(cpu, s.port, seconds, script);
  const t1 = cpuTicks(s.child.pid!);
  return { rps: w.rps, p99_ms: w.p99_ms, cpu: ((t1 - t0) / CLK_TCK) * 1e6 / Math.max(1, w.requests), requests: w.requests, non_2xx: w.non_2xx };
}

function summarize(plain: Sample[], piped: Sample[]): ServerFigures {
  const med = (xs: number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    const m = v.length >> 1;
    return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
  };
  return {
    rps: Math.round(med(plain.map((x) => x.rps))),
    p99_ms: med(plain.map((x) => x.p99_ms)),
    cpu_us_per_req: round2(med(plain.map((x) => x.cpu))),
    rps_pipelined: Math.round(med(piped.map((x) => x.rps))),
    cpu_us_per_req_pipelined: round2(med(piped.map((x) => x.cpu))),
    requests: [...plain, ...piped].reduce((a, x) => a + x.requests, 0),
    non_2xx: [...plain, ...piped].reduce((a, x) => a + x.non_2xx, 0),
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const ratio = (a: number | undefined, b: number | undefined): number | null => (a && b ? round2(a / b) : null);

export const httpBench: Benchmark = {
  name: 'http',
  description: 'hello world over keep-alive (64 conns), plain and pipelined ×16: evloop vs Node http, nginx, Bun (wrk, pinned cores)',
  async run(opts: BenchOptions): Promise<Figures> {
    const seconds = opts.quick ? 1 : 3;
    const rounds = opts.quick ? 1 : 3;
    const cores = availableParallelism();
    const cpus = cores >= 2 ? { server: '1', client: '0' } : { server: '0', client: '0' };
    const dir = mkdtempSync(join(tmpdir(), 'evloop-bench-http-'));
    const pipeScript = join(dir, 'pipeline.lua');
    writeFileSync(pipeScript, PIPELINE_LUA);
    const specs: ServerSpec[] = [
      { name: 'evloop', start: nodeFixture('http-evloop.ts', ['native']) },
      { name: 'evloop-fetch', start: nodeFixture('http-evloop.ts', ['fetch']) },
      { name: 'node-http', start: nodeFixture('http-node.ts', []) },
    ];
    const nginx = findNginx();
    if (nginx) specs.push(nginxSpec(nginx, dir));
    else opts.log('nginx not found (scripts/install-system-deps.sh installs nginx-light): skipped');
    const bun = findBun();
    if (bun) specs.push({ name: 'bun', start: (port, cpu) => pinned(cpu, bun, [fixturePath('http-bun.ts'), String(port)]) });
    else opts.log('bun not found (scripts/install-bun.sh fetches one): skipped');
    const servers: Record<string, ServerFigures> = {};
    // Every server runs for the whole benchmark (idle ones cost nothing) and the rounds
    // interleave them, so a burst of load from elsewhere on the machine hits all of them alike;
    // each figure is the median over the rounds.
    const running: Running[] = [];
    try {
      for (const s of specs) running.push(await startServer(s, cpus.server));
      for (const r of running) await wrk(cpus.client, r.port, 1); // warm-up (JIT, caches)
      const plain = new Map<string, Sample[]>();
      const piped = new Map<string, Sample[]>();
      for (let round = 0; round < rounds; round++) {
        for (const r of running) {
          const a = await sample(r, cpus.client, seconds);
          const b = await sample(r, cpus.client, seconds, pipeScript);
          (plain.get(r.spec.name) ?? plain.set(r.spec.name, []).get(r.spec.name)!).push(a);
          (piped.get(r.spec.name) ?? piped.set(r.spec.name, []).get(r.spec.name)!).push(b);
          opts.log(`round ${round + 1}/${rounds} ${r.spec.name}: ${Math.round(a.rps)} req/s, ${a.cpu.toFixed(2)} µs CPU/req; pipelined ${Math.round(b.rps)} req/s, ${b.cpu.toFixed(2)} µs CPU/req`);
        }
      }
      for (const r of running) servers[r.spec.name] = summarize(plain.get(r.spec.name)!, piped.get(r.spec.name)!);
    } finally {
      for (const r of running) await stopServer(r.child);
      rmSync(dir, { recursive: true, force: true });
    }
    const e = servers.evloop;
    const n = servers['node-http'];
    const ratios = {
      rps_vs_node: ratio(e?.rps, n?.rps),
      cpu_vs_node: ratio(e?.cpu_us_per_req, n?.cpu_us_per_req),
      cpu_vs_bun: ratio(e?.cpu_us_per_req, servers.bun?.cpu_us_per_req),
      cpu_vs_nginx: ratio(e?.cpu_us_per_req, servers.nginx?.cpu_us_per_req),
      rps_pipelined_vs_node: ratio(e?.rps_pipelined, n?.rps_pipelined),
    };
    const targets = {
      'rps >= 4x node': ratios.rps_vs_node === null ? null : ratios.rps_vs_node >= 4,
      'cpu <= 0.25x node': ratios.cpu_vs_node === null ? null : ratios.cpu_vs_node <= 0.25,
      'cpu <= 0.8x bun': ratios.cpu_vs_bun === null ? null : ratios.cpu_vs_bun <= 0.8,
      'cpu <= 1.0x nginx': ratios.cpu_vs_nginx === null ? null : ratios.cpu_vs_nginx <= 1.0,
      'pipelined >= 20x node': ratios.rps_pipelined_vs_node === null ? null : ratios.rps_pipelined_vs_node >= 20,
    };
    return {
      config: { seconds, rounds, connections: CONNECTIONS, pipeline: 16, cores, server_cpu: cpus.server, wrk_cpu: cpus.client, quick: opts.quick },
      servers,
      ratios,
      targets,
    };
  },
  table(figures: Figures): string {
    const servers = figures.servers as Record<string, ServerFigures>;
    const t = new Table({ head: ['server', 'req/s', 'p99 ms', 'CPU µs/req', 'req/s pipelined ×16', 'CPU µs/req pipelined'] });
    for (const [name, f] of Object.entries(servers)) t.push([name, f.rps, f.p99_ms, f.cpu_us_per_req, f.rps_pipelined, f.cpu_us_per_req_pipelined]);
    const targets = figures.targets as Record<string, boolean | null>;
    const lines = Object.entries(targets).map(([k, v]) => `  ${k}: ${v === null ? 'n/a' : v ? 'met' : 'MISSED'}`);
    return `${t.toString()}\nratios ${JSON.stringify(figures.ratios)}\ntargets:\n${lines.join('\n')}`;
  },
};
