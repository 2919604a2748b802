/**
 * The main-thread side of the busy-polling input thread (busy-poll.worker.ts): starts it on the
 * terminal's device, feeds what it reads to the terminal's decoder (so the same events reach the
 * same handlers), and stops it through a shared flag.
 */
import { readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { isTypeScript, siblingModule } from 'evloop';
import type { Terminal } from 'evloop/tty';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = siblingModule(import.meta.url, './busy-poll.worker');

/**
 * @example
 * term.pause();
 * const poller = new BusyPoller(term);
 * await poller.started;           // its thread id is poller.tid
 * await poller.stop(); term.resume();
 */
export class BusyPoller {
  readonly worker: Worker;
  /** Resolves with the worker's thread id once it polls. */
  readonly started: Promise<number>;
  tid: number | null = null;
  polls = 0;
  #stop = new SharedArrayBuffer(4);
  #stopped: Promise<void>;

  constructor(term: Terminal) {
    const path = readlinkSync(`/proc/self/fd/${term.input}`); // e.g. /dev/pts/3
    this.worker = new Worker(isTypeScript(ENTRY) ? BOOT : ENTRY, { workerData: { entry: ENTRY.href, path, stop: this.#stop } });
    let onStarted!: (tid: number) => void;
    let onFail!: (err: Error) => void;
    this.started = new Promise<number>((resolve, reject) => {
      onStarted = resolve;
      onFail = reject;
    });
    this.started.catch(() => {});
    this.worker.on('message', (m: { type: string; tid?: number; bytes?: Uint8Array; time?: number; polls?: number }) => {
      if (m.type === 'started') {
        this.tid = m.tid!;
        onStarted(m.tid!);
      } else if (m.type === 'bytes') {
        this.polls = m.polls!;
        term.feed(m.bytes!, m.time);
      } else if (m.type === 'stopped') {
        this.polls = m.polls!;
      }
    });
    this.worker.on('error', (err) => onFail(err));
    this.#stopped = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Raises the stop flag and waits until the thread has ended (terminates it after 2 s). */
  async stop(): Promise<void> {
    Atomics.store(new Int32Array(this.#stop), 0, 1);
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await this.#stopped;
    clearTimeout(timer);
  }
}
