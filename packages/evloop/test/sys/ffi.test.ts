import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  C, E, sys, check, SysError, errnoName, errnoOf,
  eventfd, eventfdSignal, eventfdDrain, timerfd, timerfdArm, timerfdDrain,
  pipe, socketpair, close, isOpenFd, setNonBlocking, openFileLimit, chmod,
} from '../../src/sys/index.js';
import { EvloopError } from '../../src/errors.js';

const openFdCount = () => readdirSync('/proc/self/fd').length;

/** Blocks up to `ms` for `events` on `fd` (struct pollfd, one entry); returns revents. */
function pollOnce(fd: number, events: number, ms: number): number {
  const pfd = Buffer.alloc(C.POLLFD_SIZE);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(events, 4);
  check(sys.poll(pfd, 1, ms), 'poll');
  return pfd.readInt16LE(6);
}

test('a failed call returns minus errno instead of throwing', () => {
  assert.equal(sys.close(-1), -E.EBADF);
  assert.equal(sys.dup(987654), -E.EBADF);
});

test('a successful call returns its C result', () => {
  const before = openFdCount();
  assert.equal(sys.getpid(), process.pid);
  const fd = sys.dup(0);
  assert.ok(fd > 2);
  assert.equal(sys.close(fd), 0);
  assert.equal(openFdCount(), before);
});

test('check passes results through and throws SysError with code, errno and syscall', () => {
  assert.equal(check(7, 'read'), 7);
  assert.equal(check(0, 'read'), 0);
  assert.throws(() => check(sys.close(-1), 'close', '(fd -1)'), (e: unknown) => {
    assert.ok(e instanceof SysError);
    assert.ok(e instanceof EvloopError);
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'EBADF');
    assert.equal(e.errno, E.EBADF);
    assert.equal(e.syscall, 'close');
    assert.match(e.message, /^close EBADF \(bad file descriptor\) \(fd -1\)$/);
    return true;
  });
});

test('an errno outside the table still gets a stable code', () => {
  const e = new SysError(4000, 'ioctl');
  assert.equal(e.code, 'E4000');
  assert.equal(errnoName(4000), 'E4000');
});

test('errno names and numbers map both ways and unknown names are refused', () => {
  assert.equal(errnoName(E.EAGAIN), 'EAGAIN');
  assert.equal(errnoOf('ECONNREFUSED'), E.ECONNREFUSED);
  assert.throws(() => errnoOf('ENOPE'), { code: 'ERR_INVALID_ARG' });
});

test('fcntl passes its variadic int argument and reads flags back', () => {
  const before = openFdCount();
  const [r, w] = pipe();
  try {
    assert.ok(check(sys.fcntl(r, C.F_GETFL), 'fcntl') & C.O_NONBLOCK);
    setNonBlocking(r, false);
    assert.equal(sys.fcntl(r, C.F_GETFL) & C.O_NONBLOCK, 0);
    const flags = sys.fcntl(r, C.F_GETFL);
    assert.equal(sys.fcntl(r, C.F_SETFL, flags | C.O_NONBLOCK), 0);
    assert.ok(sys.fcntl(r, C.F_GETFL) & C.O_NONBLOCK);
    assert.equal(sys.fcntl(-1, C.F_GETFD), -E.EBADF);
  } finally {
    close(r);
    close(w);
  }
  assert.equal(openFdCount(), before);
});

test('an eventfd counts signals and drains to zero', () => {
  const before = openFdCount();
  const efd = eventfd();
  try {
    assert.equal(eventfdDrain(efd), 0);
    assert.equal(pollOnce(efd, C.POLLIN, 0) & C.POLLIN, 0);
    eventfdSignal(efd);
    eventfdSignal(efd);
    assert.ok(pollOnce(efd, C.POLLIN, 0) & C.POLLIN);
    assert.equal(eventfdDrain(efd), 2);
    assert.equal(eventfdDrain(efd), 0);
  } finally {
    close(efd);
  }
  assert.equal(openFdCount(), before);
});

test('a timerfd fires once after its delay and can be disarmed', () => {
  const before = openFdCount();
  const tfd = timerfd();
  try {
    assert.equal(timerfdDrain(tfd), 0);
    const start = process.hrtime.bigint();
    timerfdArm(tfd, 20);
    assert.ok(pollOnce(tfd, C.POLLIN, 2000) & C.POLLIN, 'timerfd became readable');
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(elapsedMs >= 19, `fired after ${elapsedMs} ms`);
    assert.equal(timerfdDrain(tfd), 1);
    assert.equal(timerfdDrain(tfd), 0, 'one-shot: no second expiry');

    timerfdArm(tfd, 10);
    timerfdArm(tfd, null);
    assert.equal(pollOnce(tfd, C.POLLIN, 40) & C.POLLIN, 0, 'disarmed timer stays silent');

    timerfdArm(tfd, 0); // 0 would disarm in the kernel: it is raised to 1 ns
    assert.ok(pollOnce(tfd, C.POLLIN, 1000) & C.POLLIN);
    assert.equal(timerfdDrain(tfd), 1);
  } finally {
    close(tfd);
  }
  assert.equal(openFdCount(), before);
});

test('a pipe carries bytes and reports EAGAIN when empty', () => {
  const before = openFdCount();
  const [r, w] = pipe();
  try {
    const buf = Buffer.alloc(16);
    assert.equal(sys.read(r, buf, buf.length), -E.EAGAIN);
    assert.equal(sys.write(w, Buffer.from('hello'), 5), 5);
    assert.equal(sys.read(r, buf, buf.length), 5);
    assert.equal(buf.toString('utf8', 0, 5), 'hello');
    assert.ok(sys.fcntl(r, C.F_GETFD) & C.FD_CLOEXEC, 'close-on-exec is set');
  } finally {
    close(r);
    close(w);
  }
  assert.equal(openFdCount(), before);
});

test('a socketpair is connected both ways and non-blocking', () => {
  const before = openFdCount();
  const [a, b] = socketpair();
  try {
    const buf = Buffer.alloc(8);
    assert.equal(sys.recv(b, buf, 8, 0), -E.EAGAIN);
    assert.equal(sys.send(a, Buffer.from('ab'), 2, C.MSG_NOSIGNAL), 2);
    assert.equal(sys.recv(b, buf, 8, 0), 2);
    assert.equal(sys.send(b, Buffer.from('xyz'), 3, C.MSG_NOSIGNAL), 3);
    assert.equal(sys.recv(a, buf, 8, 0), 3);
    assert.equal(buf.toString('utf8', 0, 3), 'xyz');
  } finally {
    close(a);
    close(b);
  }
  assert.equal(openFdCount(), before);
});

test('close throws EBADF for an fd that is already closed, and isOpenFd tells them apart', () => {
  const before = openFdCount();
  const [r, w] = pipe();
  assert.ok(isOpenFd(r));
  close(r);
  close(w);
  assert.equal(isOpenFd(r), false);
  assert.equal(isOpenFd(-1), false);
  assert.throws(() => close(r), { code: 'EBADF', syscall: 'close' });
  assert.equal(openFdCount(), before);
});

test('openFileLimit reads RLIMIT_NOFILE as the shell reports it', () => {
  const { soft, hard } = openFileLimit();
  assert.ok(soft > 0 && soft <= hard, `0 < soft (${soft}) <= hard (${hard})`);
  // a child inherits the limits Node set; `ulimit -Sn`/`-Hn` print them ("unlimited" = Infinity)
  const sh = (flag: string) => spawnSync('/bin/sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
  const num = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  assert.equal(num(sh('-Sn')), soft);
  assert.equal(num(sh('-Hn')), hard);
});

test('chmod sets the permission bits and throws ENOENT naming a missing path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evloop-chmod-'));
  try {
    const f = join(dir, 'f');
    writeFileSync(f, '');
    chmod(f, 0o640);
    assert.equal(statSync(f).mode & 0o7777, 0o640);
    chmod(f, 0o600);
    assert.equal(statSync(f).mode & 0o7777, 0o600);
    assert.throws(() => chmod(join(dir, 'missing'), 0o600), (e: SysError) => e.code === 'ENOENT' && e.syscall === 'chmod' && e.message.includes('missing'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('accept(2)\'s pending network errors EPROTO and ENONET have their names and numbers', () => {
  assert.equal(errnoName(E.EPROTO), 'EPROTO');
  assert.equal(errnoName(E.ENONET), 'ENONET');
  assert.equal(errnoOf('EPROTO'), 71);
  assert.equal(errnoOf('ENONET'), 64);
});
