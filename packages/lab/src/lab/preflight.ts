/**
 * Checks run before any experiment starts, so bad input fails fast with a clear message and
 * nothing to clean up: external tools on PATH, a free `--port`.
 */
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { EvloopError } from 'evloop';

/** The path of `command` on PATH, or null. */
export function findCommand(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, command);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const INSTALL_HINT: Record<string, string> = { wrk: 'apt-get install wrk' };

/** Throws ERR_LAB_MISSING_TOOL naming the experiments that need each missing command. */
export function assertTools(needs: { experiment: string; requires: readonly string[] }[]): void {
  const missing = new Map<string, string[]>();
  for (const { experiment, requires } of needs) {
    for (const cmd of requires) if (findCommand(cmd) === null) missing.set(cmd, [...(missing.get(cmd) ?? []), experiment]);
  }
  if (missing.size === 0) return;
  const lines = [...missing].map(([cmd, exps]) => `${cmd} (needed by ${exps.join(', ')})${INSTALL_HINT[cmd] ? `: ${INSTALL_HINT[cmd]}` : ''}`);
  throw new EvloopError('ERR_LAB_MISSING_TOOL', `missing command${missing.size > 1 ? 's' : ''} on PATH: ${lines.join('; ')}`);
}

/** Resolves when `port` can be listened on (all interfaces); throws ERR_LAB_PORT_IN_USE otherwise. */
export function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new EvloopError(
          err.code === 'EADDRINUSE' ? 'ERR_LAB_PORT_IN_USE' : 'ERR_LAB_PORT',
          err.code === 'EADDRINUSE' ? `port ${port} is already in use; stop what listens there or pass another --port` : `cannot listen on port ${port}: ${err.message}`,
        ),
      );
    });
    server.listen(port, () => server.close(() => resolve()));
  });
}
