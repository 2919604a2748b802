/**
 * The declarative binding table: every libc function evloop calls, as (result, name, params).
 * Read it as C prototypes. `ssize_t`/`socklen_t` are aliases koffi lacks (see ffi.ts); buffers
 * are `void *` so a Buffer or typed array is passed by pointer, never copied.
 * `async` marks calls that may also be run on libuv's threadpool (koffi `.async`), for the
 * thread-wait host integration and blocking-model experiments.
 */
export interface Binding {
  readonly ret: string;
  readonly name: string;
  readonly params: readonly string[];
  readonly async?: boolean;
  /** a variadic C function (koffi needs the "..." to pass typed extra arguments) */
  readonly variadic?: boolean;
}

export const LIBC_BINDINGS = [
  // file descriptors
  { ret: 'int', name: 'close', params: ['int'] },
  { ret: 'ssize_t', name: 'read', params: ['int', 'void *', 'size_t'], async: true },
  { ret: 'ssize_t', name: 'write', params: ['int', 'const void *', 'size_t'], async: true },
  { ret: 'ssize_t', name: 'readv', params: ['int', 'const void *', 'int'] },
  { ret: 'ssize_t', name: 'writev', params: ['int', 'const void *', 'int'] },
  { ret: 'int', name: 'pipe2', params: ['void *', 'int'] },
  { ret: 'int', name: 'dup', params: ['int'] },
  { ret: 'int', name: 'fcntl', params: ['int', 'int'], variadic: true },
  { ret: 'int', name: 'eventfd', params: ['uint', 'int'] },
  { ret: 'int', name: 'timerfd_create', params: ['int', 'int'] },
  { ret: 'int', name: 'timerfd_settime', params: ['int', 'int', 'const void *', 'void *'] },
  // files and process limits (mode_t is an unsigned int on Linux)
  { ret: 'int', name: 'chmod', params: ['const char *', 'uint'] },
  { ret: 'int', name: 'getrlimit', params: ['int', 'void *'] },
  // sockets
  { ret: 'int', name: 'socket', params: ['int', 'int', 'int'] },
  { ret: 'int', name: 'socketpair', params: ['int', 'int', 'int', 'void *'] },
  { ret: 'int', name: 'bind', params: ['int', 'const void *', 'socklen_t'] },
  { ret: 'int', name: 'listen', params: ['int', 'int'] },
  { ret: 'int', name: 'accept4', params: ['int', 'void *', 'void *', 'int'], async: true },
  { ret: 'int', name: 'connect', params: ['int', 'const void *', 'socklen_t'], async: true },
  { ret: 'int', name: 'getsockopt', params: ['int', 'int', 'int', 'void *', 'void *'] },
  { ret: 'int', name: 'setsockopt', params: ['int', 'int', 'int', 'const void *', 'socklen_t'] },
  { ret: 'int', name: 'getsockname', params: ['int', 'void *', 'void *'] },
  { ret: 'int', name: 'getpeername', params: ['int', 'void *', 'void *'] },
  { ret: 'ssize_t', name: 'recv', params: ['int', 'void *', 'size_t', 'int'], async: true },
  { ret: 'ssize_t', name: 'send', params: ['int', 'const void *', 'size_t', 'int'], async: true },
  { ret: 'ssize_t', name: 'recvfrom', params: ['int', 'void *', 'size_t', 'int', 'void *', 'void *'] },
  { ret: 'ssize_t', name: 'sendto', params: ['int', 'const void *', 'size_t', 'int', 'const void *', 'socklen_t'] },
  { ret: 'int', name: 'shutdown', params: ['int', 'int'] },
  // IPv6 zone names ('fe80::1%eth0'); returns 0 (not -1) for an unknown interface
  { ret: 'uint', name: 'if_nametoindex', params: ['const char *'] },
  // multiplexers
  { ret: 'int', name: 'epoll_create1', params: ['int'] },
  { ret: 'int', name: 'epoll_ctl', params: ['int', 'int', 'int', 'void *'] },
  { ret: 'int', name: 'epoll_wait', params: ['int', 'void *', 'int', 'int'], async: true },
  { ret: 'int', name: 'poll', params: ['void *', 'ulong', 'int'], async: true },
  { ret: 'int', name: 'select', params: ['int', 'void *', 'void *', 'void *', 'void *'], async: true },
  // signals and processes
  { ret: 'int', name: 'signalfd', params: ['int', 'const void *', 'int'] },
  { ret: 'int', name: 'pthread_sigmask', params: ['int', 'const void *', 'void *'] },
  { ret: 'int', name: 'getpid', params: [] },
  // terminals (termios; the struct's layout is in the constants files)
  { ret: 'int', name: 'isatty', params: ['int'] },
  { ret: 'int', name: 'tcgetattr', params: ['int', 'void *'] },
  { ret: 'int', name: 'tcsetattr', params: ['int', 'int', 'const void *'] },
  { ret: 'int', name: 'ioctl', params: ['int', 'ulong'], variadic: true },
  { ret: 'int', name: 'gettid', params: [] },
] as const satisfies readonly Binding[];

/**
 * libuv functions the node binary exports; used only by the uv_poll host integration
 * (src/loop/host-uv-poll.ts). They are optional: a node built without exported uv symbols
 * makes `loadLibuv()` return null and the loop falls back to the thread-wait integration.
 */
export const LIBUV_BINDINGS = [
  { ret: 'void *', name: 'uv_default_loop', params: [] },
  { ret: 'size_t', name: 'uv_handle_size', params: ['int'] },
  { ret: 'int', name: 'uv_poll_init', params: ['void *', 'void *', 'int'] },
  { ret: 'int', name: 'uv_poll_start', params: ['void *', 'int', 'uv_poll_cb *'] },
  { ret: 'int', name: 'uv_poll_stop', params: ['void *'] },
  { ret: 'void', name: 'uv_close', params: ['void *', 'void *'] },
  { ret: 'void', name: 'uv_ref', params: ['void *'] },
  { ret: 'void', name: 'uv_unref', params: ['void *'] },
] as const satisfies readonly Binding[];
