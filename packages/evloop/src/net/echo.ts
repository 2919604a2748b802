/**
 * The echo protocol: writes back what it reads, with flow control (a peer that sends faster
 * than it reads makes the server stop reading, never buffer without bound). Used by `evloop
 * echo`, the tests and the benchmarks.
 */
import type { BufferedProtocol, Transport } from './protocol.js';

// Every echo connection receives into this one buffer and writes it straight back: write()
// sends at once and copies only what the kernel did not take, so nothing is allocated per message.
const scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * @example
 * const server = createServer(() => new EchoProtocol(), { port: 7000 });
 * await server.listen();
 */
export class EchoProtocol implements BufferedProtocol {
  transport: Transport | null = null;

  connectionMade(t: Transport): void {
    this.transport = t;
  }

  getBuffer(): Uint8Array {
    return scratch;
  }

  bufferUpdated(n: number): void {
    this.transport!.write(scratch.subarray(0, n));
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
