/**
 * `evloop bench soak [--duration S] [--connections N] [--quick] [--json]`: an evloop HTTP server
 * under a mix of well-behaved and hostile clients, 127.0.0.1 only, bounded in time and count.
 *
 * The server (bench/fixtures/soak-server.ts: GET /, POST /echo, GET /big = 8 MiB, GET /medium =
 * 256 KiB) runs pinned to CPU 0 with short timeouts (headers 2 s, body 2 s, send 3 s, keep-alive
 * 5 s); the load generator (this file, role `load`, on Node's own `net`: a neutral party) runs
 * pinned to CPU 1; both raise their soft open-file limit to the hard one (`ulimit -n` in the
 * spawning shell: Node cannot). It holds up to N connections (default 10,000 for 60 s; --quick:
 * 500 for 5 s) of:
 *
 * - keepalive (45%): one request at a time (GET /, every 4th a 2 KiB POST /echo), think 0–1 s;
 * - pipelined (5%): 16 GETs in one write, think 0–2 s;
 * - slowreader (1%): GET /big, read 256 bytes every 100 ms; only 1% because each pins ~4 MiB of
 *   kernel socket memory (loopback buffers autotune to tcp_wmem's 4 MiB): 100 of them stay far
 *   below the machine's tcp_mem;
 * - slowloris (24%): a request head one byte per second, until the headers timeout cuts it;
 * - reset (12.5%): after 0–1 s idle, SO_LINGER 0 (resetAndDestroy) mid-head, right after a
 *   request, mid-response (/medium), after 16 pipelined requests, or a plain destroy mid-body;
 * - malformed (12.5%): after 0–1 s idle, one bad request (bad names, NUL, CL+TE, bad chunk size,
 *   huge header, no or two Hosts, garbage bytes…), answered with a 4xx and a close.
 *
 * Hostile connections are replaced when they end, so the count stays near N. Reported: requests
 * the server served; errors seen by well-behaved clients (goal 0: a socket error, an early
 * close, a non-200, a wrong body, or a request unanswered for 30 s); their p50/p99/max latency
 * (hdr-histogram-js) once every connection is open (and with the connect ramp); per-kind counts;
 * the CPU time and event-loop delay of both processes (when the load generator's are high,
 * latency is its own); and the server's RSS, heap, fds, watched fds and timers, reported by the
 * server itself over its stdin/stdout, before the load (after a warm-up and GC), at the peak,
 * and after the load once every connection has closed (goal: fds, watchers and timers back to
 * the baseline). EVLOOP_SOAK_MIX='{"reset":0}' changes the shares (diagnosis).
 *
 * @example
 * const f = await soakBench.run({ quick: true, log: console.error });
 * console.log(soakBench.table(f));
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Table from 'cli-table3';
import * as hdr from 'hdr-histogram-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileLimits } from '../lab/wait-cost.js';
import { cpuTicks } from 'evloop/sys';
import type { Benchmark, BenchOptions, Figures } from './benchmark.js';
import { killAndWait } from './child.js';
import { nodeArgsFor, siblingModule } from 'evloop';

const SELF = fileURLToPath(import.meta.url);
const SERVER = fileURLToPath(siblingModule(import.meta.url, './fixtures/soak-server'));
/** The repository's root (the same depth from src/bench and dist/bench). */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export const KINDS = ['keepalive', 'pipelined', 'slowreader', 'slowloris', 'reset', 'malformed'] as const;
export type Kind = (typeof KINDS)[number];
const WELL_BEHAVED: readonly Kind[] = ['keepalive', 'pipelined'];
/** Share of the connections per kind (slowreader: see the header for why only 1%). */
const MIX: Record<Kind, number> = { keepalive: 0.45, pipelined: 0.05, slowreader: 0.01, slowloris: 0.24, reset: 0.125, malformed: 0.125 };
// diagnosis: EVLOOP_SOAK_MIX='{"reset":0}' changes shares (each kind keeps at least one connection)
if (process.env.EVLOOP_SOAK_MIX) Object.assign(MIX, JSON.parse(process.env.EVLOOP_SOAK_MIX) as Partial<Record<Kind, number>>);

/** The server's timeouts: short, so slowloris and stalled readers are cut within a quick run. */
export const SERVER_TIMEOUTS = { headersTimeoutMs: 2000, bodyTimeoutMs: 2000, sendTimeoutMs: 3000, keepAliveTimeoutMs: 5000 };
const BACKLOG = 4096;
const BIG_BYTES = 8 << 20; // must match the fixture's /big
const PIPELINE = 16;
const THINK_KEEPALIVE_MS = 1000;
const THINK_PIPELINED_MS = 2000;
/** A well-behaved request unanswered this long is an error. */
const STALL_MS = 30_000;
/** After the load stops, well-behaved clients get this long to receive what is in flight. */
const DRAIN_MS = 15_000;
const SLOWLORIS_BYTE_MS = 1000;
const SLOWREADER_TICK_MS = 100;
const SLOWREADER_READ = 256;
const MALFORMED_WAIT_MS = 10_000;
/** Reset and malformed connections sit idle up to this long before misbehaving: held, not only churned. */
const HOSTILE_HOLD_MS = 1000;
/** fds kept free in each child besides the connections (Node's own, churn of replaced connections). */
const FD_HEADROOM = 1500;

// ---- the load generator (child role `load`) -----------------------------------------------

export interface KindFigures {
  /** Connections opened over the run. */
  connections: number;
  /** Requests sent whole. */
  requests: number;
  /** Whole responses received. */
  responses: number;
  /** Connections the server ended (FIN or RST) before the client was done with them. */
  server_closed: number;
  /** Anything but a correct, complete answer (counted for well-behaved kinds). */
  errors: number;
  bytes_read: number;
  statuses: Record<string, number>;
  /** Kind-specific counts (reset variants, malformed cases, slowloris cut times…). */
  detail: Record<string, number>;
}

interface LoadConfig {
  port: number;
  durationMs: number;
  connections: number;
  progressMs: number;
}

/** Latency of well-behaved requests, ms. */
export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  kinds: Record<Kind, KindFigures>;
  target: Record<Kind, number>;
  well_behaved: { requests: number; responses: number; errors: number; error_kinds: Record<string, number>; error_samples: string[]; latency_ms: Latency; latency_ms_with_ramp: Latency };
  load_ms: number;
  drain_ms: number;
  /** The load generator's own CPU time over the run (s) and its event-loop delay (ms): when these
   * are high, latency is the load generator's, not the server's. */
  load_cpu_s: number;
  /** Seconds it was runnable but waiting for its CPU (other processes on the machine). */
  load_runqueue_wait_s: number;
  load_lag_ms: { p99: number; max: number };
}

const HOST = 'soak.test';
const GET = Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, 'latin1');
const GET16 = Buffer.concat(Array.from({ length: PIPELINE }, () => GET));
const HELLO = 'Hello, World!';
const ECHO_BODIES = Array.from({ length: 4 }, (_, i) => Buffer.alloc(2048, `echo-${i}-`));
const ECHO_REQS = ECHO_BODIES.map((b) => Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${b.length}\r\n\r\n`, 'latin1'), b]));
const GET_BIG = Buffer.from(`GET /big HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, 'latin1');
const GET_MEDIUM = Buffer.from(`GET /medium HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`, 'latin1');
const SLOWLORIS_HEAD = Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: slowloris\r\nX-Padding: ${'z'.repeat(200)}\r\n\r\n`, 'latin1');

/** Bad requests, each on its own connection; every one must get a 4xx (or a close), never a 2xx. */
export const MALFORMED: readonly { name: string; bytes: Buffer }[] = [
  ['garbage-line', 'GARBAGE\r\n\r\n'],
  ['space-in-name', `GET / HTTP/1.1\r\nHost: ${HOST}\r\nBad Header: y\r\n\r\n`],
  ['nul-in-value', `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\0b\r\n\r\n`],
  ['bad-version', `GET / HTTP/9.9\r\nHost: ${HOST}\r\n\r\n`],
  ['cl-and-te', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['bad-chunk-size', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n`],
  ['bad-content-length', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 12abc\r\n\r\n`],
  ['two-content-lengths', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`],
  ['huge-header', `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
  ['no-host', 'GET / HTTP/1.1\r\n\r\n'],
  ['two-hosts', `GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n`],
  ['binary', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe\r\n\r\n'],
  ['obs-fold', `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\r\n  folded\r\n\r\n`],
  ['bare-cr', `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-A: a\rb\r\n\r\n`],
].map(([name, text]) => ({ name: name!, bytes: Buffer.from(text!, 'latin1') }));

const RESET_VARIANTS = ['rst-mid-head', 'rst-after-request', 'rst-mid-response', 'rst-after-pipeline', 'destroy-mid-body'] as const;

const rand = (max: number): number => Math.floor(Math.random() * max);

/** Frames Content-Length responses off a byte stream (all the soak server sends). */
class ResponseReader {
  #pending: Buffer | null = null;
  #status = 0;
  #left = -1;
  #close = false;
  #body: Buffer[] = [];

  /** Calls `onResponse` for each whole response; returns an error text when a response cannot be framed. */
  feed(chunk: Buffer, onResponse: (status: number, body: Buffer, close: boolean) => void): string | null {
    const buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let off = 0;
    while (off < buf.length) {
      if (this.#left < 0) {
        const end = buf.indexOf('\r\n\r\n', off, 'latin1');
        if (end < 0) {
          if (buf.length - off > 65_536) return 'response head over 64 KiB';
          this.#pending = buf.subarray(off);
          return null;
        }
        const head = buf.toString('latin1', off, end);
        const m = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
        if (!m) return `bad status line ${JSON.stringify(head.slice(0, 60))}`;
        this.#status = Number(m[1]);
        const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        if (!cl) return `response without Content-Length: ${JSON.stringify(head.slice(0, 200))}`;
        this.#left = Number(cl[1]);
        this.#close = /\r\nconnection:[ \t]*close/i.test(head);
        off = end + 4;
      }
      const take = Math.min(this.#left, buf.length - off);
      if (take > 0) this.#body.push(buf.subarray(off, off + take));
      this.#left -= take;
      off += take;
      if (this.#left === 0) {
        const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body);
        this.#body = [];
        this.#left = -1;
        onResponse(this.#status, body, this.#close);
      }
    }
    return null;
  }
}

function emptyKind(): KindFigures {
  return { connections: 0, requests: 0, responses: 0, server_closed: 0, errors: 0, bytes_read: 0, statuses: {}, detail: {} };
}

const bump = (rec: Record<string, number>, key: string, by = 1): void => void (rec[key] = (rec[key] ?? 0) + by);

/** The load generator: opens and replaces connections of each kind until stopped, then drains. */
class Load {
  readonly kinds = Object.fromEntries(KINDS.map((k) => [k, emptyKind()])) as Record<Kind, KindFigures>;
  readonly target: Record<Kind, number>;
  stopping = false;
  readonly sockets = new Set<net.Socket>();
  readonly steady = new Set<Steady>();
  readonly slowloris = new Map<net.Socket, { sent: number; first: number; late: boolean }>();
  readonly slowReaders = new Set<net.Socket>();
  readonly errorKinds: Record<string, number> = {};
  /** The slowest well-behaved answer since the last progress line (µs). */
  intervalMaxUs = 0;
  readonly errorSamples: string[] = [];
  /** Well-behaved latencies (µs) of requests sent once every connection was open, and of all of them. */
  readonly hist = newHistogram();
  readonly histAll = newHistogram();
  /** When the last batch of connections was started: requests sent before it wait behind the connect burst. */
  rampDoneAt = Infinity;
  #timers: NodeJS.Timeout[] = [];
  #resetTurn = 0;
  #malformedTurn = 0;

  constructor(readonly cfg: LoadConfig) {
    this.target = splitConnections(cfg.connections);
  }

  /** A well-behaved client saw something wrong. */
  error(kind: Kind, what: string, detail: string): void {
    this.kinds[kind].errors++;
    bump(this.errorKinds, `${kind}: ${what}`);
    if (this.errorSamples.length < 20) this.errorSamples.push(`${kind}: ${what}: ${detail}`);
  }

  connect(kind: Kind, opts: Partial<net.NetConnectOpts> = {}): net.Socket {
    const s = net.connect({ host: '127.0.0.1', port: this.cfg.port, noDelay: true, ...opts } as net.NetConnectOpts);
    this.kinds[kind].connections++;
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    return s;
  }

  /** Starts another connection of `kind` after `delayMs` unless the load is stopping. */
  replace(kind: Kind, delayMs: number): void {
    if (this.stopping) return;
    setTimeout(() => this.stopping || this.start(kind), delayMs);
  }

  start(kind: Kind): void {
    switch (kind) {
      case 'keepalive':
      case 'pipelined':
        return void new Steady(this, kind);
      case 'slowreader':
        return this.slowReader();
      case 'slowloris':
        return this.slowlorisClient();
      case 'reset':
        return this.resetClient();
      case 'malformed':
        return this.malformedClient();
    }
  }

  slowReader(): void {
    const k = this.kinds.slowreader;
    let head = '';
    let total = -1;
    let got = 0;
    let done = false;
    // every slow reader reads into one shared buffer: the callback consumes it at once
    const s = this.connect('slowreader', {
      onread: {
        buffer: SLOW_BUF,
        callback: (n: number, buf: Uint8Array) => {
          got += n;
          k.bytes_read += n;
          if (total < 0) {
            head += Buffer.from(buf.buffer, buf.byteOffset, n).toString('latin1');
            const end = head.indexOf('\r\n\r\n');
            if (end >= 0) {
              bump(k.statuses, /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 'garbled');
              total = end + 4 + Number(/\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1] ?? 0);
            }
          }
          if (total >= 0 && got >= total) {
            done = true;
            k.responses++;
            bump(k.detail, 'completed');
            s.resetAndDestroy();
          }
          return false; // paused until the next tick resumes it
        },
      },
    });
    s.once('connect', () => {
      s.write(GET_BIG);
      k.requests++;
      this.slowReaders.add(s);
    });
    s.on('error', () => {});
    s.once('close', () => {
      this.slowReaders.delete(s);
      if (!done && this.stopping) bump(k.detail, 'held until the load stopped');
      else if (!done) {
        k.server_closed++;
        bump(k.detail, total < 0 ? 'cut before the head' : 'cut mid-body (send timeout)');
      }
      this.replace('slowreader', 100);
    });
  }

  slowlorisClient(): void {
    const k = this.kinds.slowloris;
    const s = this.connect('slowloris');
    let answered = '';
    s.once('connect', () => {
      this.slowloris.set(s, { sent: 0, first: performance.now(), late: false });
      this.#loris(s);
    });
    s.on('data', (d: Buffer) => {
      k.bytes_read += d.length;
      if (answered === '') answered = /^HTTP\/1\.[01] (\d{3})/.exec(d.toString('latin1', 0, 32))?.[1] ?? 'garbled';
    });
    s.on('error', () => {});
    s.once('close', () => {
      const st = this.slowloris.get(s);
      this.slowloris.delete(s);
      if (!this.stopping && st) {
        k.server_closed++;
        bump(k.statuses, answered || 'closed without a response');
        const ms = performance.now() - st.first;
        k.detail.max_ms_to_cut = Math.max(k.detail.max_ms_to_cut ?? 0, Math.round(ms));
        if (st.sent >= SLOWLORIS_HEAD.length) bump(k.detail, 'whole head sent before the cut');
      }
      this.replace('slowloris', 100 + rand(400));
    });
  }

  /** Sends the next byte of a slowloris head (also the ticker's work). */
  #loris(s: net.Socket): void {
    const st = this.slowloris.get(s);
    if (!st || st.sent >= SLOWLORIS_HEAD.length || s.destroyed) return;
    s.write(SLOWLORIS_HEAD.subarray(st.sent, st.sent + 1));
    st.sent++;
    const age = performance.now() - st.first;
    if (!st.late && age > 2 * SERVER_TIMEOUTS.headersTimeoutMs + 2000) {
      st.late = true;
      bump(this.kinds.slowloris.detail, 'not cut within 2x headers timeout + 2 s');
    }
  }

  resetClient(): void {
    const k = this.kinds.reset;
    const variant = RESET_VARIANTS[this.#resetTurn++ % RESET_VARIANTS.length]!;
    bump(k.detail, variant);
    const s = this.connect('reset');
    s.on('error', () => {});
    s.once('connect', () => setTimeout(() => {
      if (s.destroyed) return;
      switch (variant) {
        case 'rst-mid-head':
          s.write(GET.subarray(0, 20));
          setTimeout(() => s.destroyed || s.resetAndDestroy(), 5 + rand(50));
          break;
        case 'rst-after-request':
          s.write(GET);
          k.requests++;
          s.resetAndDestroy();
          break;
        case 'rst-mid-response':
          s.write(GET_MEDIUM);
          k.requests++;
          s.once('data', (d: Buffer) => {
            k.bytes_read += d.length;
            s.resetAndDestroy();
          });
          break;
        case 'rst-after-pipeline':
          s.write(GET16);
          k.requests += PIPELINE;
          setTimeout(() => s.destroyed || s.resetAndDestroy(), rand(5));
          break;
        case 'destroy-mid-body':
          s.write(`POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 100000\r\n\r\n${'b'.repeat(5000)}`);
          setTimeout(() => s.destroy(), 5 + rand(50));
          break;
      }
    }, rand(HOSTILE_HOLD_MS)));
    s.once('close', () => this.replace('reset', 20 + rand(100)));
  }

  malformedClient(): void {
    const k = this.kinds.malformed;
    const c = MALFORMED[this.#malformedTurn++ % MALFORMED.length]!;
    const s = this.connect('malformed');
    let head = '';
    let outcome = '';
    let sent = false;
    // counted when known, not at 'close': a case answered 2xx may keep its connection to the end
    const settle = (what: string): void => {
      if (outcome !== '') return;
      outcome = what;
      bump(k.statuses, what);
      bump(k.detail, `${c.name}: ${what}`);
      if (/^[23]\d\d$/.test(what)) bump(k.detail, 'answered 2xx/3xx');
    };
    const timer = setTimeout(() => {
      bump(k.detail, `${c.name}: not closed within ${MALFORMED_WAIT_MS} ms`);
      s.destroy();
    }, MALFORMED_WAIT_MS);
    s.once('connect', () => setTimeout(() => {
      if (s.destroyed) return;
      s.write(c.bytes);
      sent = true;
      k.requests++;
    }, rand(HOSTILE_HOLD_MS)));
    s.on('data', (d: Buffer) => {
      k.bytes_read += d.length;
      if (outcome !== '') return;
      head += d.toString('latin1', 0, 64);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) {
        k.responses++;
        settle(m[1]!);
      } else if (head.length >= 16) settle('garbled');
    });
    s.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? 'error'));
    s.once('close', () => {
      clearTimeout(timer);
      if (this.stopping) bump(k.detail, outcome === '' ? 'in flight when the load stopped' : `${c.name}: answered, still open when the load stopped`);
      // a connection silent for headersTimeoutMs is closed (documented): the load generator was late
      else if (!sent) bump(k.detail, 'closed while idle, before its request was sent');
      else {
        if (outcome !== '') k.server_closed++;
        settle('closed without a response');
      }
      this.replace('malformed', 20 + rand(100));
    });
  }

  /** Opens the connections in batches, runs the tickers, and resolves once drained after the duration. */
  async run(): Promise<LoadResult> {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const wait0 = runQueueWaitS('self');
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    this.#timers.push(setInterval(() => {
      for (const s of this.slowloris.keys()) this.#loris(s);
    }, SLOWLORIS_BYTE_MS));
    this.#timers.push(setInterval(() => {
      for (const s of this.slowReaders) s.resume();
    }, SLOWREADER_TICK_MS));
    this.#timers.push(setInterval(() => {
      const now = performance.now();
      for (const c of this.steady) c.checkStall(now);
    }, 1000));
    this.#timers.push(setInterval(() => this.progress(t0), this.cfg.progressMs));
    // open in batches of 250 every 25 ms (kinds interleaved), so the accept queue never overflows
    const order: Kind[] = [];
    const left = { ...this.target };
    while (order.length < this.cfg.connections) for (const k of KINDS) if (left[k]-- > 0) order.push(k);
    for (let i = 0; i < order.length && performance.now() - t0 < this.cfg.durationMs; i += 250) {
      for (const k of order.slice(i, i + 250)) this.start(k);
      await sleep(25);
    }
    this.rampDoneAt = performance.now();
    await sleep(Math.max(0, this.cfg.durationMs - (performance.now() - t0)));
    const loadMs = performance.now() - t0;
    this.stopping = true;
    for (const s of this.sockets) if (!this.#isSteady(s)) s.destroy();
    for (const c of this.steady) c.stop();
    await sleep(20); // their 'close' events (counted) before the figures
    const t1 = performance.now();
    while (this.steady.size > 0 && performance.now() - t1 < DRAIN_MS) await sleep(50);
    for (const c of [...this.steady]) c.fail('unanswered when the load stopped', `${c.outstanding} request(s) after ${DRAIN_MS} ms`);
    const drainMs = performance.now() - t1;
    for (const s of this.sockets) s.destroy();
    for (const t of this.#timers) clearInterval(t);
    const wb = WELL_BEHAVED.map((k) => this.kinds[k]);
    const result: LoadResult = {
      kinds: this.kinds,
      target: this.target,
      well_behaved: {
        requests: wb.reduce((a, k) => a + k.requests, 0),
        responses: wb.reduce((a, k) => a + k.responses, 0),
        errors: wb.reduce((a, k) => a + k.errors, 0),
        error_kinds: this.errorKinds,
        error_samples: this.errorSamples,
        latency_ms: latency(this.hist),
        latency_ms_with_ramp: latency(this.histAll),
      },
      load_ms: Math.round(loadMs),
      drain_ms: Math.round(drainMs),
      load_cpu_s: round1(cpuSeconds(process.cpuUsage(cpu0))),
      load_runqueue_wait_s: round1(runQueueWaitS('self') - wait0),
      load_lag_ms: { p99: round1(lag.percentile(99) / 1e6), max: round1(lag.max / 1e6) },
    };
    lag.disable();
    this.hist.destroy();
    this.histAll.destroy();
    return result;
  }

  #steadySockets = new WeakSet<net.Socket>();
  markSteady(s: net.Socket): void {
    this.#steadySockets.add(s);
  }
  #isSteady(s: net.Socket): boolean {
    return this.#steadySockets.has(s);
  }

  progress(t0: number): void {
    const open: Record<string, number> = {};
    for (const k of KINDS) open[k] = 0;
    for (const c of this.steady) open[c.kind]!++;
    open.slowloris = this.slowloris.size;
    open.slowreader = this.slowReaders.size;
    const wb = WELL_BEHAVED.reduce((a, k) => a + this.kinds[k].responses, 0);
    const errs = WELL_BEHAVED.reduce((a, k) => a + this.kinds[k].errors, 0);
    process.stdout.write(`PROGRESS ${JSON.stringify({ s: Math.round((performance.now() - t0) / 1000), sockets: this.sockets.size, open, responses: wb, errors: errs, max_ms: this.intervalMaxUs / 1000 })}\n`);
    this.intervalMaxUs = 0;
  }
}

const SLOW_BUF = Buffer.alloc(SLOWREADER_READ);

function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 3.6e9, numberOfSignificantValueDigits: 3 });
}

function latency(h: hdr.Histogram): Latency {
  return { count: h.totalCount, p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, max: h.maxValue / 1000 };
}

/** A well-behaved client: keep-alive (one request at a time) or pipelined (16 per write). */
class Steady {
  readonly sock: net.Socket;
  readonly #reader = new ResponseReader();
  /** Send times and expected bodies of the requests in flight, in order. */
  readonly #inflight: { t0: number; body: Buffer | null }[] = [];
  #n = 0;
  #think: NodeJS.Timeout | null = null;
  #ended = false;

  constructor(readonly load: Load, readonly kind: 'keepalive' | 'pipelined') {
    this.sock = load.connect(kind);
    load.markSteady(this.sock);
    load.steady.add(this);
    this.sock.once('connect', () => this.#send());
    this.sock.on('data', (d: Buffer) => {
      load.kinds[kind].bytes_read += d.length;
      const bad = this.#reader.feed(d, this.#onResponse);
      if (bad !== null) this.fail('unframed response', bad);
    });
    this.sock.on('error', (err: NodeJS.ErrnoException) => this.fail(`socket error ${err.code ?? ''}`.trim(), err.message));
    this.sock.once('close', () => {
      if (!this.#ended) this.fail('closed by the server', `after ${this.#n} requests, ${this.#inflight.length} in flight`);
    });
  }

  get outstanding(): number {
    return this.#inflight.length;
  }

  #send = (): void => {
    this.#think = null;
    if (this.#ended || this.sock.destroyed) return;
    const k = this.load.kinds[this.kind];
    const t0 = performance.now();
    if (this.kind === 'pipelined') {
      for (let i = 0; i < PIPELINE; i++) this.#inflight.push({ t0, body: null });
      this.sock.write(GET16);
      k.requests += PIPELINE;
    } else {
      const i = this.#n++;
      if (i % 4 === 3) {
        this.#inflight.push({ t0, body: ECHO_BODIES[i % ECHO_BODIES.length]! });
        this.sock.write(ECHO_REQS[i % ECHO_REQS.length]!);
      } else {
        this.#inflight.push({ t0, body: null });
        this.sock.write(GET);
      }
      k.requests++;
    }
  };

  #onResponse = (status: number, body: Buffer, close: boolean): void => {
    const k = this.load.kinds[this.kind];
    const req = this.#inflight.shift();
    if (req === undefined) return this.fail('response nobody asked for', `status ${status}`);
    k.responses++;
    bump(k.statuses, String(status));
    const us = Math.max(1, Math.round((performance.now() - req.t0) * 1000));
    this.load.histAll.recordValue(us);
    if (req.t0 >= this.load.rampDoneAt) this.load.hist.recordValue(us);
    if (us > this.load.intervalMaxUs) this.load.intervalMaxUs = us;
    if (status !== 200) return this.fail(`status ${status}`, body.toString('latin1', 0, 100));
    if (req.body === null ? body.toString('latin1') !== HELLO : !body.equals(req.body)) return this.fail('wrong body', `${body.length} bytes`);
    if (close) return this.fail('Connection: close on a keep-alive request', '');
    if (this.#inflight.length > 0) return;
    if (this.load.stopping) return this.#end();
    this.#think = setTimeout(this.#send, rand(this.kind === 'pipelined' ? THINK_PIPELINED_MS : THINK_KEEPALIVE_MS));
  };

  checkStall(now: number): void {
    const first = this.#inflight[0];
    if (first !== undefined && now - first.t0 > STALL_MS) this.fail('unanswered', `${this.#inflight.length} request(s) for over ${STALL_MS} ms`);
  }

  /** The load is over: end now if idle, else once what is in flight has arrived. */
  stop(): void {
    if (this.#inflight.length === 0) this.#end();
  }

  #end(): void {
    if (this.#think) clearTimeout(this.#think);
    this.#ended = true;
    this.load.steady.delete(this);
    this.sock.end();
  }

  fail(what: string, detail: string): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#think) clearTimeout(this.#think);
    this.load.steady.delete(this);
    this.load.error(this.kind, what, detail);
    this.sock.destroy();
    this.load.replace(this.kind, 100);
  }
}

/** N connections split by MIX, at least one of each kind, the rounding left to keepalive. */
export function splitConnections(n: number): Record<Kind, number> {
  const out = {} as Record<Kind, number>;
  let used = 0;
  for (const k of KINDS) {
    out[k] = Math.max(1, Math.floor(n * MIX[k]));
    used += out[k];
  }
  out.keepalive += n - used;
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number): number => Math.round(x * 10) / 10;
const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

/** Seconds a process spent runnable but waiting for a CPU (/proc/PID/schedstat, 2nd field): time the machine took from it. */
function runQueueWaitS(pid: number | 'self'): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN;
  }
}

// ---- the harness --------------------------------------------------------------------------

/** What the server child reports about itself (bench/fixtures/soak-server.ts). */
export interface ServerSnapshot {
  rss: number;
  heap: number;
  /** Bytes of ArrayBuffers (Buffers) outside the V8 heap. */
  arrayBuffers: number;
  fds: number;
  watchers: number;
  timers: number;
  handles: number;
  connections: number;
  accepted: number;
  requests: number;
  handlerErrors: number;
  /** The server process's event-loop delay since the previous snapshot, ms. */
  lagP99Ms: number;
  lagMaxMs: number;
}

/** Node (under tsx from the sources), pinned to `cpu`, with the soft open-file limit raised to `nofile` first. */
function spawnPinned(cpu: string, nofile: number, args: string[], gc: boolean): ChildProcess {
  const node = [process.execPath, ...(gc ? ['--expose-gc'] : []), ...nodeArgsFor(args[0] ?? ''), ...args];
  return spawn('sh', ['-c', `ulimit -n ${nofile} && exec taskset -c ${cpu} "$@"`, 'sh', ...node], { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
}

/** Lines of a child's stdout: each goes to the first waiter it matches, else to `onLine`. */
class ChildLines {
  #buf = '';
  #waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  #exit: string | null = null;
  /** The tail of the child's stderr (for error messages). */
  stderr = '';

  constructor(readonly child: ChildProcess, readonly name: string, onLine: (line: string) => void = () => {}) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.#buf += d;
      let nl: number;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        if (!this.#match(line)) onLine(line);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000);
    });
    child.once('exit', (code, sig) => {
      this.#exit = `${name} exited (code ${code}, signal ${sig}): ${this.stderr.slice(-2000)}`;
      for (const w of this.#waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(this.#exit));
      }
    });
  }

  #match(line: string): boolean {
    for (let i = 0; i < this.#waiters.length; i++) {
      const m = this.#waiters[i]!.re.exec(line);
      if (m) {
        const w = this.#waiters.splice(i, 1)[0]!;
        clearTimeout(w.timer);
        w.resolve(m);
        return true;
      }
    }
    return false;
  }

  /** The next line matching `re` (register before the line can arrive: earlier lines are not kept). */
  next(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    if (this.#exit !== null) return Promise.reject(new Error(this.#exit));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      this.#waiters.push({ re, resolve, reject, timer });
    });
  }
}

async function ask(server: ChildProcess, out: ChildLines, gc: boolean): Promise<ServerSnapshot> {
  server.stdin!.write(gc ? 'stats-gc\n' : 'stats\n');
  return JSON.parse((await out.next(/^STATS (.*)$/, 30_000))[1]!) as ServerSnapshot;
}

/** Runs the load generator to its end; `onProgress` gets its PROGRESS lines. */
async function runLoad(cpu: string, nofile: number, cfg: LoadConfig, onProgress: (p: string) => Promise<void> | void): Promise<LoadResult> {
  const child = spawnPinned(cpu, nofile, [SELF, 'load', JSON.stringify(cfg)], false);
  try {
    const out = new ChildLines(child, 'soak load generator', (line) => {
      if (line.startsWith('PROGRESS ')) void onProgress(line.slice(9));
    });
    const m = await out.next(/^RESULT (.*)$/, cfg.durationMs + DRAIN_MS + 60_000);
    return JSON.parse(m[1]!) as LoadResult;
  } finally {
    await killAndWait(child);
  }
}

/** Polls the server until no connection is left and fds, watchers and timers are back to `base` (or `boundMs` passes). */
async function settle(server: ChildProcess, out: ChildLines, base: ServerSnapshot | null, boundMs: number): Promise<{ snap: ServerSnapshot; ms: number }> {
  const t0 = performance.now();
  let snap = await ask(server, out, false);
  while (performance.now() - t0 < boundMs && (snap.connections > 0 || (base !== null && (snap.fds > base.fds || snap.watchers > base.watchers || snap.timers > base.timers)))) {
    await sleep(250);
    snap = await ask(server, out, false);
  }
  return { snap, ms: Math.round(performance.now() - t0) };
}

export interface SoakFigures extends Figures {
  config: { duration_s: number; connections: number; quick: boolean; mix: Record<Kind, number>; server_cpu: string; load_cpu: string; timeouts: typeof SERVER_TIMEOUTS; big_bytes: number; open_file_limit: number; loadavg_1m: { start: number; end: number } };
  server_requests: number;
  load: LoadResult;
  /** cpu_s: the server's CPU time (user + system) over the load; runqueue_wait_s: time it was runnable but not running. */
  server: { before: ServerSnapshot; peak: Partial<ServerSnapshot>; after: ServerSnapshot; settle_ms: number; cpu_s: number; runqueue_wait_s: number };
  goals: Record<string, boolean>;
}

async function run(opts: BenchOptions): Promise<SoakFigures> {
  const durationS = opts.duration ?? (opts.quick ? 5 : 60);
  const wanted = opts.connections ?? (opts.quick ? 500 : 10_000);
  if (!(durationS > 0) || !(wanted >= KINDS.length)) throw new Error(`soak: --duration must be > 0 and --connections at least ${KINDS.length}`);
  const limits = fileLimits();
  // a low hard limit (1024) still leaves the quick mode its 500 connections
  const connections = Math.max(KINDS.length, Math.min(wanted, limits.hard - Math.min(FD_HEADROOM, Math.floor(limits.hard / 2))));
  if (connections < wanted) opts.log(`soak: capped at ${connections} connections (open-file hard limit ${limits.hard})`);
  const cpus = availableParallelism() >= 2 ? { server: '0', load: '1' } : { server: '0', load: '0' };
  const t = SERVER_TIMEOUTS;
  const load0 = loadavg()[0]!;
  const server = spawnPinned(cpus.server, limits.hard, [SERVER, String(t.headersTimeoutMs), String(t.bodyTimeoutMs), String(t.sendTimeoutMs), String(t.keepAliveTimeoutMs), String(BACKLOG)], true);
  const out = new ChildLines(server, 'soak server');
  try {
    const port = Number((await out.next(/^READY (\d+)$/, 30_000))[1]);
    opts.log(`soak: server pid ${server.pid} on 127.0.0.1:${port} (CPU ${cpus.server}), load on CPU ${cpus.load}: ${connections} connections for ${durationS} s`);
    // warm-up: every code path once (JIT, lazily built caches), so the baseline is not the cold process
    await runLoad(cpus.load, limits.hard, { port, durationMs: 1500, connections: Math.min(120, connections), progressMs: 60_000 }, () => {});
    await settle(server, out, null, 20_000);
    await ask(server, out, true);
    const before = await ask(server, out, true);
    opts.log(`soak: baseline rss ${mib(before.rss)} MiB, heap ${mib(before.heap)} MiB, ${before.fds} fds, ${before.watchers} watchers, ${before.timers} timers`);
    const peak: Partial<ServerSnapshot> = {};
    const ticks0 = cpuTicks(server.pid!);
    const wait0 = runQueueWaitS(server.pid!);
    const load = await runLoad(cpus.load, limits.hard, { port, durationMs: durationS * 1000, connections, progressMs: opts.quick ? 1000 : 5000 }, async (line) => {
      const s = await ask(server, out, false).catch(() => null);
      if (s === null) return;
      for (const key of ['rss', 'heap', 'arrayBuffers', 'fds', 'watchers', 'timers', 'connections', 'lagP99Ms', 'lagMaxMs'] as const) peak[key] = Math.max(peak[key] ?? 0, s[key]);
      const p = JSON.parse(line) as { s: number; sockets: number; responses: number; errors: number; max_ms: number };
      opts.log(`soak: ${p.s} s, ${s.connections} server connections, ${s.requests - before.requests} served, rss ${mib(s.rss)} MiB, heap ${mib(s.heap)} MiB; well-behaved ${p.responses} responses, ${p.errors} errors, slowest ${p.max_ms.toFixed(1)} ms`);
    });
    const ticks1 = cpuTicks(server.pid!);
    const serverCpuS = round1((ticks1.user + ticks1.sys - ticks0.user - ticks0.sys) / 100);
    const serverWaitS = round1(runQueueWaitS(server.pid!) - wait0);
    if (out.stderr !== '') opts.log(`soak: the server wrote to stderr (tail): ${out.stderr.slice(-1500)}`);
    const settled = await settle(server, out, before, 30_000);
    await ask(server, out, true);
    const after = await ask(server, out, true);
    opts.log(`soak: settled in ${settled.ms} ms: rss ${mib(after.rss)} MiB, heap ${mib(after.heap)} MiB, ${after.fds} fds, ${after.watchers} watchers, ${after.timers} timers`);
    const exercised = KINDS.every((k) => load.kinds[k].connections > 0 && (load.kinds[k].requests > 0 || k === 'slowloris'));
    const goals: Record<string, boolean> = {
      'well-behaved errors = 0': load.well_behaved.errors === 0,
      'every kind exercised': exercised,
      'slowloris cut by the server': load.kinds.slowloris.server_closed > 0 && !load.kinds.slowloris.detail['not cut within 2x headers timeout + 2 s'],
      'malformed never answered 2xx/3xx': !load.kinds.malformed.detail['answered 2xx/3xx'],
      'no handler errors': after.handlerErrors === 0,
      'connections back to 0': after.connections === 0,
      'fds back to baseline': after.fds <= before.fds,
      'watchers back to baseline': after.watchers <= before.watchers,
      'timers back to baseline': after.timers <= before.timers,
    };
    return {
      config: { duration_s: durationS, connections, quick: opts.quick, mix: splitConnections(connections), server_cpu: cpus.server, load_cpu: cpus.load, timeouts: t, big_bytes: BIG_BYTES, open_file_limit: limits.hard, loadavg_1m: { start: round1(load0), end: round1(loadavg()[0]!) } },
      server_requests: after.requests - before.requests,
      load,
      server: { before, peak, after, settle_ms: settled.ms, cpu_s: serverCpuS, runqueue_wait_s: serverWaitS },
      goals,
    };
  } finally {
    server.stdin!.end();
    const exited = await Promise.race([new Promise<boolean>((r) => server.once('exit', () => r(true))), sleep(3000).then(() => false)]);
    if (!exited) await killAndWait(server);
  }
}

const mib = (b: number): string => (b / (1 << 20)).toFixed(1);

function table(figures: Figures): string {
  const f = figures as SoakFigures;
  const kinds = new Table({ head: ['kind', 'held', 'connections', 'requests', 'responses', 'server closed', 'errors', 'statuses'] });
  for (const k of KINDS) {
    const x = f.load.kinds[k];
    const st = Object.entries(x.statuses).sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}:${n}`).join(' ');
    kinds.push([k, f.load.target[k], x.connections, x.requests, x.responses, x.server_closed, WELL_BEHAVED.includes(k) ? x.errors : '-', st.length > 60 ? `${st.slice(0, 57)}...` : st]);
  }
  const srv = new Table({ head: ['server', 'RSS MiB', 'heap MiB', 'buffers MiB', 'fds', 'watchers', 'timers', 'connections'] });
  for (const [name, s] of [['before', f.server.before], ['peak', f.server.peak], ['after', f.server.after]] as const) {
    srv.push([name, s.rss === undefined ? '' : mib(s.rss), s.heap === undefined ? '' : mib(s.heap), s.arrayBuffers === undefined ? '' : mib(s.arrayBuffers), s.fds ?? '', s.watchers ?? '', s.timers ?? '', s.connections ?? '']);
  }
  const wb = f.load.well_behaved;
  const lines = [
    `soak: ${f.config.connections} connections for ${f.config.duration_s} s (server CPU ${f.config.server_cpu}, load CPU ${f.config.load_cpu}; headers timeout ${f.config.timeouts.headersTimeoutMs} ms, send timeout ${f.config.timeouts.sendTimeoutMs} ms; machine load ${f.config.loadavg_1m.start} -> ${f.config.loadavg_1m.end})`,
    kinds.toString(),
    srv.toString(),
    `requests served by the server: ${f.server_requests}`,
    `well-behaved: ${wb.responses} responses, ${wb.errors} errors; latency once all connections were open: p50 ${wb.latency_ms.p50.toFixed(2)} ms, p99 ${wb.latency_ms.p99.toFixed(2)} ms, max ${wb.latency_ms.max.toFixed(1)} ms (with the connect ramp: p99 ${wb.latency_ms_with_ramp.p99.toFixed(2)} ms, max ${wb.latency_ms_with_ramp.max.toFixed(1)} ms)`,
  ];
  if (wb.errors > 0) lines.push(`  errors: ${JSON.stringify(wb.error_kinds)}`, ...wb.error_samples.slice(0, 5).map((s) => `  e.g. ${s}`));
  const sl = f.load.kinds.slowloris.detail;
  lines.push(`slowloris: cut after at most ${sl.max_ms_to_cut ?? '-'} ms; slow readers: ${JSON.stringify(f.load.kinds.slowreader.detail)}`);
  lines.push(
    `over ${(f.load.load_ms / 1000).toFixed(0)} s of load: server CPU ${f.server.cpu_s} s, runnable but waiting for its CPU ${f.server.runqueue_wait_s} s, event-loop delay p99 at most ${f.server.peak.lagP99Ms ?? '-'} ms (max ${f.server.peak.lagMaxMs ?? '-'} ms); ` +
      `load generator CPU ${f.load.load_cpu_s} s, waiting ${f.load.load_runqueue_wait_s} s, event-loop delay p99 ${f.load.load_lag_ms.p99} ms (max ${f.load.load_lag_ms.max} ms)`,
  );
  lines.push(`settled ${f.server.settle_ms} ms after the load stopped`);
  lines.push('goals:', ...Object.entries(f.goals).map(([g, ok]) => `  ${g}: ${ok ? 'met' : 'MISSED'}`));
  return lines.join('\n');
}

export const soakBench: Benchmark = {
  name: 'soak',
  description: 'HTTP server under 10,000 mixed connections for 60 s (keep-alive, pipelined, slow readers, slowloris, resets, malformed): errors, p99, memory/fds back to baseline',
  run,
  table,
};

// ---- child role ---------------------------------------------------------------------------

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === 'load') {
  const cfg = JSON.parse(process.argv[3]!) as LoadConfig;
  const result = await new Load(cfg).run();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}
