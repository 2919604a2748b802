/**
 * The closed-loop HTTP load generator of experiments 1 and 7, run in its own process (pinned
 * with taskset by the caller): `connections` keep-alive connections, each sending `GET /` as
 * soon as the previous response is complete, for `durationMs`. A response with
 * `Connection: close` (the process-per-connection server) makes it reconnect. It runs on an
 * evloop loop. It reads one JSON LoadParams per line on stdin, runs it, prints one JSON
 * LoadResult line, and waits for the next (one start-up for a whole sweep); it exits on EOF.
 *
 * With `untilServed` the warm-up is a phase of its own: every connection is opened at once and
 * the window starts only when `expect` of them have had their first response (a server that
 * starts a thread or a process per connection is then measured in steady state, its start-up
 * reported apart as `startupMs`), or when `maxMs` has passed — then the connections that never
 * answered are closed and the window measures the ones that came up. That window lasts at least
 * one round (as many responses as connections up), so slow models are not cut mid-request.
 */
import { connect, createLoop, type Protocol, type Transport } from 'evloop';
import { summarizeUs, type LatencySummary } from '../stats.js';

export interface LoadParams {
  port: number;
  connections: number;
  durationMs: number;
  /** A request outstanding this long counts as a timeout (its connection is dropped and redone). */
  timeoutMs: number;
  /** Requests before this many ms are not measured (connections and caches warm up); with
   *  `untilServed`, the settling time after the start-up phase. */
  warmupMs: number;
  /**
   * A start-up phase before `warmupMs`: until `expect` connections answered once (at most
   * `maxMs`). The window then lasts `durationMs` and at least until it has seen as many responses
   * as connections came up (one round: a model whose requests take longer than `durationMs`
   * shows its rate, not an empty window), at most `windowMaxMs`.
   */
  untilServed?: { expect: number; maxMs: number; windowMaxMs: number };
}

export interface LoadResult {
  /** responses completed inside the measured window (latency: of those responses) */
  requests: number;
  measuredMs: number;
  rps: number;
  latency: LatencySummary;
  errors: { connect: number; reset: number; timeout: number; status: number };
  /** connections still waiting at the end for a response (or to connect) since before the window: never served in it */
  stalled: number;
  /** connections opened in total (reconnects included) */
  connects: number;
  /** the measured window in CLOCK_MONOTONIC ns (strings), to match the server's own samples */
  window: [string, string];
  /** with `untilServed`: ms from the first connect until `expect` connections had answered once
   *  (until the bound, when it was hit); the phase's start and end in CLOCK_MONOTONIC ns */
  startupMs?: number;
  startup?: [string, string];
  /** with `untilServed`: connections that had answered once when the start-up phase ended */
  up?: number;
  /** with `untilServed`: the phase ended at `maxMs` before `expect` connections answered */
  boundHit?: boolean;
  /** with `untilServed`: the window ended at `windowMaxMs` before one round of responses */
  roundCut?: boolean;
}

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: lab\r\n\r\n');
const loop = createLoop();

function runOnce(p: LoadParams): Promise<LoadResult> {
  const start = performance.now();
  const startNs = process.hrtime.bigint();
  const ns = (t: number): string => String(startNs + BigInt(Math.round((t - start) * 1e6)));
  // without a start-up phase the window is fixed now; with one, when the phase ends
  let measureFrom = p.untilServed ? Infinity : start + p.warmupMs;
  let endAt = p.untilServed ? Infinity : measureFrom + p.durationMs;
  let warmEnd = p.untilServed ? Infinity : start;
  const latencies: number[] = [];
  const errors = { connect: 0, reset: 0, timeout: 0, status: 0 };
  const clients = new Set<Client>();
  /** per connection slot (a reconnect keeps its slot): answered once */
  const answered = new Array<boolean>(p.connections).fill(false);
  let up = 0;
  let upAtWarmEnd = 0;
  let lastUpAt = start;
  let boundHit = false;
  let roundCut = false;
  let connects = 0;
  let done = false;
  let finish: () => void = () => {};

  class Client implements Protocol {
    constructor(readonly slot: number) {}
    transport: Transport | null = null;
    sentAt = 0;
    /** when it began waiting (to connect, or for a response); 0 while it is not waiting */
    waitingSince = performance.now();
    #buf = '';
    connectionMade(t: Transport): void {
      this.transport = t;
      if (this.dropped) return void t.abort();
      this.send();
    }
    send(): void {
      if (done || this.transport === null) return;
      this.sentAt = performance.now();
      this.waitingSince = this.sentAt;
      this.transport.write(REQUEST);
    }
    dataReceived(data: Buffer): void {
      this.#buf += data.toString('latin1');
      for (;;) {
        const head = this.#buf.indexOf('\r\n\r\n');
        if (head < 0) return;
        const m = /\r\ncontent-length: *(\d+)/i.exec(this.#buf.slice(0, head));
        const total = head + 4 + (m ? Number(m[1]) : 0);
        if (this.#buf.length < total) return;
        const headText = this.#buf.slice(0, head);
        this.#buf = this.#buf.slice(total);
        const t = performance.now();
        this.waitingSince = 0;
        if (!answered[this.slot]) {
          answered[this.slot] = true;
          up++;
          lastUpAt = t;
          if (p.untilServed && warmEnd === Infinity && up >= Math.min(p.connections, p.untilServed.expect)) startWindow(t);
        }
        if (!headText.startsWith('HTTP/1.1 200') && !headText.startsWith('HTTP/1.0 200')) errors.status++;
        // a response counts when it completes inside the window, however long ago it was sent
        else if (t >= measureFrom && t <= endAt) {
          latencies.push((t - this.sentAt) * 1000);
          if (p.untilServed && t >= measureFrom + p.durationMs && latencies.length >= upAtWarmEnd) endWindow(t);
        }
        if (/\r\nconnection: *close/i.test(headText)) {
          this.sentAt = 0;
          this.transport?.close(); // connectionLost opens the next one
          return;
        }
        this.send();
      }
    }
    connectionLost(err?: Error): void {
      clients.delete(this);
      const wasWaiting = this.sentAt !== 0;
      this.transport = null;
      if (!done && !this.dropped && (err !== undefined || wasWaiting)) errors.reset++;
      if (!done && !this.dropped) open(this.slot);
    }
    /** closed because it never answered in the start-up phase: not reopened, not an error */
    dropped = false;
  }

  function open(slot: number): void {
    connects++;
    const c = new Client(slot);
    clients.add(c);
    connect('127.0.0.1', p.port, () => c, { loop, timeout: p.timeoutMs }).catch(() => {
      clients.delete(c);
      if (done || c.dropped) return;
      errors.connect++;
      loop.callLater(10, () => open(slot));
    });
  }

  /** The start-up phase is over (at `t`): the window starts after `warmupMs` of settling. */
  function startWindow(t: number): void {
    warmEnd = t;
    upAtWarmEnd = up;
    measureFrom = t + p.warmupMs;
    const maxEnd = measureFrom + Math.max(p.durationMs, p.untilServed!.windowMaxMs);
    endAt = maxEnd;
    loop.callLater(measureFrom + p.durationMs - performance.now(), () => {
      if (latencies.length >= upAtWarmEnd) endWindow(performance.now());
    });
    loop.callLater(maxEnd - performance.now(), () => {
      roundCut = latencies.length < upAtWarmEnd;
      endWindow(maxEnd);
    });
  }

  /** The window ends at `t` (after `durationMs` and one round, or at the bound). */
  function endWindow(t: number): void {
    if (done) return;
    endAt = Math.min(t, endAt);
    finish();
  }

  for (let i = 0; i < p.connections; i++) open(i);
  if (p.untilServed) {
    loop.callLater(p.untilServed.maxMs, () => {
      if (warmEnd !== Infinity) return;
      boundHit = true;
      // measure with the connections that came up; the others are closed, not reopened
      for (const c of [...clients]) {
        if (answered[c.slot]) continue;
        c.dropped = true;
        c.sentAt = 0;
        clients.delete(c);
        c.transport?.abort();
      }
      startWindow(performance.now());
    });
  }

  // timeouts: a request outstanding too long is dropped with its connection
  const sweep = loop.callLater(50, function check() {
    const now = performance.now();
    for (const c of clients) {
      // a request sent in the start-up phase waits for a thread or process to start: no timeout
      if (c.transport !== null && c.sentAt !== 0 && c.sentAt >= warmEnd && now - c.sentAt > p.timeoutMs) {
        errors.timeout++;
        c.sentAt = 0;
        c.transport.abort();
      }
    }
    if (!done) loop.callLater(50, check);
  });
  void sweep;

  return new Promise((resolve) => {
    finish = () => {
      done = true;
      let stalled = 0;
      for (const c of clients) if (c.waitingSince !== 0 && c.waitingSince < measureFrom) stalled++;
      for (const c of clients) {
        c.sentAt = 0;
        c.transport?.abort();
      }
      resolve({
        requests: latencies.length,
        measuredMs: Math.round(endAt - measureFrom),
        rps: Math.round((latencies.length * 1000) / (endAt - measureFrom)),
        latency: summarizeUs(latencies),
        errors,
        stalled,
        connects,
        window: [ns(measureFrom), ns(endAt)],
        ...(p.untilServed ? { startupMs: Math.round((boundHit ? warmEnd : lastUpAt) - start), startup: [ns(start), ns(warmEnd)] as [string, string], up: upAtWarmEnd, boundHit, roundCut } : {}),
      });
    };
    if (!p.untilServed) loop.callLater(endAt - start, finish);
  });
}

// one run at a time, in the order asked
let queue = Promise.resolve();
let pending = '';
process.stdin.setEncoding('utf8').on('data', (d: string) => {
  pending += d;
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.trim() === '') continue;
    const params = JSON.parse(line) as LoadParams;
    queue = queue.then(async () => {
      const r = await runOnce(params);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  }
});
process.stdin.on('end', () => void queue.then(() => process.exit(0)));
