/** Constants and struct layouts of Linux on x86_64 (glibc). Values from the kernel's uapi headers. */
import { ERRNO_TABLE } from './errno-generic.js';
import { GENERIC } from './linux-generic.js';

export const LINUX_X64 = {
  ...GENERIC,
  arch: 'x64',
  errno: ERRNO_TABLE,
  /** `struct epoll_event` is __attribute__((packed)) on x86_64: u32 events at 0, u64 data at 4. */
  EPOLL_EVENT_SIZE: 12,
  EPOLL_EVENT_DATA_OFFSET: 4,
} as const;
