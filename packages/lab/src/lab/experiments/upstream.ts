/**
 * An evloop client of the slow server (slow-server.child.ts) for the event-loop servers of
 * experiments 1 and 7: one connection, requests pipelined on it (the server replies in order),
 * so any number of handlers can wait on the upstream at once from one thread.
 */
import { connect, EvloopError, type Loop, type Protocol, type Transport } from 'evloop';

export class Upstream implements Protocol {
  #transport: Transport | null = null;
  #pending = '';
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  /** Connects to the slow server on 127.0.0.1:`port`. */
  static async open(loop: Loop, port: number): Promise<Upstream> {
    const [, u] = await connect('127.0.0.1', port, () => new Upstream(), { loop });
    return u;
  }

  connectionMade(t: Transport): void {
    this.#transport = t;
  }

  dataReceived(data: Buffer): void {
    this.#pending += data.toString('latin1');
    let nl: number;
    while ((nl = this.#pending.indexOf('\n')) >= 0) {
      this.#pending = this.#pending.slice(nl + 1);
      this.#waiters.shift()?.resolve();
    }
  }

  connectionLost(err?: Error): void {
    this.#transport = null;
    const e = new EvloopError('ERR_LAB_UPSTREAM', `the slow server connection closed${err ? `: ${err.message}` : ''}`);
    for (const w of this.#waiters.splice(0)) w.reject(e);
  }

  /** Resolves when the slow server answered a request delayed by `delayMs`. */
  request(delayMs: number): Promise<void> {
    const t = this.#transport;
    if (t === null) return Promise.reject(new EvloopError('ERR_LAB_UPSTREAM', 'the slow server connection is closed'));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      t.write(`${delayMs}\n`);
    });
  }

  close(): void {
    this.#transport?.close();
  }
}
