/**
 * Refuses, at import and before koffi loads, a platform evloop has no system-call table for:
 * one line naming what is supported, never a crash inside the FFI.
 */
import { readFileSync } from 'node:fs';

/** The platforms evloop's sys layer has constants and bindings for. */
export const SUPPORTED_PLATFORMS = ['linux-x64 (glibc)', 'linux-arm64 (glibc)'] as const;

/** Why this platform is not supported, or null when it is. Exported for the tests. */
export function unsupportedReason(platform: string, arch: string, maps: () => string): string | null {
  if (platform !== 'linux') return `this is ${platform}-${arch}`;
  if (arch !== 'x64' && arch !== 'arm64') return `this is linux-${arch}`;
  // musl's dynamic loader is mapped into every process it runs; glibc's never is (cheap: no process.report).
  if (/\/ld-musl-/.test(maps())) return `this is linux-${arch} with musl libc`;
  return null;
}

function readMaps(): string {
  try {
    return readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return '';
  }
}

const reason = unsupportedReason(process.platform, process.arch, readMaps);
if (reason !== null) {
  // Plain Error with a code: the errors module may not load on every platform either.
  throw Object.assign(new Error(`evloop supports ${SUPPORTED_PLATFORMS.join(' and ')}; ${reason} (ERR_UNSUPPORTED_PLATFORM)`), {
    code: 'ERR_UNSUPPORTED_PLATFORM',
  });
}
