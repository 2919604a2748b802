// termios helpers: raw mode computed from a termios struct, and the calls' errors on an fd that
// is not a terminal. (On a real terminal they are exercised by test/tty/terminal.test.ts, in tmux.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, close, pipe, SysError } from '../../src/sys/index.js';
import { getTermios, isTty, rawTermios, termiosFlags, windowSize } from '../../src/sys/termios.js';

function termios(iflag: number, oflag: number, cflag: number, lflag: number): Buffer {
  const t = Buffer.alloc(C.TERMIOS_SIZE);
  t.writeUInt32LE(iflag, C.TERMIOS_IFLAG_OFFSET);
  t.writeUInt32LE(oflag, C.TERMIOS_OFLAG_OFFSET);
  t.writeUInt32LE(cflag, C.TERMIOS_CFLAG_OFFSET);
  t.writeUInt32LE(lflag, C.TERMIOS_LFLAG_OFFSET);
  return t;
}

describe('termios', () => {
  it('raw mode turns off line editing, echo, key signals, flow control and CR translation, and keeps output processing', () => {
    // a cooked terminal as `stty sane` leaves it
    const cooked = termios(C.BRKINT | C.ICRNL | C.IXON, C.OPOST, 0o277 /* CS8|CREAD|baud bits */ | C.PARENB, C.ISIG | C.ICANON | C.ECHO | C.IEXTEN | 0o1000 /* ECHOCTL */);
    const raw = rawTermios(cooked);
    const f = termiosFlags(raw);
    assert.equal(f.lflag & (C.ICANON | C.ECHO | C.ISIG | C.IEXTEN | C.ECHONL), 0);
    assert.equal(f.lflag & 0o1000, 0o1000, 'other local flags are left alone');
    assert.equal(f.iflag & (C.ICRNL | C.IXON | C.BRKINT), 0);
    assert.equal(f.oflag, C.OPOST);
    assert.equal(f.cflag & C.PARENB, 0);
    assert.equal(f.cflag & C.CSIZE, C.CS8);
    assert.equal(raw[C.TERMIOS_CC_OFFSET + C.VMIN], 1);
    assert.equal(raw[C.TERMIOS_CC_OFFSET + C.VTIME], 0);
    assert.deepEqual(termiosFlags(cooked).lflag & C.ICANON, C.ICANON, 'the original is not modified');
  });

  it('a pipe is not a terminal: isTty is false, tcgetattr and TIOCGWINSZ fail with ENOTTY', () => {
    const [r, w] = pipe();
    try {
      assert.equal(isTty(r), false);
      assert.throws(() => getTermios(r), (e: unknown) => e instanceof SysError && e.code === 'ENOTTY' && e.syscall === 'tcgetattr');
      assert.throws(() => windowSize(w), (e: unknown) => e instanceof SysError && e.code === 'ENOTTY');
    } finally {
      close(r);
      close(w);
    }
  });
});
