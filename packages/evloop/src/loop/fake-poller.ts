/**
 * A poller with no kernel behind it, for deterministic tests: readiness is set by the test
 * (`setReady`), stays until cleared (level-triggered, like the real backends), and a wait with
 * nothing ready advances the virtual clock by the timeout instead of sleeping.
 */
import { EvloopError } from '../errors.js';
import { ERROR, HANGUP, type Poller, type ReadyEvents } from '../poller/poller.js';
import { E, SysError } from '../sys/index.js';
import type { VirtualClock } from './clock.js';

export class FakePoller implements Poller {
  readonly name = 'epoll' as const;
  readonly fd = null;
  readonly maxFd = 2 ** 31 - 1;
  #registered = new Map<number, { interest: number; token: number }>();
  #ready = new Map<number, number>();
  #clock: VirtualClock;
  /** Timeouts the loop asked for, in order (tests assert on them). */
  readonly waits: number[] = [];

  constructor(clock: VirtualClock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#registered.size;
  }

  register(fd: number, interest: number, token: number): void {
    if (this.#registered.has(fd)) throw new SysError(E.EEXIST, 'epoll_ctl', `(fd ${fd})`);
    this.#registered.set(fd, { interest, token });
  }

  modify(fd: number, interest: number, token: number): void {
    if (!this.#registered.has(fd)) throw new SysError(E.ENOENT, 'epoll_ctl', `(fd ${fd})`);
    this.#registered.set(fd, { interest, token });
  }

  unregister(fd: number): void {
    if (!this.#registered.delete(fd)) throw new SysError(E.ENOENT, 'epoll_ctl', `(fd ${fd})`);
  }

  /** Marks `fd` ready with these bits until `clearReady` (level-triggered). */
  setReady(fd: number, events: number): void {
    this.#ready.set(fd, events);
  }

  clearReady(fd: number): void {
    this.#ready.delete(fd);
  }

  isRegistered(fd: number): boolean {
    return this.#registered.has(fd);
  }

  wait(timeoutMs: number, out: ReadyEvents): number {
    this.waits.push(timeoutMs);
    let n = 0;
    for (const [fd, bits] of this.#ready) {
      const reg = this.#registered.get(fd);
      if (!reg || n >= out.capacity) continue;
      const ev = bits & (reg.interest | ERROR | HANGUP);
      if (ev === 0) continue;
      out.tokens[n] = reg.token;
      out.events[n] = ev;
      n++;
    }
    if (n === 0) {
      if (timeoutMs < 0) throw new EvloopError('ERR_TEST_LOOP_WOULD_BLOCK', 'the test loop would wait forever: nothing is ready and no timer is armed');
      this.#clock.advance(timeoutMs);
    }
    return n;
  }

  waitAsync(timeoutMs: number, out: ReadyEvents): Promise<number> {
    return Promise.resolve(this.wait(timeoutMs, out));
  }

  close(): void {
    this.#registered.clear();
  }
}
