/** Shared pieces of the networking tests: a collecting protocol, peers (Node net, nc), fd checks. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { getDefaultLoop } from '../../src/loop/loop.js';
import type { FaultPlan, FaultStep } from '../../src/sys/index.js';
import type { Protocol, Transport } from '../../src/net/protocol.js';
import { fdCount } from '../helpers/fds.js';

/** Makes sure the default loop's own fds (poller, host timerfd) exist before a baseline is taken. */
export async function warmLoop(): Promise<void> {
  const loop = getDefaultLoop();
  await new Promise<void>((resolve) => loop.callSoon(resolve));
}

/** Baseline now (after warming the loop); the returned check waits briefly for closes to land. */
export async function trackFds(): Promise<() => Promise<void>> {
  await warmLoop();
  const before = fdCount();
  return async () => {
    for (let i = 0; i < 50 && fdCount() !== before; i++) await sleep(10);
    assert.equal(fdCount(), before, 'every fd the test opened is closed');
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until true (or fails after `ms`). */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A protocol that records everything that happens to it. */
export class Collector implements Protocol {
  transport!: Transport;
  chunks: Buffer[] = [];
  received = 0;
  eof = false;
  /** What eofReceived returns. */
  keepOpen = false;
  lost = false;
  lostError: Error | undefined;
  pauses = 0;
  resumes = 0;
  readonly made: Promise<void>;
  readonly closed: Promise<Error | undefined>;
  #made!: () => void;
  #closed!: (e: Error | undefined) => void;
  onData?: (d: Buffer) => void;

  constructor(opts: { keepOpen?: boolean } = {}) {
    this.keepOpen = opts.keepOpen ?? false;
    this.made = new Promise((r) => (this.#made = r));
    this.closed = new Promise((r) => (this.#closed = r));
  }

  connectionMade(t: Transport): void {
    this.transport = t;
    this.#made();
  }

  dataReceived(d: Buffer): void {
    this.chunks.push(d);
    this.received += d.length;
    this.onData?.(d);
  }

  eofReceived(): boolean {
    this.eof = true;
    return this.keepOpen;
  }

  connectionLost(err?: Error): void {
    assert.equal(this.lost, false, 'connectionLost is called once');
    this.lost = true;
    this.lostError = err;
    this.#closed(err);
  }

  pauseWriting(): void {
    this.pauses++;
  }

  resumeWriting(): void {
    this.resumes++;
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Connects a Node net socket; resolves once connected. */
export function nodeConnect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Sends `data` from a Node socket, half-closes, and collects everything read back until EOF. */
export function nodeRoundTrip(port: number, data: Buffer, host = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host, allowHalfOpen: true }, () => s.end(data));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => s.end());
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Runs `nc` with `args`, feeding `input` on stdin; resolves with its stdout and exit code. */
export function runNc(args: string[], input: Buffer | string, timeoutMs = 10_000): Promise<{ stdout: Buffer; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nc', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), code });
    });
    child.stdin.end(input);
  });
}

/** Fast deterministic bytes (xorshift32), written into `buf`; returns the next state. */
export function fillRandom(buf: Buffer, state: number): number {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
  let x = state >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return x >>> 0;
}

export function sha256(): ReturnType<typeof createHash> {
  return createHash('sha256');
}

/**
 * A send side whose kernel buffer is "full" on demand: send/sendto/writev on one fd fail with
 * EAGAIN (a fault plan for withFaults) except for what the test lets through, so queue sizes are
 * exact. Other fds pass untouched.
 *
 * @example
 * const gate = sendGate(() => t.fd);
 * await withFaults(gate.plan, async () => { ...; gate.allowBytes(1200); ... });
 */
export function sendGate(fd: () => number): { allowCalls(n: number): void; allowBytes(n: number): void; plan: FaultPlan } {
  let calls = 0;
  let bytes = 0;
  const schedule = (_call: number, args: readonly unknown[]): FaultStep => {
    if (args[0] !== fd()) return 'pass';
    if (calls > 0) { calls--; return 'pass'; }
    if (bytes === 0) return 'EAGAIN';
    const n = bytes;
    bytes = 0;
    return { short: n };
  };
  return {
    /** The next `n` calls on the fd reach the kernel whole (datagrams: never cut one short). */
    allowCalls(n: number) { calls += n; },
    /** The next call on the fd moves up to `n` bytes (streams); later ones get EAGAIN again. */
    allowBytes(n: number) { bytes = n; },
    plan: { send: schedule, sendto: schedule, writev: schedule },
  };
}
