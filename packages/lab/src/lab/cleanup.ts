/**
 * The cleanup registry: every child process, worker thread and server an experiment starts
 * registers a disposer here. The runner calls `disposeAll()` after each experiment, on error and
 * on Ctrl-C, so nothing the lab started outlives it; `live()` and `childPids()` are the
 * leftovers check.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { procStat } from 'evloop/sys';

interface Entry {
  label: string;
  dispose: () => void | Promise<void>;
}

/** How long one disposer may take before the registry moves on (it is reported as stuck). */
const DISPOSE_TIMEOUT_MS = 3000;

export class CleanupRegistry {
  #entries = new Set<Entry>();
  /** Labels of disposers that threw or timed out (reported in results.json). */
  readonly failures: string[] = [];

  /**
   * Registers a disposer; returns `release`, to call when the resource ended by itself
   * (the disposer is then forgotten without running).
   * @example const release = ctx.cleanup.add('echo server', () => server.close());
   */
  add(label: string, dispose: () => void | Promise<void>): () => void {
    const entry: Entry = { label, dispose };
    this.#entries.add(entry);
    return () => void this.#entries.delete(entry);
  }

  /**
   * Tracks a child process: released when it exits; disposed with SIGTERM, then SIGKILL after
   * 1 s. Spawn it `detached: true` to have its whole process group signalled.
   */
  trackChild(child: ChildProcess, label = `child ${child.pid}`): ChildProcess {
    const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
    const release = this.add(label, async () => {
      if (exited() || child.pid === undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      signalChild(child, 'SIGTERM');
      const timer = setTimeout(() => signalChild(child, 'SIGKILL'), 1000);
      await gone;
      clearTimeout(timer);
    });
    if (exited()) release();
    else child.once('exit', release);
    return child;
  }

  /** Tracks a worker thread: released when it exits; disposed with `terminate()`. */
  trackWorker(worker: Worker, label = `worker ${worker.threadId}`, unblock?: () => void): Worker {
    let exited = false;
    const release = this.add(label, async () => {
      if (exited) return;
      const p = worker.terminate();
      // a worker blocked in a system call terminates only when the call returns: make it return
      unblock?.();
      await p;
    });
    worker.once('exit', () => {
      exited = true;
      release();
    });
    return worker;
  }

  /** Labels of the resources still registered (empty after a clean run). */
  live(): string[] {
    return [...this.#entries].map((e) => e.label);
  }

  /** Disposes everything still registered, newest first; never throws. */
  async disposeAll(): Promise<void> {
    const entries = [...this.#entries].reverse();
    this.#entries.clear();
    for (const e of entries) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(e.dispose),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), DISPOSE_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        this.failures.push(`${e.label}: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // a detached child leads its own process group: signal the group (its own children too)
    if (child.spawnargs && child.pid !== undefined && isGroupLeader(child.pid)) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

function isGroupLeader(pid: number): boolean {
  const f = procStat(pid);
  return f !== null && Number(f[2]) === pid;
}

/**
 * PIDs of the live (non-zombie) child processes of `pid` (default: this process), leaving out
 * tsx's own esbuild service (started by the loader, not by the lab).
 */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = procStat(Number(name));
    if (f === null || Number(f[1]) !== pid || f[0] === 'Z') continue;
    if (commandName(Number(name)) === 'esbuild') continue;
    out.push(Number(name));
  }
  return out;
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
