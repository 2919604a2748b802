/**
 * A server thread of experiment 1 (thread per connection, and the fixed thread pool): blocking
 * system calls only. 'connection' serves the one connection it was given (keep-alive) and ends;
 * 'pool' accepts on the shared blocking listening socket, serves that connection until the
 * client closes it, and accepts the next one, forever. Each request waits on the slow server over
 * this thread's own blocking upstream connection. The server runs it bundled to plain JavaScript
 * (server-models.bundle.ts): a thread's start-up is then Node's, not TypeScript compilation's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect as connectSocket } from 'evloop/sys';
import { accept, C, check, close, setNonBlocking, setNoDelay, socket, sys } from 'evloop/sys';

interface ThreadData {
  mode: 'connection' | 'pool';
  /** the connection ('connection') or the listening socket ('pool') */
  fd: number;
  upstreamPort: number;
  delayMs: number;
}

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
const d = workerData as ThreadData;
const inBuf = Buffer.alloc(16 * 1024);
const upBuf = Buffer.alloc(64);
const upReq = Buffer.from(`${d.delayMs}\n`);

function openUpstream(): number {
  const fd = socket('IPv4', 'stream');
  setNonBlocking(fd, false);
  check(connectSocket(fd, { family: 'IPv4', address: '127.0.0.1', port: d.upstreamPort }), 'connect');
  setNoDelay(fd);
  return fd;
}

function sendAll(fd: number, buf: Buffer): boolean {
  for (let off = 0; off < buf.length; ) {
    const rc = sys.send(fd, buf.subarray(off), buf.length - off, C.MSG_NOSIGNAL);
    if (rc < 0) return false;
    off += rc;
  }
  return true;
}

/** Serves one connection until the client closes it (requests one at a time, as clients send them). */
function serve(fd: number, up: number): void {
  let held = 0;
  for (;;) {
    const head = inBuf.subarray(0, held).indexOf('\r\n\r\n');
    if (head < 0) {
      const rc = sys.recv(fd, inBuf.subarray(held), inBuf.length - held, 0);
      if (rc <= 0 || held + rc >= inBuf.length) return;
      held += rc;
      continue;
    }
    // the request's handler: one round trip to the slow server
    if (!sendAll(up, upReq)) throw new Error('the slow server connection failed');
    let got = 0;
    while (upBuf.subarray(0, got).indexOf(10) < 0) {
      const rc = check(sys.recv(up, upBuf.subarray(got), upBuf.length - got, 0), 'recv');
      if (rc === 0) throw new Error('the slow server closed the connection');
      got += rc;
    }
    if (!sendAll(fd, RESPONSE)) return;
    inBuf.copy(inBuf, 0, head + 4, held);
    held -= head + 4;
  }
}

const up = openUpstream();
if (d.mode === 'connection') {
  setNonBlocking(d.fd, false);
  try {
    serve(d.fd, up);
  } finally {
    close(d.fd);
    close(up);
  }
} else {
  parentPort?.postMessage('ready');
  for (;;) {
    const fd = accept(d.fd); // blocking: the listening socket is in blocking mode
    if (fd < 0) continue;
    setNonBlocking(fd, false);
    setNoDelay(fd);
    try {
      serve(fd, up);
    } finally {
      close(fd);
    }
  }
}
