import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import {
  C, E, sys, check, SysError, pipe, socketpair, close,
  socket, bind, listen, accept, recv, send, writev,
  injectFaults, withFaults,
} from '../../src/sys/index.js';

const openFdCount = () => readdirSync('/proc/self/fd').length;

/** Runs `body` with fds it registers closed afterwards (and faults it forgot restored), then checks for leaks. */
async function leakFree(body: (keep: (...fds: number[]) => void) => void | Promise<void>): Promise<void> {
  const before = openFdCount();
  const fds: number[] = [];
  const realRead = sys.read;
  try {
    await body((...more) => fds.push(...more));
  } finally {
    for (const fd of fds) sys.close(fd);
  }
  assert.equal(sys.read, realRead, 'faults were restored');
  assert.equal(openFdCount(), before, 'no fd leaked');
}

const text = (b: Buffer, n: number) => b.toString('utf8', 0, n);

test('read follows its schedule of EINTR, pass and EAGAIN, then passes through', () => leakFree((keep) => {
  const [r, w] = pipe();
  keep(r, w);
  check(sys.write(w, Buffer.from('abcdef'), 6), 'write');
  const buf = Buffer.alloc(3);
  const faults = injectFaults({ read: ['EINTR', 'pass', 'EAGAIN'] });
  try {
    assert.equal(sys.read(r, buf, 3), -E.EINTR);
    assert.equal(sys.read(r, buf, 3), 3);
    assert.equal(text(buf, 3), 'abc');
    assert.equal(sys.read(r, buf, 3), -E.EAGAIN, 'EAGAIN although data is waiting');
    assert.equal(sys.read(r, buf, 3), 3, 'schedule exhausted: real call');
    assert.equal(text(buf, 3), 'def');
  } finally {
    faults.restore();
  }
  assert.deepEqual(faults.injected, { read: { EINTR: 1, EAGAIN: 1 } });
  assert.deepEqual(faults.calls, { read: 4 });
  assert.equal(faults.total, 2);
}));

test('an injected errno is the same number the real call returns', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  const buf = Buffer.alloc(4);
  const real = recv(a, buf);
  assert.equal(real, -E.EAGAIN);
  withFaults({ recv: ['EAGAIN'] }, () => assert.equal(recv(a, buf), real));
}));

test('a short send really sends only the first bytes', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  const buf = Buffer.alloc(32);
  withFaults({ send: [{ short: 3 }] }, (faults) => {
    assert.equal(send(a, Buffer.from('hello world')), 3);
    assert.equal(recv(b, buf), 3);
    assert.equal(text(buf, 3), 'hel');
    assert.equal(send(a, Buffer.from('lo world')), 8, 'next send passes through whole');
    assert.equal(recv(b, buf), 8);
    assert.equal(text(buf, 8), 'lo world');
    assert.deepEqual(faults.injected.send, { short: 1 });
  });
}));

test('a short step never asks for more than the caller did', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  withFaults({ send: [{ short: 100 }] }, () => assert.equal(send(a, Buffer.from('tiny')), 4));
  assert.equal(recv(b, Buffer.alloc(8)), 4);
}));

test('a short write on a pipe writes only the prefix', () => leakFree((keep) => {
  const [r, w] = pipe();
  keep(r, w);
  withFaults({ write: [{ short: 2 }] }, () => assert.equal(sys.write(w, Buffer.from('xyz'), 3), 2));
  const buf = Buffer.alloc(8);
  assert.equal(sys.read(r, buf, 8), 2);
  assert.equal(text(buf, 2), 'xy');
}));

test('a short writev cuts across buffers and leaves the caller iovec intact', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  const chunks = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];
  const buf = Buffer.alloc(16);
  withFaults({ writev: [{ short: 5 }] }, () => {
    assert.equal(writev(a, chunks), 5);
    assert.equal(recv(b, buf), 5);
    assert.equal(text(buf, 5), 'abcde');
    assert.equal(writev(a, chunks), 9, 'then the whole set passes');
    assert.equal(recv(b, buf), 9);
    assert.equal(text(buf, 9), 'abcdefghi');
  });
}));

test('short reads fill only part of the buffer and leave the rest queued', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  send(a, Buffer.from('0123456789'));
  const buf = Buffer.alloc(16);
  withFaults({ recv: { steps: [{ short: 4 }], repeat: true } }, (faults) => {
    assert.equal(recv(b, buf), 4);
    assert.equal(text(buf, 4), '0123');
    assert.equal(recv(b, buf), 4);
    assert.equal(text(buf, 4), '4567');
    assert.equal(recv(b, buf), 2);
    assert.equal(recv(b, buf), -E.EAGAIN, 'a short step still performs the real call');
    assert.equal(faults.injected.recv?.short, 4);
  });
}));

test('every-n schedules fault accept4 with EMFILE on each n-th call', () => leakFree((keep) => {
  const lfd = socket('IPv4', 'stream');
  keep(lfd);
  bind(lfd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(lfd);
  const seen = withFaults({ accept4: { every: 3, fault: 'EMFILE' } }, () => Array.from({ length: 7 }, () => accept(lfd)));
  const A = -E.EAGAIN;
  const M = -E.EMFILE;
  assert.deepEqual(seen, [A, A, M, A, A, M, A]);
}));

test('an every-n schedule with times stops after that many faults', () => leakFree(() => {
  withFaults({ getpid: { every: 2, fault: 'EPERM', times: 2 } }, (faults) => {
    const got = Array.from({ length: 8 }, () => sys.getpid());
    const pid = process.pid;
    assert.deepEqual(got, [pid, -E.EPERM, pid, -E.EPERM, pid, pid, pid, pid]);
    assert.equal(faults.total, 2);
  });
}));

test('ECONNRESET from recv surfaces through check as SysError code ECONNRESET', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  send(b, Buffer.from('data'));
  withFaults({ recv: ['ECONNRESET'] }, () => {
    const rc = recv(a, Buffer.alloc(8));
    assert.equal(rc, -E.ECONNRESET);
    assert.throws(() => check(rc, 'recv'), (e: unknown) =>
      e instanceof SysError && e.code === 'ECONNRESET' && e.errno === E.ECONNRESET && e.syscall === 'recv');
  });
}));

test('checked helpers throw injected errors exactly like real ones and create no fd', () => leakFree(() => {
  withFaults({ socket: ['EMFILE', 'ENFILE'] }, () => {
    assert.throws(() => socket('IPv4', 'stream'), { code: 'EMFILE', syscall: 'socket' });
    assert.throws(() => socket('IPv4', 'stream'), { code: 'ENFILE', syscall: 'socket' });
  });
}));

test('a schedule limited to one fd leaves other fds untouched', () => leakFree((keep) => {
  const [r1, w1] = pipe();
  const [r2, w2] = pipe();
  keep(r1, w1, r2, w2);
  sys.write(w1, Buffer.from('1'), 1);
  sys.write(w2, Buffer.from('2'), 1);
  const buf = Buffer.alloc(1);
  withFaults({ read: { steps: ['EINTR'], fd: r2 } }, (faults) => {
    assert.equal(sys.read(r1, buf, 1), 1, 'other fd passes');
    assert.equal(sys.read(r2, buf, 1), -E.EINTR);
    assert.equal(sys.read(r2, buf, 1), 1);
    assert.equal(faults.calls.read, 3);
  });
}));

test('a function schedule sees the call number and arguments', () => leakFree((keep) => {
  const [a, b] = socketpair();
  keep(a, b);
  const seen: [number, unknown][] = [];
  withFaults({ send: (n, args) => { seen.push([n, args[2]]); return n === 1 ? 'EAGAIN' : 'pass'; } }, () => {
    assert.equal(send(a, Buffer.from('one')), 3);
    assert.equal(send(a, Buffer.from('three')), -E.EAGAIN);
  });
  assert.deepEqual(seen, [[0, 3], [1, 5]]);
}));

test('restore puts the real functions back and is idempotent', () => {
  const realRead = sys.read;
  const realWrite = sys.write;
  const faults = injectFaults({ read: { steps: ['EIO'], repeat: true }, write: ['EPIPE'] });
  assert.notEqual(sys.read, realRead);
  assert.notEqual(sys.write, realWrite);
  faults.restore();
  faults.restore();
  assert.equal(sys.read, realRead);
  assert.equal(sys.write, realWrite);
  assert.equal(sys.read(-1, null, 0), -E.EBADF, 'the real call runs again');
});

test('nested injections restore in reverse order', () => {
  const real = sys.getpid;
  const outer = injectFaults({ getpid: { steps: ['EPERM'], repeat: true } });
  const inner = injectFaults({ getpid: { steps: ['EACCES'], repeat: true } });
  assert.equal(sys.getpid(), -E.EACCES);
  inner.restore();
  assert.equal(sys.getpid(), -E.EPERM);
  outer.restore();
  assert.equal(sys.getpid, real);
  assert.equal(sys.getpid(), process.pid);
});

test('withFaults restores after a synchronous throw and returns the value otherwise', () => {
  const real = sys.getpid;
  assert.throws(() => withFaults({ getpid: ['EPERM'] }, () => { throw new Error('boom'); }), /boom/);
  assert.equal(sys.getpid, real);
  assert.equal(withFaults({ getpid: ['EPERM'] }, () => sys.getpid()), -E.EPERM);
  assert.equal(sys.getpid, real);
});

test('withFaults keeps faults for the whole of an async function and restores when it settles', async () => {
  const real = sys.getpid;
  const value = await withFaults({ getpid: { steps: ['EPERM'], repeat: true } }, async () => {
    await new Promise((r) => setTimeout(r, 5));
    assert.notEqual(sys.getpid, real, 'still injected after an await');
    return sys.getpid();
  });
  assert.equal(value, -E.EPERM);
  assert.equal(sys.getpid, real);
  await assert.rejects(withFaults({ getpid: ['EPERM'] }, async () => {
    await Promise.resolve();
    throw new Error('async boom');
  }), /async boom/);
  assert.equal(sys.getpid, real);
});

test('invalid plans are refused before anything is swapped', () => {
  const real = sys.read;
  const bad: unknown[] = [
    { read: ['EINTR'], nosuch: ['EINTR'] },
    { read: ['ENOTANERRNO'] },
    { read: ['EINTR'], close: [{ short: 1 }] },
    { read: [{ short: 0 }] },
    { read: { every: 0, fault: 'EINTR' } },
    { read: { every: 2, fault: 'EWHAT' } },
    { read: { sometimes: true } },
  ];
  for (const plan of bad) {
    assert.throws(() => injectFaults(plan as never), { code: 'ERR_INVALID_ARG' }, JSON.stringify(plan));
    assert.equal(sys.read, real, JSON.stringify(plan));
  }
});

test('the fault tests leave the sys object and fd table as they found them', () => {
  assert.equal(typeof sys.read, 'function');
  assert.equal(sys.fcntl(-1, C.F_GETFD), -E.EBADF);
  const before = openFdCount();
  const [r, w] = pipe();
  close(r);
  close(w);
  assert.equal(openFdCount(), before);
});
