/**
 * Terminal input on the reactor. `openTerminal(loop)` puts the input terminal (stdin) in raw mode,
 * turns on xterm mouse reports (SGR, mode 1006) and bracketed paste, watches the fd with the
 * loop's own poller, decodes what it reads (decoder.ts) and posts typed events to `loop.events`;
 * SIGWINCH becomes a `resize` event. Node's readline and process.stdin are never touched.
 *
 * The terminal is put back as it was on every way out: `close()`, process exit (`q` handled by
 * the app, `process.exit`), an uncaught exception — a handler that throws included — and
 * SIGTERM/SIGINT/SIGHUP (restored, then the signal is re-raised so the process ends as it would
 * have). Only SIGKILL leaves it raw (`stty sane` or `reset` then).
 */
import { EvloopError } from '../errors.js';
import { READABLE, ERROR, HANGUP } from '../poller/poller.js';
import type { Loop } from '../loop/loop.js';
import type { EventQueue } from '../loop/event-queue.js';
import type { IoWatcher } from '../loop/io-watcher.js';
import type { TimerHandle } from '../loop/timer.js';
import { watchSignal, type SignalWatcher } from '../loop/signals.js';
import { E, sys, getTermios, isTty, rawTermios, setTermios, windowSize, writeFully } from '../sys/index.js';
import { InputDecoder } from './decoder.js';
import { TTY_EVENT_TYPES, type TtyEvent } from './events.js';
import { TTY_CODES } from './errors.js';

/** Control sequences (xterm; every terminal emulator in use understands them). */
export const SEQ = {
  altScreenOn: '\x1b[?1049h',
  altScreenOff: '\x1b[?1049l',
  cursorHide: '\x1b[?25l',
  cursorShow: '\x1b[?25h',
  pasteOn: '\x1b[?2004h',
  pasteOff: '\x1b[?2004l',
  /** 1000 press/release, 1002 motion while a button is held, 1006 SGR coordinates */
  mouseOn: '\x1b[?1000h\x1b[?1002h\x1b[?1006h',
  /** 1003: every motion, buttons held or not */
  mouseAnyMotionOn: '\x1b[?1003h',
  mouseOff: '\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?1006l',
  resetAttributes: '\x1b[0m',
} as const;

export interface TerminalOptions {
  /** The input terminal's fd. Default 0 (stdin). */
  input?: number;
  /** The output fd (control sequences, `write`). Default 1 (stdout). */
  output?: number;
  /** Mouse reports: 'drag' (press, release, wheel, motion with a button held; the default), 'motion' (all motion), or false. */
  mouse?: 'drag' | 'motion' | false;
  /** Bracketed paste. Default true. */
  paste?: boolean;
  /** Draw on the alternate screen (the shell's screen comes back on exit). Default true. */
  altScreen?: boolean;
  /** Hide the cursor while open. Default true. */
  hideCursor?: boolean;
  /** How long a lone ESC waits for the rest of a sequence before it is the Escape key. Default 50 ms. */
  escapeTimeoutMs?: number;
  /** How long an unfinished bracketed paste waits for its end marker. Default 1000 ms. */
  pasteTimeoutMs?: number;
  /** Restore and re-raise on SIGTERM, SIGINT and SIGHUP. Default true; false if the app handles them (it must then close the terminal). */
  signals?: boolean;
  /** Largest paste event (longer pastes come in pieces). Default 8 MiB. */
  maxPasteBytes?: number;
}

/** Counters of a terminal's input. */
export interface TerminalStats {
  reads: number;
  bytesRead: number;
  eventsPosted: number;
}

/** Milliseconds on process.hrtime's monotonic clock: one clock for every thread. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const EXIT_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const open = new Set<Terminal>();
let hooksInstalled = false;

function restoreAll(): void {
  for (const t of open) t.restore();
}

function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' runs for process.exit and a normal end; the monitor runs before Node prints an uncaught
  // exception, so the stack trace lands on the shell's screen, not on the alternate one
  process.on('exit', restoreAll);
  process.on('uncaughtExceptionMonitor', restoreAll);
}

/**
 * A terminal in raw mode whose input arrives as events on `loop.events`.
 *
 * @example
 * import { createLoop, openTerminal } from 'evloop';
 * const loop = createLoop();
 * const term = openTerminal(loop);
 * term.events.on('keydown', (e) => { if (e.key === 'q') term.close(); else term.write(`key ${e.key}\r\n`); });
 * term.events.on('click', (e) => term.write(`click at ${e.x},${e.y}\r\n`));
 */
export class Terminal {
  readonly loop: Loop;
  readonly input: number;
  readonly output: number;
  readonly stats: TerminalStats = { reads: 0, bytesRead: 0, eventsPosted: 0 };
  #saved: Buffer;
  #raw: Buffer;
  #decoder: InputDecoder;
  #watcher: IoWatcher | null = null;
  #timer: TimerHandle | null = null;
  #signals: SignalWatcher[] = [];
  #buf = Buffer.alloc(64 * 1024);
  #escapeMs: number;
  #pasteMs: number;
  #enter: string;
  #leave: string;
  #restored = false;
  #closed = false;

  /** @internal use openTerminal */
  constructor(loop: Loop, options: TerminalOptions) {
    this.loop = loop;
    this.input = options.input ?? 0;
    this.output = options.output ?? 1;
    this.#escapeMs = options.escapeTimeoutMs ?? 50;
    this.#pasteMs = options.pasteTimeoutMs ?? 1000;
    for (const [name, v] of [['escapeTimeoutMs', this.#escapeMs], ['pasteTimeoutMs', this.#pasteMs]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new EvloopError('ERR_INVALID_ARG', `${name} must be a finite number >= 0, got ${String(v)}`);
    }
    const mouse = options.mouse ?? 'drag';
    if (mouse !== 'drag' && mouse !== 'motion' && mouse !== false) throw new EvloopError('ERR_INVALID_ARG', `mouse must be 'drag', 'motion' or false, got ${String(mouse)}`);
    if (!isTty(this.input)) throw new EvloopError(TTY_CODES.NOT_A_TTY, `fd ${this.input} is not a terminal (stdin redirected?); evloop's terminal input needs one`);
    this.#decoder = new InputDecoder({ maxPasteBytes: options.maxPasteBytes });
    this.#saved = getTermios(this.input);
    this.#raw = rawTermios(this.#saved);
    let enter = '';
    let leave = SEQ.resetAttributes;
    if (options.altScreen !== false) { enter += SEQ.altScreenOn; leave += SEQ.altScreenOff; }
    if (options.hideCursor !== false) { enter += SEQ.cursorHide; leave += SEQ.cursorShow; }
    if (options.paste !== false) { enter += SEQ.pasteOn; leave += SEQ.pasteOff; }
    if (mouse !== false) { enter += SEQ.mouseOn + (mouse === 'motion' ? SEQ.mouseAnyMotionOn : ''); leave += SEQ.mouseOff; }
    this.#enter = enter;
    this.#leave = leave;
    loop.events.declare(...TTY_EVENT_TYPES);

    installProcessHooks();
    open.add(this);
    setTermios(this.input, this.#raw);
    try {
      this.write(enter);
      this.#watcher = loop.watch(this.input, READABLE, this.#onReadable);
      const winch = watchSignal(loop, 'SIGWINCH', () => this.#post({ type: 'resize', ...this.size, time: monotonicMs() }));
      winch.unref();
      this.#signals.push(winch);
      if (options.signals !== false) {
        for (const s of EXIT_SIGNALS) {
          const w = watchSignal(loop, s, () => this.#exitBySignal(s));
          w.unref();
          this.#signals.push(w);
        }
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** `loop.events`, typed with the terminal's events: `term.events.on('click', (e) => e.x)`. */
  get events(): EventQueue<TtyEvent> {
    return this.loop.events as unknown as EventQueue<TtyEvent>;
  }

  /** The terminal's size in cells. */
  get size(): { columns: number; rows: number } {
    try {
      return windowSize(this.output);
    } catch {
      return windowSize(this.input);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes text (or bytes) to the terminal, whole, before returning. */
  write(data: string | Uint8Array): void {
    writeFully(this.output, typeof data === 'string' ? Buffer.from(data) : data);
  }

  /** Stops reading the input fd (another reader takes over, see `feed`); events already decoded stay queued. */
  pause(): void {
    this.#watcher?.setInterest(0);
  }

  /** Reads the input fd again after `pause`. */
  resume(): void {
    if (this.#watcher !== null && !this.#watcher.closed) this.#watcher.setInterest(READABLE);
  }

  /** Decodes bytes read by someone else (e.g. a polling thread) as if read here; `time` is when they were read (monotonicMs). */
  feed(bytes: Uint8Array, time: number = monotonicMs()): void {
    if (this.#closed) return;
    this.stats.reads++;
    this.stats.bytesRead += bytes.length;
    for (const e of this.#decoder.feed(bytes, time)) this.#post(e);
    this.#armTimeout();
  }

  /** Raw mode off, mouse and paste reports off, cursor shown, alternate screen left. Idempotent; `close` calls it. */
  restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    open.delete(this);
    try {
      writeFully(this.output, Buffer.from(this.#leave));
    } catch {
      // the output is gone (hung-up terminal): the attributes below still matter
    }
    try {
      setTermios(this.input, this.#saved);
    } catch {
      // nothing more can be done from an exit path
    }
  }

  /** Stops reading, closes the terminal's timers and signal watchers, and restores the terminal. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watcher !== null && !this.#watcher.closed) this.#watcher.close();
    this.#watcher = null;
    this.#timer?.cancel();
    this.#timer = null;
    for (const w of this.#signals.splice(0)) if (!w.closed) w.close();
    this.restore();
  }

  #onReadable = (events: number): void => {
    const n = sys.read(this.input, this.#buf, this.#buf.length);
    const time = monotonicMs();
    if (n > 0) return this.feed(this.#buf.subarray(0, n), time);
    if (n < 0 && (-n === E.EAGAIN || -n === E.EINTR)) return;
    // 0 (end of input) or an error, or the terminal hung up: nothing more will come
    if (n === 0 || n < 0 || (events & (ERROR | HANGUP)) !== 0) {
      if (this.#watcher !== null && !this.#watcher.closed) this.#watcher.close();
      this.#watcher = null;
    }
  };

  #armTimeout(): void {
    this.#timer?.cancel();
    this.#timer = null;
    const waiting = this.#decoder.waiting;
    if (waiting === 'none') return;
    this.#timer = this.loop.callLater(waiting === 'paste' ? this.#pasteMs : this.#escapeMs, () => {
      this.#timer = null;
      for (const e of this.#decoder.flush(monotonicMs())) this.#post(e);
    });
  }

  #post(e: TtyEvent): void {
    if (this.#closed) return;
    this.stats.eventsPosted++;
    this.loop.events.post(e);
  }

  #exitBySignal(signal: (typeof EXIT_SIGNALS)[number]): void {
    this.close();
    // with our watchers gone Node's default action is back, unless the app watches it too
    process.kill(process.pid, signal);
  }
}

/**
 * Opens the terminal for event-driven input. Throws ERR_NOT_A_TTY when the input is not a terminal.
 * @example
 * const term = openTerminal(loop, { mouse: 'drag' });
 * term.events.on('wheel', (e) => scroll(e.deltaY));
 */
export function openTerminal(loop: Loop, options: TerminalOptions = {}): Terminal {
  return new Terminal(loop, options);
}
