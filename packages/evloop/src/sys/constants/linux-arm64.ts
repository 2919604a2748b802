/** Constants and struct layouts of Linux on aarch64 (glibc). Values from the kernel's uapi headers. */
import { ERRNO_TABLE } from './errno-generic.js';
import { GENERIC } from './linux-generic.js';

export const LINUX_ARM64 = {
  ...GENERIC,
  arch: 'arm64',
  errno: ERRNO_TABLE,
  /** `struct epoll_event` is naturally aligned on aarch64: u32 events at 0, padding, u64 data at 8. */
  EPOLL_EVENT_SIZE: 16,
  EPOLL_EVENT_DATA_OFFSET: 8,
} as const;
