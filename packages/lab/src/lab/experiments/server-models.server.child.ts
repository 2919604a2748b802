/**
 * The servers of experiment 1, one per process (the lab pins it and reads its CPU time and memory
 * from /proc, children included). Argument: a JSON ServerSpec. Every model serves the same
 * handler: wait on the slow server (one request, `delayMs`), then answer "ok".
 * - process:  the main thread accepts; each connection gets a new process (CGI/inetd style) with
 *             the socket as its stdin/stdout, at most `maxChildren` at once
 * - thread:   the main thread accepts; each connection gets a new thread doing blocking calls, at
 *             most `maxThreads` at once
 * - pool:     `poolSize` threads, each blocking in accept() on the shared listening socket
 * - evloop:   one evloop reactor running the evloop HTTP server
 * - per-core: `reactors` evloop processes on the same port (SO_REUSEPORT)
 * Prints `PORT <n>` once it accepts connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createHttpServer, getDefaultLoop, READABLE } from 'evloop';
import { accept, bind, close, E, listen, localAddress, setNonBlocking, setReuseAddr, setReusePort, socket, sys } from 'evloop/sys';
import { bundleThreadWorker } from './server-models.bundle.js';
import { Upstream } from './upstream.js';

export type ModelId = 'process' | 'thread' | 'pool' | 'evloop' | 'per-core';

export interface ServerSpec {
  model: ModelId;
  upstreamPort: number;
  delayMs: number;
  /** 0: pick one (per-core children get the parent's) */
  port?: number;
  reusePort?: boolean;
  maxChildren: number;
  maxThreads: number;
  poolSize: number;
  reactors: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
const CGI = new URL('./server-models.cgi.child.mjs', import.meta.url);
const announce = (port: number): void => void process.stdout.write(`PORT ${port}\n`);
const children = new Set<ChildProcess>();
const THREAD = spec.model === 'thread' || spec.model === 'pool' ? bundleThreadWorker() : null;
// the bundle is plain JavaScript: its threads do not inherit this process's `--import tsx`
// (a Worker inherits execArgv; tsx in every thread tripled a thread's start: ~240 vs ~80 ms of CPU)
const THREAD_OPTIONS = { execArgv: [] as string[] };

// the lab stops a server with SIGTERM; its children go with it. Not process.exit(): it waits for
// worker threads, and a thread blocked in accept() or recv() never stops.
process.on('SIGTERM', () => {
  for (const c of children) c.kill('SIGKILL');
  process.kill(process.pid, 'SIGKILL');
});

function listenSocket(port = 0, reusePort = false): number {
  const fd = socket('IPv4', 'stream');
  setReuseAddr(fd); // the models take turns on one port with --port
  if (reusePort) setReusePort(fd);
  bind(fd, { family: 'IPv4', address: '127.0.0.1', port });
  listen(fd, 4096);
  return fd;
}

const portOf = (fd: number): number => {
  const a = localAddress(fd);
  return a.family === 'unix' ? 0 : a.port;
};

const pollFd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;

/** Whether the client has closed (or reset) the connection, even with its request still unread. */
function peerClosed(fd: number): boolean {
  pollFd.writeInt32LE(fd, 0);
  pollFd.writeInt16LE(POLLIN | POLLRDHUP, 4);
  pollFd.writeInt16LE(0, 6);
  if (sys.poll(pollFd, 1, 0) <= 0) return false;
  return (pollFd.readInt16LE(6) & (POLLRDHUP | POLLERR | POLLHUP)) !== 0;
}

/** The accepting main thread of 'process' and 'thread': at most `max` handlers at once. */
function acceptLoop(max: number, start: (fd: number, done: () => void) => void): void {
  const loop = getDefaultLoop();
  const lfd = listenSocket(spec.port);
  let live = 0;
  const w = loop.watch(lfd, READABLE, () => {
    while (live < max) {
      const fd = accept(lfd);
      if (fd < 0) {
        if (-fd === E.EAGAIN) return;
        continue;
      }
      // a connection its client already closed (the lab's previous point leaves its queued ones in
      // the backlog) gets no process or thread: like a web server reading the request before it
      // hands it to a CGI program
      if (peerClosed(fd)) {
        close(fd);
        continue;
      }
      live++;
      // handlers start from Node's own loop, after the whole accept burst
      setImmediate(() =>
        start(fd, () => {
          live--;
          if (live < max && w.interest === 0) w.setInterest(READABLE);
        }),
      );
    }
    w.setInterest(0); // full: the rest wait in the backlog
  });
  announce(portOf(lfd));
}

switch (spec.model) {
  case 'process':
    acceptLoop(spec.maxChildren, (fd, done) => {
      setNonBlocking(fd, false);
      const child = spawn(process.execPath, [CGI.pathname], {
        stdio: [fd, fd, 'ignore'],
        env: { UPSTREAM_PORT: String(spec.upstreamPort), DELAY_MS: String(spec.delayMs) },
      });
      children.add(child);
      close(fd); // the child has its own copy
      child.once('exit', () => {
        children.delete(child);
        done();
      });
      child.once('error', () => {
        children.delete(child);
        done();
      });
    });
    break;
  case 'thread':
    acceptLoop(spec.maxThreads, (fd, done) => {
      const w = new Worker(THREAD!, { ...THREAD_OPTIONS, workerData: { mode: 'connection', fd, upstreamPort: spec.upstreamPort, delayMs: spec.delayMs } });
      w.once('exit', done);
      w.once('error', () => {});
    });
    break;
  case 'pool': {
    const lfd = listenSocket(spec.port);
    setNonBlocking(lfd, false); // every pool thread blocks in accept()
    // every thread is up (its upstream connected) before the port is announced
    await Promise.all(Array.from({ length: spec.poolSize }, () => new Promise<void>((resolve, reject) => {
      const w = new Worker(THREAD!, { ...THREAD_OPTIONS, workerData: { mode: 'pool', fd: lfd, upstreamPort: spec.upstreamPort, delayMs: spec.delayMs } });
      w.once('message', () => resolve());
      w.once('error', reject);
    })));
    announce(portOf(lfd));
    break;
  }
  case 'evloop': {
    const upstream = await Upstream.open(getDefaultLoop(), spec.upstreamPort);
    const server = createHttpServer(
      async (_req, res) => {
        await upstream.request(spec.delayMs);
        res.end('ok');
      },
      { host: '127.0.0.1', port: spec.port ?? 0, reusePort: spec.reusePort, backlog: 4096, keepAliveTimeoutMs: 60_000 },
    );
    const addr = await server.listen();
    announce(addr.family === 'unix' ? 0 : addr.port);
    break;
  }
  case 'per-core': {
    // the first reactor picks the port; the others join it with SO_REUSEPORT
    const self = new URL(import.meta.url).pathname;
    const startReactor = (port: number): Promise<number> => {
      const child = spawn(process.execPath, [...process.execArgv, self, JSON.stringify({ ...spec, model: 'evloop', port, reusePort: true })], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.add(child);
      return new Promise((resolve, reject) => {
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /PORT (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`reactor exited (code ${code})`)));
      });
    };
    const port = await startReactor(spec.port ?? 0);
    await Promise.all(Array.from({ length: spec.reactors - 1 }, () => startReactor(port)));
    announce(port);
    break;
  }
}
