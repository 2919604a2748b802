/**
 * Constants that x86_64 and aarch64 Linux share (the asm-generic values and LP64 struct layouts).
 * Only the per-architecture files import this; everything else reads `C` from ./index.js.
 */
export const GENERIC = {
  // open / fcntl flags
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
  F_GETFD: 1,
  FD_CLOEXEC: 1,
  F_GETFL: 3,
  F_SETFL: 4,
  // sockets
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_TYPE: 3,
  SO_ERROR: 4,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_REUSEPORT: 15,
  SO_LINGER: 13,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_IPV6: 41,
  IPV6_V6ONLY: 26,
  TCP_NODELAY: 1,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  MSG_PEEK: 0x2,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  SOMAXCONN: 4096,
  // epoll
  EPOLL_CLOEXEC: 0o2000000,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  EPOLLIN: 0x001,
  EPOLLPRI: 0x002,
  EPOLLOUT: 0x004,
  EPOLLERR: 0x008,
  EPOLLHUP: 0x010,
  EPOLLRDHUP: 0x2000,
  // poll
  POLLIN: 0x001,
  POLLPRI: 0x002,
  POLLOUT: 0x004,
  POLLERR: 0x008,
  POLLHUP: 0x010,
  POLLNVAL: 0x020,
  POLLFD_SIZE: 8, // struct pollfd { int fd; short events; short revents; }
  // select
  FD_SETSIZE: 1024,
  FD_SET_BYTES: 128, // FD_SETSIZE / 8
  TIMEVAL_SIZE: 16, // struct timeval { long tv_sec; long tv_usec; }
  // eventfd / timerfd
  EFD_NONBLOCK: 0o4000,
  EFD_CLOEXEC: 0o2000000,
  TFD_NONBLOCK: 0o4000,
  TFD_CLOEXEC: 0o2000000,
  TFD_TIMER_ABSTIME: 1,
  CLOCK_MONOTONIC: 1,
  ITIMERSPEC_SIZE: 32, // two struct timespec { long tv_sec; long tv_nsec; }
  // resource limits (asm-generic/resource.h); struct rlimit is two 64-bit rlim_t
  RLIMIT_NOFILE: 7,
  RLIMIT_SIZE: 16,
  // structs
  IOVEC_SIZE: 16,
  SOCKADDR_IN_SIZE: 16,
  SOCKADDR_IN6_SIZE: 28,
  SOCKADDR_UN_SIZE: 110,
  SOCKADDR_UN_PATH_MAX: 108,
  SOCKADDR_STORAGE_SIZE: 128,
  SOCKLEN_SIZE: 4, // socklen_t is a 32-bit unsigned int
  // field offsets: every sockaddr starts with a host-order u16 sa_family
  SOCKADDR_PORT_OFFSET: 2, // sin_port / sin6_port, network order
  SOCKADDR_IN_ADDR_OFFSET: 4,
  SOCKADDR_IN6_FLOWINFO_OFFSET: 4, // network order
  SOCKADDR_IN6_ADDR_OFFSET: 8,
  SOCKADDR_IN6_SCOPE_ID_OFFSET: 24, // host order
  SOCKADDR_UN_PATH_OFFSET: 2,
  IOV_MAX: 1024,
  // signals (generic numbering on both architectures)
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGWINCH: 28,
  // terminals (asm-generic/termbits.h; x86_64 uses the same values). glibc's struct termios:
  // four u32 flag words, u8 c_line, u8 c_cc[NCCS=32], padding, u32 c_ispeed, u32 c_ospeed.
  TERMIOS_SIZE: 60,
  TERMIOS_IFLAG_OFFSET: 0,
  TERMIOS_OFLAG_OFFSET: 4,
  TERMIOS_CFLAG_OFFSET: 8,
  TERMIOS_LFLAG_OFFSET: 12,
  TERMIOS_CC_OFFSET: 17,
  TCSANOW: 0,
  TCSADRAIN: 1,
  TCSAFLUSH: 2,
  // c_iflag
  BRKINT: 0o2,
  INPCK: 0o20,
  ISTRIP: 0o40,
  INLCR: 0o100,
  IGNCR: 0o200,
  ICRNL: 0o400,
  IXON: 0o2000,
  // c_oflag
  OPOST: 0o1,
  // c_cflag
  CSIZE: 0o60,
  CS8: 0o60,
  PARENB: 0o400,
  // c_lflag
  ISIG: 0o1,
  ICANON: 0o2,
  ECHO: 0o10,
  ECHONL: 0o100,
  IEXTEN: 0o100000,
  // c_cc indexes
  VTIME: 5,
  VMIN: 6,
  // ioctl: struct winsize { u16 ws_row, ws_col, ws_xpixel, ws_ypixel }
  TIOCGWINSZ: 0x5413,
  WINSIZE_SIZE: 8,
  // libuv (exported by the node binary)
  UV_READABLE: 1,
  UV_WRITABLE: 2,
  UV_POLL_HANDLE_TYPE: 8,
} as const;
