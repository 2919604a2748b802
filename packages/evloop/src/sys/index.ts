/** The sys layer's public surface: the only module tree that imports koffi. */
export { C } from './constants/index.js';
export { E } from './errno.js';
export { sys, sysAsync, loadLibuv, type Sys, type SysAsync, type Mem, type Libuv } from './ffi.js';
export { SysError, check, errnoName, errnoOf } from './sys-error.js';
export * from './fds.js';
export { procStat, cpuTicks } from './procfs.js';
export * from './sockaddr.js';
export * from './socket.js';
export { injectFaults, withFaults, type FaultPlan, type FaultSchedule, type FaultStep, type FaultHandle } from './fault.js';
export { isTty, getTermios, setTermios, termiosFlags, rawTermios, windowSize, writeFully } from './termios.js';
