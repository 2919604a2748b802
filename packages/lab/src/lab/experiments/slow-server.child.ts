/**
 * The slow server of experiments 1, 2 and 7, run in a child process: a TCP server on 127.0.0.1
 * that answers each request line `<delayMs>\n` after that delay with `<sentNs>\n`, the
 * CLOCK_MONOTONIC time it replied (shared by every process, so the client knows when its I/O
 * became ready). Requests on one connection may be pipelined; replies keep their order. It is
 * the environment, not the subject: plain Node net. It prints `PORT <n>` once listening.
 */
import { createServer, type Socket } from 'node:net';

function serve(sock: Socket): void {
  sock.setNoDelay(true);
  let pending = '';
  // each reply waits for its own delay, but never overtakes the one before it
  let last: Promise<void> = Promise.resolve();
  sock.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const delayMs = Number(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      const due = new Promise<void>((r) => (delayMs > 0 ? setTimeout(r, delayMs) : setImmediate(r)));
      last = Promise.all([last, due]).then(() => {
        if (!sock.destroyed) sock.write(`${process.hrtime.bigint()}\n`);
      });
    }
  });
  sock.on('error', () => sock.destroy());
}

const server = createServer(serve);
server.listen({ host: '127.0.0.1', port: Number(process.env.SLOW_SERVER_PORT ?? 0), backlog: 4096 }, () => {
  const addr = server.address();
  process.stdout.write(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
});
// the lab ends it with SIGTERM; an orphan (parent gone) ends itself
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0)).resume();
