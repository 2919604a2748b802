/**
 * What a test needs from the machine (a command, a folder outside the repo, IPv6). Locally a
 * missing requirement skips the test with a reason; under CI (`CI` set, as GitHub Actions and
 * most CI services do), where scripts/install-system-deps.sh provides everything, it fails the
 * test: a broken CI image must not pass by skipping.
 *
 * Call these inside the test, so only that test fails under CI:
 * @example
 * it('curl gets a page', async (t) => {
 *   const skip = requireTool('curl');
 *   if (skip) return t.skip(skip);
 *   ...
 * });
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';

/** True under CI: `CI` set to anything but '', '0' or 'false'. */
export function inCi(): boolean {
  const v = process.env['CI'];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** The skip reason for a requirement that is not met; under CI it throws instead. */
export function missing(reason: string): string {
  if (inCi()) throw new Error(`${reason}: required under CI=${process.env['CI']} (a skip here would hide a broken CI image)`);
  return reason;
}

/** A command on the PATH (curl, wrk …): `false` when found, else the skip reason. */
export function requireTool(cmd: string): string | false {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    return false;
  } catch {
    return missing(`${cmd} is not installed`);
  }
}

let ipv6Probe: Promise<boolean> | undefined;

/**
 * The IPv6 loopback, probed with Node's own `net` (listen on ::1), so that a fault in evloop's
 * own bind shows up as a failure of the test, not as "no IPv6 here".
 * `false` when it works, else the skip reason.
 */
export async function requireIPv6(): Promise<string | false> {
  ipv6Probe ??= new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
  return (await ipv6Probe) ? false : missing('IPv6 ::1 is not available on this machine (Node cannot listen on it)');
}
