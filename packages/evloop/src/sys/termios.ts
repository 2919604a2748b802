/**
 * Terminal attributes (termios) and window size: what raw-mode input needs. The struct is kept as
 * an opaque Buffer of C.TERMIOS_SIZE bytes; only the flag words and c_cc are touched, at the
 * offsets of the platform's constants file. All functions throw SysError on failure.
 */
import { C } from './constants/index.js';
import { sys } from './ffi.js';
import { E } from './errno.js';
import { check } from './sys-error.js';

/** Whether `fd` is a terminal. @example if (!isTty(0)) throw new Error('stdin is not a terminal'); */
export function isTty(fd: number): boolean {
  return sys.isatty(fd) === 1;
}

/** The terminal's attributes (a copy to hand back to `setTermios` later). */
export function getTermios(fd: number): Buffer {
  const t = Buffer.alloc(C.TERMIOS_SIZE);
  check(sys.tcgetattr(fd, t), 'tcgetattr');
  return t;
}

/** Applies attributes; `when` defaults to TCSANOW (TCSAFLUSH also discards unread input). */
export function setTermios(fd: number, termios: Buffer, when: number = C.TCSANOW): void {
  check(sys.tcsetattr(fd, when, termios), 'tcsetattr');
}

/** The four flag words of a termios buffer. */
export function termiosFlags(t: Buffer): { iflag: number; oflag: number; cflag: number; lflag: number } {
  return {
    iflag: t.readUInt32LE(C.TERMIOS_IFLAG_OFFSET),
    oflag: t.readUInt32LE(C.TERMIOS_OFLAG_OFFSET),
    cflag: t.readUInt32LE(C.TERMIOS_CFLAG_OFFSET),
    lflag: t.readUInt32LE(C.TERMIOS_LFLAG_OFFSET),
  };
}

/**
 * A raw-mode copy of `t`, as cfmakeraw(3): no line editing, echo, signals from keys (Ctrl-C
 * arrives as byte 3), flow control or CR/NL translation, 8-bit chars; read returns after 1 byte.
 * Output post-processing (OPOST) is kept so "\n" still starts a new line on screen.
 */
export function rawTermios(t: Buffer): Buffer {
  const r = Buffer.from(t);
  const f = termiosFlags(t);
  const iflag = f.iflag & ~(C.BRKINT | C.ICRNL | C.INPCK | C.ISTRIP | C.IXON | C.INLCR | C.IGNCR);
  const cflag = (f.cflag & ~(C.CSIZE | C.PARENB)) | C.CS8;
  const lflag = f.lflag & ~(C.ECHO | C.ECHONL | C.ICANON | C.ISIG | C.IEXTEN);
  r.writeUInt32LE(iflag >>> 0, C.TERMIOS_IFLAG_OFFSET);
  r.writeUInt32LE(cflag >>> 0, C.TERMIOS_CFLAG_OFFSET);
  r.writeUInt32LE(lflag >>> 0, C.TERMIOS_LFLAG_OFFSET);
  r[C.TERMIOS_CC_OFFSET + C.VMIN] = 1;
  r[C.TERMIOS_CC_OFFSET + C.VTIME] = 0;
  return r;
}

/** The terminal's size in character cells (TIOCGWINSZ). */
export function windowSize(fd: number): { columns: number; rows: number } {
  const ws = Buffer.alloc(C.WINSIZE_SIZE);
  check(sys.ioctl(fd, C.TIOCGWINSZ, ws), 'ioctl', '(TIOCGWINSZ)');
  return { rows: ws.readUInt16LE(0), columns: ws.readUInt16LE(2) };
}

const pollfd = Buffer.alloc(C.POLLFD_SIZE);

/**
 * Writes all of `data` to `fd`, waiting (poll) when a non-blocking fd is full: a terminal's
 * output must arrive whole and in order, even from an exit handler where nothing can be awaited.
 */
export function writeFully(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    const rc = sys.write(fd, data.subarray(off), data.length - off);
    if (rc >= 0) {
      off += rc;
      continue;
    }
    if (-rc === E.EINTR) continue;
    if (-rc !== E.EAGAIN) check(rc, 'write');
    pollfd.writeInt32LE(fd, 0);
    pollfd.writeInt16LE(C.POLLOUT, 4);
    pollfd.writeInt16LE(0, 6);
    sys.poll(pollfd, 1, 1000);
  }
}
