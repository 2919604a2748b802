/**
 * Child processes whose stdin/stdout/stderr are evloop streams.
 *
 * Each piped stdio is a connected pair of unix stream sockets (socketpair with SOCK_NONBLOCK |
 * SOCK_CLOEXEC), as libuv itself makes for Node's `stdio: 'pipe'`. The child's end is made
 * blocking (programs expect blocking stdio) and handed to `node:child_process` spawn as a raw fd
 * (`stdio: [fd, fd, fd]`: the child gets it dup2'ed onto 0/1/2); the parent closes the child's
 * end right after spawn, so EOF arrives when the child (and anything it forked) is done.
 * The parent's end is driven by src/net's SocketTransport wrapped as a StreamReader/StreamWriter:
 * same flow control, backpressure and error codes as a network connection. A socket rather than
 * a pipe2 pipe is what lets us reuse that transport unchanged (it uses recv/send/shutdown).
 *
 * Node reaps the child (libuv's SIGCHLD handler + waitpid), so no zombie is left. The exit is
 * posted to the loop as a `{ type: 'child-exit', pid, code, signal }` event; `child.exited`
 * settles when the loop dispatches it. At exit the parent's stdin end is closed (as Node does);
 * stdout/stderr close themselves at EOF — read them to the end, or `close()` the child.
 */
import { spawn as nodeSpawn, type StdioOptions } from 'node:child_process';
import { EvloopError } from '../errors.js';
import type { LoopEvent } from '../loop/event-queue.js';
import { Handle } from '../loop/handle.js';
import { getDefaultLoop, type Loop } from '../loop/loop.js';
import { StreamReaderProtocol, type StreamOptions } from '../net/streams.js';
import { SocketTransport } from '../net/stream-transport.js';
import type { StreamReader } from '../net/stream-reader.js';
import type { StreamWriter } from '../net/stream-writer.js';
import { close as closeFd, errnoOf, setNonBlocking, socketpair, SysError } from '../sys/index.js';

/** How one of the child's stdio fds is set up: a stream to us, our own fd, or /dev/null. */
export type StdioMode = 'pipe' | 'inherit' | 'ignore';

export interface ChildOptions extends StreamOptions {
  cwd?: string;
  /** The child's environment; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The loop that drives the stdio streams and receives the exit event; default getDefaultLoop(). */
  loop?: Loop;
  stdin?: StdioMode;
  stdout?: StdioMode;
  stderr?: StdioMode;
}

/** Posted to the loop when a child ends. `code` is null when a signal killed it. */
export interface ChildExitEvent extends LoopEvent {
  readonly type: 'child-exit';
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How the child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A stdio stream end that EOF closes (no half-open socket to keep: the child's side is gone). */
class StdioProtocol extends StreamReaderProtocol {
  override eofReceived(): boolean {
    super.eofReceived();
    return false;
  }
}

/** Children by pid per loop, for the one 'child-exit' handler of that loop. */
const perLoop = new WeakMap<Loop, Map<number, ChildProcess>>();

function registryOf(loop: Loop): Map<number, ChildProcess> {
  let children = perLoop.get(loop);
  if (children === undefined) {
    children = new Map();
    perLoop.set(loop, children);
    const map = children;
    loop.events.on('child-exit', (e: LoopEvent) => {
      const ev = e as ChildExitEvent;
      const child = map.get(ev.pid);
      map.delete(ev.pid);
      child?._settle(ev);
    });
  }
  return children;
}

/**
 * A running (or finished) child process. An active handle while it runs: it keeps the loop alive
 * until it exits (`unref()` to not wait for it).
 *
 * @example
 * const child = spawnChild('cat', []);
 * child.stdin!.write('hello\n');
 * child.stdin!.end();
 * console.log(String(await child.stdout!.read())); // 'hello\n'
 * const { code } = await child.exited;              // 0
 */
export class ChildProcess extends Handle {
  /** undefined when the spawn failed (see `exited`). */
  readonly pid: number | undefined;
  readonly stdin: StreamWriter | null;
  readonly stdout: StreamReader | null;
  readonly stderr: StreamReader | null;
  /** Resolves with how the child ended; rejects with a SysError (ENOENT …) if it never started. */
  readonly exited: Promise<ChildExit>;
  #exit: ChildExit | null = null;
  #resolve!: (e: ChildExit) => void;
  #reject!: (e: Error) => void;
  #kill: (signal: NodeJS.Signals | number) => boolean;
  #protocols: StreamReaderProtocol[];

  /** @internal use spawnChild */
  constructor(loop: Loop, cmd: string, args: readonly string[], options: ChildOptions) {
    super(loop.handleOwner);
    this.exited = new Promise<ChildExit>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const modes: StdioMode[] = [options.stdin ?? 'pipe', options.stdout ?? 'pipe', options.stderr ?? 'pipe'];
    for (const m of modes) {
      if (m !== 'pipe' && m !== 'inherit' && m !== 'ignore') throw new EvloopError('ERR_INVALID_ARG', `stdio mode must be 'pipe', 'inherit' or 'ignore', got ${String(m)}`);
    }
    // [parent end, child end] per piped fd; every fd is closed on every path below
    const pairs: ([number, number] | null)[] = [];
    let cp: ReturnType<typeof nodeSpawn>;
    try {
      for (const m of modes) {
        const pair = m === 'pipe' ? socketpair() : null;
        pairs.push(pair);
        if (pair) setNonBlocking(pair[1], false);
      }
      const stdio = modes.map((m, i) => (m === 'pipe' ? pairs[i]![1] : m)) as StdioOptions;
      cp = nodeSpawn(cmd, args, { cwd: options.cwd, env: options.env, stdio });
    } catch (err) {
      for (const p of pairs) if (p) closeFd(p[0]); // the finally below closes the child ends
      throw err;
    } finally {
      for (const p of pairs) if (p && p[1] >= 0) closeFd(p[1]); // the child has its copies (uv_spawn returns after exec)
      for (const p of pairs) if (p) p[1] = -1;
    }
    this.#kill = (sig) => cp.kill(sig);
    this.pid = cp.pid;
    if (cp.pid === undefined) {
      // spawn failed (ENOENT, EACCES …); Node reports why on the next tick
      for (const p of pairs) if (p) closeFd(p[0]);
      this.stdin = this.stdout = this.stderr = null;
      this.#protocols = [];
      cp.once('error', (err: NodeJS.ErrnoException) => {
        const errno = knownErrno(err.code);
        this.#reject(errno > 0 ? new SysError(errno, 'spawn', `${cmd}: ${err.message}`) : new EvloopError('ERR_SPAWN', err.message, { cause: err }));
      });
      return;
    }
    cp.once('error', (err) => loop.reportError(err, `child ${cp.pid}`)); // e.g. kill() failing
    const protocols = pairs.map((pair) => {
      if (pair === null) return null;
      const p = new StdioProtocol(options);
      new SocketTransport(loop, pair[0], p, { tcp: false }).start();
      return p;
    });
    this.#protocols = protocols.filter((p): p is StdioProtocol => p !== null);
    this.stdin = protocols[0]?.writer ?? null;
    this.stdout = protocols[1]?.reader ?? null;
    this.stderr = protocols[2]?.reader ?? null;
    registryOf(loop).set(cp.pid, this);
    this.syncActive();
    const pid = cp.pid;
    cp.once('exit', (code, signal) => {
      const ev: ChildExitEvent = { type: 'child-exit', pid, code, signal };
      if (loop.closed) this._settle(ev);
      else loop.events.post(ev);
    });
  }

  /** Running: started and not yet exited. */
  get active(): boolean {
    return this.pid !== undefined && this.#exit === null;
  }

  /** How the child ended, or null while it runs. */
  get exitStatus(): ChildExit | null {
    return this.#exit;
  }

  /**
   * Sends a signal (default SIGTERM). Returns false if the child has already exited (never
   * signals a pid that may have been reused).
   */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (!this.active) return false;
    return this.#kill(signal);
  }

  /** @internal the loop's 'child-exit' handler */
  _settle(ev: ChildExitEvent): void {
    if (this.#exit !== null) return;
    this.#exit = { code: ev.code, signal: ev.signal };
    if (this.stdin !== null && !this.stdin.isClosing) this.stdin.transport.abort(); // nobody reads it any more
    this.syncActive();
    this.#resolve(this.#exit);
  }

  /** Closes our ends of the stdio streams now (buffered output is dropped). Does not kill. */
  protected onClose(): void {
    for (const p of this.#protocols) if (p.writer !== null && !p.writer.isClosing) p.writer.transport.abort();
  }
}

/**
 * Starts `cmd` with `args` (no shell). stdin/stdout/stderr are streams by default.
 * @example
 * const ls = spawnChild('ls', ['-l'], { cwd: '/tmp' });
 * for await (const line of ls.stdout!.lines()) console.log(String(line));
 * await ls.exited;
 */
export function spawnChild(cmd: string, args: readonly string[] = [], options: ChildOptions = {}): ChildProcess {
  if (typeof cmd !== 'string' || cmd.length === 0) throw new EvloopError('ERR_INVALID_ARG', `cmd must be a non-empty string, got ${JSON.stringify(cmd)}`);
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new EvloopError('ERR_INVALID_ARG', 'args must be an array of strings');
  const loop = options.loop ?? getDefaultLoop();
  if (loop.closed) throw new EvloopError('ERR_LOOP_CLOSED', 'the loop is closed');
  return new ChildProcess(loop, cmd, args, options);
}

function knownErrno(code: string | undefined): number {
  try {
    return code ? errnoOf(code) : 0;
  } catch {
    return 0; // not an errno name: reported as ERR_SPAWN
  }
}
