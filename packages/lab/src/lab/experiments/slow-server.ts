/**
 * Starts the slow server (slow-server.child.ts) in a child process, registered with the cleanup
 * registry; resolves with its port once it listens.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnNode, waitForPort } from '../child-port.js';
import type { LabContext } from '../experiment.js';
import { siblingModule, nodeArgsFor } from 'evloop';

const CHILD = siblingModule(import.meta.url, './slow-server.child');

export interface SlowServer {
  port: number;
  child: ChildProcess;
  close(): Promise<void>;
}

/** Listens on `--port` when given, else an ephemeral port. @param cpus taskset CPU list to pin it to (e.g. '1') */
export async function startSlowServer(ctx: LabContext, cpus?: string): Promise<SlowServer> {
  const env = { ...process.env, SLOW_SERVER_PORT: String(ctx.basePort ?? 0) };
  ctx.signal.throwIfAborted();
  const args = [...nodeArgsFor(CHILD), CHILD.pathname];
  const child = spawnNode(args, cpus, { stdio: ['pipe', 'pipe', 'inherit'], detached: true, env });
  ctx.cleanup.trackChild(child, 'slow server');
  const port = await waitForPort(child, 'slow server', 20_000);
  return {
    port,
    child,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
