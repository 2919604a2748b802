/**
 * The echo protocol: writes back what it reads, with flow control (a peer that sends faster
 * than it reads makes the server stop reading, never buffer without bound). Used by `evloop
 * echo`, the tests and the benchmarks.
 */
import type { Protocol, Transport } from './protocol.js';

/**
 * @example
 * const server = createServer(() => new EchoProtocol(), { port: 7000 });
 * await server.listen();
 */
export class EchoProtocol implements Protocol {
  transport: Transport | null = null;

  connectionMade(t: Transport): void {
    this.transport = t;
  }

  dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }

  /** Half-close is passed on: echo what is left, then send EOF back. */
  eofReceived(): boolean {
    this.transport!.end();
    return true;
  }

  connectionLost(): void {
    this.transport = null;
  }

  pauseWriting(): void {
    this.transport!.pauseReading();
  }

  resumeWriting(): void {
    this.transport!.resumeReading();
  }
}
