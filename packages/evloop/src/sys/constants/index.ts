/**
 * The constants of the platform we run on, picked once at load time. Code outside
 * src/sys/constants reads `C.NAME`; it never writes a number of the kernel ABI inline.
 */
import '../platform.js';
import { LINUX_ARM64 } from './linux-arm64.js';
import { LINUX_X64 } from './linux-x64.js';

function pick() {
  if (process.platform !== 'linux') {
    throw Object.assign(new Error(`evloop needs Linux (this is ${process.platform})`), { code: 'ERR_UNSUPPORTED_PLATFORM' });
  }
  if (process.arch === 'x64') return LINUX_X64;
  if (process.arch === 'arm64') return LINUX_ARM64;
  throw Object.assign(new Error(`evloop supports linux-x64 and linux-arm64, not linux-${process.arch}`), { code: 'ERR_UNSUPPORTED_PLATFORM' });
}

export const C: typeof LINUX_X64 | typeof LINUX_ARM64 = pick();
