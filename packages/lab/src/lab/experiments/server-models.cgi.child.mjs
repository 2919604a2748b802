// The process-per-connection handler of experiment 1, inetd/CGI style: started once per
// connection with the client socket as fd 0 and fd 1; reads one request from fd 0, waits on the
// slow server, writes the response to fd 1 (Connection: close) and exits. Plain JavaScript on
// purpose: a CGI script is the lightest program that does the job, so the measured cost is
// creating a process (node's start-up), not compiling TypeScript.
import { readSync, writeSync } from 'node:fs';
import { connect } from 'node:net';

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';
const buf = Buffer.alloc(16 * 1024);
const nap = new Int32Array(new SharedArrayBuffer(4));
let req = '';
while (!req.includes('\r\n\r\n')) {
  let n;
  try {
    n = readSync(0, buf);
  } catch (err) {
    if (err.code === 'EAGAIN') {
      Atomics.wait(nap, 0, 0, 1);
      continue;
    }
    process.exit(1);
  }
  if (n === 0) process.exit(0);
  req += buf.toString('latin1', 0, n);
}
const up = connect(Number(process.env.UPSTREAM_PORT), '127.0.0.1', () => up.write(`${process.env.DELAY_MS}\n`));
up.once('data', () => {
  try {
    writeSync(1, RESPONSE);
  } finally {
    process.exit(0);
  }
});
up.on('error', () => process.exit(1));
