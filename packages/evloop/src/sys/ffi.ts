/**
 * The one place that loads koffi. Turns the binding table into the `sys` object: every function
 * returns its C result when it is >= 0 and `-errno` when the call failed (errno is read right
 * after the call, as koffi requires). Hot paths test `rc < 0`; other code wraps calls in `check`.
 *
 * Callers always go through `sys.name(...)` (never a destructured copy), so the fault-injection
 * wrapper (fault.ts) can swap a function for the duration of a test.
 */
import './platform.js';
import koffi from 'koffi';
import { LIBC_BINDINGS, LIBUV_BINDINGS, type Binding } from './bindings.js';

koffi.alias('ssize_t', 'long');
koffi.alias('socklen_t', 'uint32');

/** Memory a call reads or writes: a Buffer or typed array passed by pointer, or null. */
export type Mem = ArrayBufferView | null;

/** The libc calls evloop makes, with their C meaning. Results: >= 0 success, < 0 is -errno. */
export interface Sys {
  close(fd: number): number;
  read(fd: number, buf: Mem, len: number): number;
  write(fd: number, buf: Mem, len: number): number;
  readv(fd: number, iov: Mem, iovcnt: number): number;
  writev(fd: number, iov: Mem, iovcnt: number): number;
  pipe2(fds: Int32Array, flags: number): number;
  dup(fd: number): number;
  /** fcntl with an int argument (F_GETFD, F_GETFL, F_SETFL). */
  fcntl(fd: number, cmd: number, arg?: number): number;
  eventfd(initval: number, flags: number): number;
  timerfd_create(clockid: number, flags: number): number;
  timerfd_settime(fd: number, flags: number, newValue: Mem, oldValue: Mem): number;
  chmod(path: string, mode: number): number;
  /** struct rlimit { rlim_t rlim_cur, rlim_max } into `rlim` (a BigUint64Array(2)). */
  getrlimit(resource: number, rlim: Mem): number;
  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number, fds: Int32Array): number;
  bind(fd: number, addr: Mem, addrlen: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, addr: Mem, addrlen: Mem, flags: number): number;
  connect(fd: number, addr: Mem, addrlen: number): number;
  getsockopt(fd: number, level: number, name: number, value: Mem, len: Mem): number;
  setsockopt(fd: number, level: number, name: number, value: Mem, len: number): number;
  getsockname(fd: number, addr: Mem, addrlen: Mem): number;
  getpeername(fd: number, addr: Mem, addrlen: Mem): number;
  recv(fd: number, buf: Mem, len: number, flags: number): number;
  send(fd: number, buf: Mem, len: number, flags: number): number;
  recvfrom(fd: number, buf: Mem, len: number, flags: number, addr: Mem, addrlen: Mem): number;
  sendto(fd: number, buf: Mem, len: number, flags: number, addr: Mem, addrlen: number): number;
  shutdown(fd: number, how: number): number;
  /** The index of a network interface by name, 0 when there is none. */
  if_nametoindex(name: string): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Mem): number;
  epoll_wait(epfd: number, events: Mem, maxevents: number, timeoutMs: number): number;
  poll(fds: Mem, nfds: number, timeoutMs: number): number;
  select(nfds: number, readfds: Mem, writefds: Mem, exceptfds: Mem, timeout: Mem): number;
  signalfd(fd: number, mask: Mem, flags: number): number;
  pthread_sigmask(how: number, set: Mem, oldset: Mem): number;
  getpid(): number;
  gettid(): number;
  /** 1 when fd is a terminal, 0 (errno ENOTTY) when not. */
  isatty(fd: number): number;
  /** struct termios (C.TERMIOS_SIZE bytes) of the terminal into `termios`. */
  tcgetattr(fd: number, termios: Mem): number;
  /** Sets the terminal's attributes; `when` is C.TCSANOW / C.TCSADRAIN / C.TCSAFLUSH. */
  tcsetattr(fd: number, when: number, termios: Mem): number;
  /** ioctl with a pointer argument (TIOCGWINSZ into a C.WINSIZE_SIZE buffer). */
  ioctl(fd: number, request: number, arg: Mem): number;
}

/**
 * The same calls run on libuv's threadpool (koffi `.async`), resolving to the C result. errno is
 * not carried across threads: a negative result is reported as -1 and callers retry synchronously
 * to learn the error. Memory passed in must stay alive and untouched until the promise settles.
 */
export type SysAsync = {
  [K in (typeof LIBC_BINDINGS)[number] as K extends { async: true } ? K['name'] : never]: (
    ...args: Parameters<Sys[K['name'] & keyof Sys]>
  ) => Promise<number>;
};

type Native = ((...args: unknown[]) => number) & { async: (...args: unknown[]) => void };

function prototype(b: Binding): string {
  const params = b.params.join(', ') + (b.variadic ? ', ...' : '');
  return `${b.ret} ${b.name}(${params})`;
}

/** Wraps a native call so failure returns -errno. Arity-specialised: no rest-args on the hot path. */
function errnoReturning(f: Native, arity: number): (...args: never[]) => number {
  const e = koffi.errno;
  switch (arity) {
    case 0: return () => { const r = f(); return r < 0 ? -e() : r; };
    case 1: return (a: unknown) => { const r = f(a); return r < 0 ? -e() : r; };
    case 2: return (a: unknown, b: unknown) => { const r = f(a, b); return r < 0 ? -e() : r; };
    case 3: return (a: unknown, b: unknown, c: unknown) => { const r = f(a, b, c); return r < 0 ? -e() : r; };
    case 4: return (a: unknown, b: unknown, c: unknown, d: unknown) => { const r = f(a, b, c, d); return r < 0 ? -e() : r; };
    case 5: return (a: unknown, b: unknown, c: unknown, d: unknown, g: unknown) => { const r = f(a, b, c, d, g); return r < 0 ? -e() : r; };
    default: return (...args: unknown[]) => { const r = f(...args); return r < 0 ? -e() : r; };
  }
}

function loadLibc(): { sys: Sys; sysAsync: SysAsync } {
  const libc = koffi.load('libc.so.6');
  const sys: Record<string, unknown> = {};
  const sysAsync: Record<string, unknown> = {};
  for (const b of LIBC_BINDINGS as readonly Binding[]) {
    const native = libc.func(prototype(b)) as Native;
    sys[b.name] = errnoReturning(native, b.params.length);
    if (b.async) {
      sysAsync[b.name] = (...args: unknown[]) =>
        new Promise<number>((resolve, reject) => {
          native.async(...args, (err: unknown, r: number) => (err ? reject(err) : resolve(r)));
        });
    }
  }
  // fcntl is variadic in C: koffi needs the type of the extra argument spelled out.
  const fcntl = libc.func(prototype(LIBC_BINDINGS.find((b) => b.name === 'fcntl')!)) as Native;
  sys.fcntl = (fd: number, cmd: number, arg?: number) => {
    const r = arg === undefined ? fcntl(fd, cmd) : fcntl(fd, cmd, 'int', arg);
    return r < 0 ? -koffi.errno() : r;
  };
  // ioctl is variadic too; evloop only passes it a pointer.
  const ioctl = libc.func(prototype(LIBC_BINDINGS.find((b) => b.name === 'ioctl')!)) as Native;
  sys.ioctl = (fd: number, request: number, arg: Mem) => {
    const r = ioctl(fd, request, 'void *', arg);
    return r < 0 ? -koffi.errno() : r;
  };
  return { sys: sys as unknown as Sys, sysAsync: sysAsync as unknown as SysAsync };
}

const loaded = loadLibc();

/** The libc calls, returning -errno on failure. Swappable by fault.ts; always call as `sys.x()`. */
export const sys: Sys = loaded.sys;
/** The threadpool variants of the calls marked `async` in the table. */
export const sysAsync: SysAsync = loaded.sysAsync;

/** libuv's functions as exported by the node binary (pointers are bigint). */
export interface Libuv {
  uv_default_loop(): bigint;
  uv_handle_size(type: number): number;
  uv_poll_init(loop: bigint, handle: Mem, fd: number): number;
  uv_poll_start(handle: Mem, events: number, cb: unknown): number;
  uv_poll_stop(handle: Mem): number;
  uv_close(handle: Mem, closeCb: null): void;
  uv_ref(handle: Mem): void;
  uv_unref(handle: Mem): void;
  /** Makes a JS function callable by libuv as a uv_poll_cb; release it with `unregister`. */
  registerPollCallback(fn: (handle: unknown, status: number, events: number) => void): unknown;
  unregister(cb: unknown): void;
}

let libuv: Libuv | null | undefined;

/**
 * libuv as exported by the running node binary, or null when its symbols are not exported
 * (some distribution builds link libuv privately). Set EVLOOP_NO_LIBUV=1 to pretend it is missing.
 */
export function loadLibuv(): Libuv | null {
  if (libuv !== undefined) return libuv;
  if (process.env.EVLOOP_NO_LIBUV === '1') return (libuv = null);
  try {
    const self = koffi.load(null as unknown as string);
    const pollCb = koffi.proto('void uv_poll_cb(void *handle, int status, int events)');
    const api: Record<string, unknown> = {};
    for (const b of LIBUV_BINDINGS as readonly Binding[]) api[b.name] = self.func(prototype(b));
    api.registerPollCallback = (fn: (h: unknown, s: number, e: number) => void) => koffi.register(fn, koffi.pointer(pollCb));
    api.unregister = (cb: unknown) => koffi.unregister(cb as never);
    libuv = api as unknown as Libuv;
  } catch {
    libuv = null;
  }
  return libuv;
}
