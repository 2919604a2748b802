/**
 * `evloop demo`: the reactor at work, end to end. A TCP echo server written directly on the loop
 * (an I/O watcher per socket, non-blocking accept/recv/send through the sys layer) serves Node
 * `net` clients doing ping-pong on 127.0.0.1; the demo prints the address, the throughput and
 * the loop's statistics, then stops everything it started.
 */
import net from 'node:net';
import { createLoop, READABLE, type Loop, type PollerName } from 'evloop';
import { SysError } from 'evloop';
import { accept, bind, close, E, listen, localAddress, recv, send, socket, setNoDelay } from 'evloop/sys';

export interface DemoOptions {
  clients?: number;
  messages?: number;
  poller?: PollerName | 'auto';
}

/** Serves echo on the loop until `stop()`; returns the port. */
function serveEcho(loop: Loop): { port: number; stop(): void } {
  const lfd = socket('IPv4', 'stream');
  bind(lfd, { family: 'IPv4', address: '127.0.0.1', port: 0 });
  listen(lfd, 511);
  const buf = Buffer.allocUnsafe(64 * 1024);
  const conns = new Set<number>();
  const onClient = (fd: number) => (): void => {
    for (;;) {
      const n = recv(fd, buf);
      if (n === -E.EAGAIN) return;
      if (n <= 0) break; // EOF or error: drop the connection
      // the demo's messages are small: a short send means a misbehaving client, so hang up on it
      if (send(fd, buf, 0, n) !== n) break;
    }
    watchers.get(fd)?.close();
    watchers.delete(fd);
    conns.delete(fd);
    close(fd);
  };
  const watchers = new Map<number, ReturnType<Loop['watch']>>();
  const acceptor = loop.watch(lfd, READABLE, () => {
    for (;;) {
      const fd = accept(lfd);
      if (fd === -E.EAGAIN) return;
      if (fd < 0) throw new SysError(-fd, 'accept4');
      setNoDelay(fd);
      conns.add(fd);
      watchers.set(fd, loop.watch(fd, READABLE, onClient(fd)));
    }
  });
  const address = localAddress(lfd);
  return {
    port: address.family === 'unix' ? 0 : address.port,
    stop() {
      acceptor.close();
      close(lfd);
      for (const fd of conns) {
        watchers.get(fd)?.close();
        close(fd);
      }
    },
  };
}

function pingPong(port: number, messages: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const msg = Buffer.alloc(64, 'x');
    let left = messages;
    let got = 0;
    const c = net.connect(port, '127.0.0.1', () => c.write(msg));
    c.setNoDelay(true);
    c.on('data', (d) => {
      got += d.length;
      if (got < msg.length) return;
      got -= msg.length;
      if (--left === 0) c.end();
      else c.write(msg);
    });
    c.on('close', () => (left === 0 ? resolve() : reject(new Error(`connection closed with ${left} messages left`))));
    c.on('error', reject);
  });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const clients = opts.clients ?? 10;
  const messages = opts.messages ?? 2000;
  const loop = createLoop({ poller: opts.poller });
  const server = serveEcho(loop);
  console.log(`evloop: echo server on the reactor at 127.0.0.1:${server.port} (poller ${loop.poller.name})`);
  const start = performance.now();
  try {
    await Promise.all(Array.from({ length: clients }, () => pingPong(server.port, messages)));
  } finally {
    server.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  const total = clients * messages;
  const s = loop.stats();
  console.log(`${clients} Node net clients × ${messages} round trips of 64 B: ${total} echoes in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} echoes/s`);
  console.log(`loop: host ${s.host}, ${s.iterations} turns, ${s.ioEvents} I/O events dispatched, max timer lag ${s.maxLagMs.toFixed(2)} ms`);
  loop.close();
  return 0;
}
