/**
 * Experiment 6, shared state: "Threads must protect shared resources; subtle bugs and deadlocks
 * follow; the event loop needs no locks". Two threads increment one counter in a
 * SharedArrayBuffer: unsynchronized (lost updates counted), with Atomics.add, and under a mutex
 * built on Atomics.wait/notify (correct, slower); then two threads take two mutexes in opposite
 * order (a deadlock, detected by a timeout and ended by terminating them). Last, the same
 * increments as callbacks interleaved on one evloop loop: correct without any lock.
 */
import { createLoop, siblingModule } from 'evloop';
import type { Experiment, ExperimentResult, LabContext } from '../experiment.js';
import { round, times } from '../stats.js';
import { startWorker, type LabWorker } from '../workers.js';
import { SLOT, SLOTS, STATE, STATE_NAMES, type SharedMode, type SharedParams, type SharedResult } from './shared-state-layout.js';

const WORKER = siblingModule(import.meta.url, './shared-state.worker');
const THREADS = 2;
/** Increments per callback on the event loop: tasks interleave as threads would. */
const CHUNK = 10_000;
/** Rounds of the racy run. */
const UNSYNC_ROUNDS = 5;

export interface VariantFigures {
  id: SharedMode | 'event-loop';
  label: string;
  expected: number;
  actual: number;
  lost: number;
  ms: number;
  nsPerIncrement: number;
  locks: boolean;
}

async function run(ctx: LabContext): Promise<ExperimentResult> {
  const perThread = ctx.quick ? 200_000 : 1_000_000;
  const deadlockTimeoutMs = ctx.quick ? 300 : 1000;
  ctx.progress.setTotal(6);
  ctx.progress.label(`starting ${THREADS} worker threads`);
  const sab = new SharedArrayBuffer(SLOTS * 4);
  const m = new Int32Array(sab);
  const workers: LabWorker<SharedParams, SharedResult>[] = [];
  for (let i = 0; i < THREADS; i++) workers.push(startWorker(ctx, WORKER, { sab }, { label: `thread ${i}` }));
  await Promise.all(workers.map((w) => w.ready));
  ctx.progress.tick(1, 'threads ready');

  const runThreads = (mode: SharedMode): Promise<SharedResult[]> => {
    m.fill(0);
    return Promise.all(workers.map((w, index) => w.run({ mode, iterations: perThread, index, threads: THREADS })));
  };
  const expected = perThread * THREADS;
  const variants: VariantFigures[] = [];
  const threaded: [SharedMode, string, boolean][] = [
    ['unsync', 'threads, no synchronization', false],
    ['atomic', 'threads, Atomics.add', false],
    ['mutex', 'threads, mutex (Atomics.wait/notify)', true],
  ];
  const unsyncRounds: number[] = [];
  for (const [mode, label, locks] of threaded) {
    // whether two unsynchronized threads overlap is up to the scheduler: the racy run is repeated
    // and every round is reported (lost updates are a matter of chance, which is the point)
    const rounds = mode === 'unsync' ? UNSYNC_ROUNDS : 1;
    let ns = 0;
    let actual = 0;
    for (let k = 0; k < rounds; k++) {
      ctx.signal.throwIfAborted();
      ctx.progress.label(rounds > 1 ? `${label}, round ${k + 1}/${rounds}` : label);
      const r = await runThreads(mode);
      ns += Math.max(...r.map((x) => x.elapsedNs));
      actual += m[SLOT.COUNTER]!;
      if (mode === 'unsync') unsyncRounds.push(expected - m[SLOT.COUNTER]!);
    }
    const exp = expected * rounds;
    variants.push({ id: mode, label, expected: exp, actual, lost: exp - actual, ms: round(ns / 1e6 / rounds, 2), nsPerIncrement: round(ns / exp, 2), locks });
    ctx.progress.tick(1, `${label}: ${exp - actual} lost`);
  }

  // the event loop: two "tasks" interleaved in chunks on one thread, a plain number, no lock
  ctx.signal.throwIfAborted();
  ctx.progress.label('event loop, two interleaved tasks');
  {
    const loop = createLoop({ host: 'none' });
    let counter = 0;
    const task = (left: number): void => {
      const n = Math.min(CHUNK, left);
      for (let i = 0; i < n; i++) counter = counter + 1;
      if (left > n) loop.callSoon(() => task(left - n));
    };
    const t0 = process.hrtime.bigint();
    for (let t = 0; t < THREADS; t++) loop.callSoon(() => task(perThread));
    loop.runBlocking();
    const ns = Number(process.hrtime.bigint() - t0);
    loop.close();
    variants.push({ id: 'event-loop', label: 'event loop, callbacks on one thread', expected, actual: counter, lost: expected - counter, ms: round(ns / 1e6, 2), nsPerIncrement: round(ns / expected, 2), locks: false });
    ctx.progress.tick(1, `event loop: ${expected - counter} lost`);
  }

  // the deadlock: opposite lock order, detected by a timeout, ended by terminating the threads
  ctx.signal.throwIfAborted();
  ctx.progress.label(`deadlock: waiting ${deadlockTimeoutMs} ms`);
  m.fill(0);
  const t0 = performance.now();
  const finished = Promise.all(workers.map((w, index) => w.run({ mode: 'deadlock', iterations: 0, index, threads: THREADS }))).then(() => 'finished' as const);
  finished.catch(() => {}); // rejects when the threads are terminated below
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([finished, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), deadlockTimeoutMs)))]);
  clearTimeout(timer);
  const states = workers.map((_, i) => STATE_NAMES[m[SLOT.STATE + i]!] ?? 'unknown');
  const bothWaiting = workers.every((_, i) => m[SLOT.STATE + i] === STATE.WAITS_SECOND);
  const deadlock = { detected: outcome === 'timeout', timeoutMs: deadlockTimeoutMs, states, bothWaiting, terminated: false, terminateMs: 0 };
  const k0 = performance.now();
  await Promise.all(workers.map((w) => (outcome === 'timeout' ? w.terminate() : w.close())));
  deadlock.terminated = ctx.cleanup.live().filter((l) => l.startsWith('thread ')).length === 0;
  deadlock.terminateMs = round(performance.now() - k0, 1);
  ctx.progress.tick(1, deadlock.detected ? `deadlock detected after ${Math.round(performance.now() - t0)} ms; threads terminated` : 'no deadlock');

  const by = (id: VariantFigures['id']): VariantFigures => variants.find((v) => v.id === id)!;
  const unsync = by('unsync');
  const atomic = by('atomic');
  const mutex = by('mutex');
  const loopV = by('event-loop');
  const lostPct = round((100 * unsync.lost) / unsync.expected, 2);
  const correctWithSync = atomic.lost === 0 && mutex.lost === 0;
  const loopCorrect = loopV.lost === 0;
  const bugsShown = unsync.lost > 0 && deadlock.detected;
  const holds: boolean | 'partly' = bugsShown && correctWithSync && loopCorrect ? true : correctWithSync && loopCorrect && (unsync.lost > 0 || deadlock.detected) ? 'partly' : false;
  const text =
    `without synchronization ${THREADS} threads lost ${unsync.lost} of ${unsync.expected} increments (${lostPct}%; lost in ${unsyncRounds.filter((x) => x > 0).length} of ${UNSYNC_ROUNDS} rounds); ` +
    `Atomics.add lost ${atomic.lost} (${atomic.ms} ms) and the mutex ${mutex.lost} but took ${mutex.ms} ms (${times(mutex.ms / Math.max(0.001, atomic.ms))} Atomics.add); ` +
    `opposite lock order ${deadlock.detected ? `deadlocked (both threads ${bothWaiting ? 'waiting for each other' : states.join(' / ')} after ${deadlockTimeoutMs} ms; terminated)` : 'did not deadlock this time'}; ` +
    `the event loop did the same increments as interleaved callbacks on one thread with no lock: ${loopV.lost} lost in ${loopV.ms} ms: ` +
    (holds === true ? 'claim holds' : holds === 'partly' ? `claim partly holds (${unsync.lost === 0 ? 'no update was lost this run' : 'no deadlock this run'})` : 'claim does not hold here');

  return {
    figures: { threads: THREADS, incrementsPerThread: perThread, expected, variants, unsyncRounds, lostPct, deadlock, chunk: CHUNK },
    tables: [
      {
        title: `${THREADS} × ${perThread} increments of one shared counter (no synchronization: ${UNSYNC_ROUNDS} rounds, lost per round ${unsyncRounds.join(', ')}; ms per round)`,
        head: ['variant', 'expected', 'actual', 'lost', 'ms', 'ns/increment', 'locks'],
        rows: variants.map((v) => [v.label, v.expected, v.actual, v.lost, v.ms, v.nsPerIncrement, v.locks ? 'yes' : 'no']),
      },
      {
        title: 'lock-ordering deadlock (thread 0: A then B, thread 1: B then A)',
        head: ['outcome', 'thread 0', 'thread 1', 'timeout', 'terminated in'],
        rows: [[deadlock.detected ? 'deadlock detected' : 'finished', states[0] ?? '—', states[1] ?? '—', `${deadlockTimeoutMs} ms`, `${deadlock.terminateMs} ms`]],
      },
    ],
    charts: [
      {
        kind: 'chart',
        id: 'time',
        title: 'Time for all increments (ms)',
        config: {
          type: 'bar',
          data: { labels: variants.map((v) => v.label), datasets: [{ label: 'ms', data: variants.map((v) => v.ms) }] },
          options: { plugins: { legend: { display: false } }, scales: { y: { type: 'logarithmic', title: { display: true, text: 'ms (log)' } } } },
        },
      },
      {
        kind: 'chart',
        id: 'lost',
        title: 'Lost updates',
        config: {
          type: 'bar',
          data: { labels: variants.map((v) => v.label), datasets: [{ label: 'lost updates', data: variants.map((v) => v.lost), color: '#dc2626' }] },
          options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, title: { display: true, text: 'increments lost' } } } },
        },
      },
    ],
    verdict: { holds, text },
    notes: [
      `the event loop's tasks yield every ${CHUNK} increments (callSoon), so they interleave like threads do, but a callback is never interrupted in the middle of a read-modify-write`,
      'an event loop is not immune to races across awaits (state read before an await and written after); it needs no locks for the code between them',
    ],
  };
}

export const experiment: Experiment = {
  name: 'shared-state',
  title: 'threads and shared state vs one event loop',
  claim: 'Threads must protect shared resources; subtle bugs and deadlocks follow; the event loop needs no locks.',
  run,
};
