/**
 * The `evloop ui` screen: the seed's UI event model made visible on a real terminal. Input (a
 * key, a click) becomes an event on `loop.events`; the loop dispatches each to its type's handler
 * (onClick, onKeyDown…). Buttons count clicks, a log shows the keys, and a live panel shows the
 * loop: turns, events dispatched per type, queue depth, the latency from the read of the input
 * bytes to the handler, and CPU%. A toggle swaps the input side for the seed's "method 1" — a
 * thread that busy-polls the terminal — so its CPU% can be read beside the event-driven one.
 *
 * An app on the library's public API (../index.js), as a user would write it.
 */
import { createLoop, type Loop, type TimerHandle } from 'evloop';
import { openTerminal, monotonicMs, type Terminal, type TtyEvent, type KeyEvent, type MouseButtonEvent } from 'evloop/tty';
import { BusyPoller } from './busy-poll.js';
import { CpuMeter } from './cpu.js';

export type InputMode = 'event' | 'busy';

export interface UiOptions {
  /** Start in this input mode. Default 'event'. */
  mode?: InputMode;
}

interface Button {
  readonly id: string;
  readonly label: string;
  readonly row: number;
  readonly col: number;
  readonly width: number;
}

interface LatencyStats {
  count: number;
  sum: number;
  max: number;
  last: number;
}

const MODE_NAMES: Record<InputMode, string> = { event: 'event-driven (poller)', busy: 'busy-poll thread (method 1)' };
const EVENT_TYPES = ['keydown', 'click', 'mousedown', 'mouseup', 'mousemove', 'wheel', 'paste', 'resize'] as const;

/** Formats a key event as the log shows it: C-A-S-key. */
export function keyLabel(e: KeyEvent): string {
  const name = e.key === ' ' ? 'Space' : e.key;
  return `${e.ctrl ? 'C-' : ''}${e.alt ? 'A-' : ''}${e.shift && name.length > 1 ? 'S-' : ''}${name}`;
}

/** Printable text for the screen: control characters shown as '·'. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '·');
}

class UiDemo {
  readonly loop: Loop;
  readonly term: Terminal;
  mode: InputMode = 'event';
  readonly counts: Record<string, number> = { red: 0, green: 0, blue: 0 };
  readonly dispatched: Record<string, number> = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0]));
  readonly latency: Record<InputMode, LatencyStats> = { event: { count: 0, sum: 0, max: 0, last: 0 }, busy: { count: 0, sum: 0, max: 0, last: 0 } };
  readonly cpuByMode: Record<InputMode, number | null> = { event: null, busy: null };
  log: string[] = [];
  scroll = 0;
  lastMouse = '—';
  lastPaste = '—';
  queueDepth = 0;
  maxQueueDepth = 0;
  pressed: string | null = null;
  cpu = { process: 0, main: 0, poll: null as number | null };
  #procMeter = new CpuMeter();
  #mainMeter = new CpuMeter(process.pid);
  #pollMeter: CpuMeter | null = null;
  #busy: BusyPoller | null = null;
  #switching = false;
  #samplesInMode = 0;
  #renderQueued = false;
  #lastTurns = 0;
  #lastTurnsAt = monotonicMs();
  turnsPerSec = 0;
  #ticker: TimerHandle;
  #quit!: (code: number) => void;
  readonly done: Promise<number>;

  constructor(options: UiOptions) {
    this.loop = createLoop();
    this.term = openTerminal(this.loop);
    this.done = new Promise<number>((resolve) => (this.#quit = resolve));
    const ev = this.term.events;
    // one handler per event type, as the seed's model has it
    ev.on('keydown', (e) => this.onKeyDown(e));
    ev.on('click', (e) => this.onClick(e));
    ev.on('mousedown', (e) => this.onMouseDown(e));
    ev.on('mouseup', (e) => this.onMouseUp(e));
    ev.on('mousemove', (e) => this.onInput(e, () => (this.lastMouse = `drag ${e.x},${e.y} button ${e.button}`)));
    ev.on('wheel', (e) => this.onInput(e, () => (this.scroll = Math.max(0, Math.min(this.log.length - 1, this.scroll - e.deltaY)))));
    ev.on('paste', (e) => this.onInput(e, () => (this.lastPaste = `${e.text.length} chars "${printable(e.text.slice(0, 30))}${e.text.length > 30 ? '…' : ''}"`)));
    ev.on('resize', (e) => this.onInput(e, () => this.term.write('\x1b[2J')));
    const tick = (): void => {
      this.sample();
      this.render();
      this.#ticker = this.loop.callLater(1000, tick);
    };
    this.#ticker = this.loop.callLater(1000, tick);
    this.term.write('\x1b[2J');
    this.render();
    if (options.mode === 'busy') void this.setMode('busy');
  }

  /** Every input handler starts here: count it, measure read→handler latency and queue depth. */
  onInput(e: TtyEvent, then: () => void): void {
    const now = monotonicMs();
    this.dispatched[e.type] = (this.dispatched[e.type] ?? 0) + 1;
    if (e.type !== 'resize') {
      const lat = this.latency[this.mode];
      const ms = Math.max(0, now - e.time);
      lat.count++;
      lat.sum += ms;
      lat.last = ms;
      if (ms > lat.max) lat.max = ms;
    }
    this.queueDepth = this.loop.events.pending;
    if (this.queueDepth > this.maxQueueDepth) this.maxQueueDepth = this.queueDepth;
    then();
    this.scheduleRender();
  }

  onKeyDown(e: KeyEvent): void {
    this.onInput(e, () => {
      this.log.unshift(keyLabel(e));
      if (this.log.length > 200) this.log.length = 200;
      this.scroll = 0;
      if ((e.key === 'q' && !e.ctrl && !e.alt) || (e.key === 'c' && e.ctrl)) void this.quit(0);
      else if (e.key === 'm' && !e.ctrl && !e.alt) void this.setMode(this.mode === 'event' ? 'busy' : 'event');
      else if (e.key === 'r' && !e.ctrl && !e.alt) this.counts.red = this.counts.green = this.counts.blue = 0;
    });
  }

  onClick(e: MouseButtonEvent): void {
    this.onInput(e, () => {
      this.lastMouse = `click ${e.x},${e.y} button ${e.button}`;
      const b = this.hit(e.x, e.y);
      if (b === undefined || e.button !== 0) return;
      if (b.id in this.counts) this.counts[b.id]!++;
      else if (b.id === 'mode') void this.setMode(this.mode === 'event' ? 'busy' : 'event');
      else if (b.id === 'quit') void this.quit(0);
    });
  }

  onMouseDown(e: MouseButtonEvent): void {
    this.onInput(e, () => {
      this.lastMouse = `down ${e.x},${e.y} button ${e.button}`;
      this.pressed = this.hit(e.x, e.y)?.id ?? null;
    });
  }

  onMouseUp(e: MouseButtonEvent): void {
    this.onInput(e, () => {
      this.lastMouse = `up ${e.x},${e.y} button ${e.button}`;
      this.pressed = null;
    });
  }

  buttons(): Button[] {
    const labels: [string, string][] = [
      ['red', `  Red  ${String(this.counts.red).padStart(4)}  `],
      ['green', ` Green ${String(this.counts.green).padStart(4)}  `],
      ['blue', `  Blue ${String(this.counts.blue).padStart(4)}  `],
      ['mode', this.mode === 'event' ? ' switch to busy-poll (m) ' : ' switch to event-driven (m) '],
      ['quit', ' quit (q) '],
    ];
    return labels.map(([id, label], i) => ({ id, label, row: 3 + i * 2, col: 2, width: label.length + 2 }));
  }

  hit(x: number, y: number): Button | undefined {
    return this.buttons().find((b) => y === b.row && x >= b.col && x < b.col + b.width);
  }

  async setMode(mode: InputMode): Promise<void> {
    if (mode === this.mode || this.#switching) return;
    this.#switching = true;
    this.#samplesInMode = 0; // starting a thread costs CPU too: count it in neither mode
    try {
      if (mode === 'busy') {
        this.term.pause(); // the poller no longer watches stdin: the thread reads it
        this.#busy = new BusyPoller(this.term);
        const tid = await this.#busy.started;
        this.#pollMeter = new CpuMeter(tid);
      } else {
        await this.#busy?.stop();
        this.#busy = null;
        this.#pollMeter = null;
        this.cpu.poll = null;
        if (!this.term.closed) this.term.resume();
      }
      this.mode = mode;
      this.#samplesInMode = 0;
    } finally {
      this.#switching = false;
      this.scheduleRender();
    }
  }

  sample(): void {
    this.cpu.process = this.#procMeter.percent() ?? 0;
    this.cpu.main = this.#mainMeter.percent() ?? 0;
    this.cpu.poll = this.#pollMeter?.percent() ?? null;
    // the first sample after a switch straddles both modes
    if (this.#samplesInMode++ > 0 && !this.#switching) this.cpuByMode[this.mode] = this.cpu.process;
    const stats = this.loop.stats();
    const now = monotonicMs();
    this.turnsPerSec = ((stats.iterations - this.#lastTurns) * 1000) / Math.max(1, now - this.#lastTurnsAt);
    this.#lastTurns = stats.iterations;
    this.#lastTurnsAt = now;
  }

  scheduleRender(): void {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    this.loop.callSoon(() => {
      this.#renderQueued = false;
      this.render();
    });
  }

  render(): void {
    if (this.term.closed) return;
    const { columns, rows } = this.term.size;
    const lines: string[] = Array.from({ length: rows }, () => '');
    const put = (row: number, col: number, text: string): void => {
      if (row < 0 || row >= rows || col >= columns) return;
      const line = lines[row]!.padEnd(col);
      lines[row] = (line.slice(0, col) + text + line.slice(col + text.length)).slice(0, columns);
    };
    const stats = this.loop.stats();
    put(0, 0, `evloop ui — input → event queue → one handler per type      pid ${process.pid}`);
    put(1, 0, `input: ${MODE_NAMES[this.mode]}${this.#switching ? ' (switching…)' : ''}`);
    for (const b of this.buttons()) put(b.row, b.col, `[${b.label}]`);
    // the live panel
    const c = 36;
    const lat = this.latency[this.mode];
    const fmt = (n: number | null, d = 1) => (n === null ? '   —' : n.toFixed(d).padStart(5));
    put(3, c, `loop turns        ${String(stats.iterations).padStart(8)}  (${this.turnsPerSec.toFixed(0)}/s)`);
    put(4, c, `events dispatched ${String(stats.eventsDispatched).padStart(8)}`);
    put(5, c, `  ${EVENT_TYPES.slice(0, 4).map((t) => `${t} ${this.dispatched[t]}`).join('  ')}`);
    put(6, c, `  ${EVENT_TYPES.slice(4).map((t) => `${t} ${this.dispatched[t]}`).join('  ')}`);
    put(7, c, `queue depth       ${String(this.queueDepth).padStart(8)}  (max ${this.maxQueueDepth})`);
    put(8, c, `latency read→handler  last ${lat.last.toFixed(3)} ms  avg ${(lat.count ? lat.sum / lat.count : 0).toFixed(3)}  max ${lat.max.toFixed(3)}`);
    put(9, c, `bytes read ${this.term.stats.bytesRead}  reads ${this.term.stats.reads}${this.#busy ? `  polls ${this.#busy.polls}` : ''}`);
    put(11, c, `CPU% process ${fmt(this.cpu.process)}   main thread ${fmt(this.cpu.main)}   poll thread ${fmt(this.cpu.poll)}`);
    put(12, c, `CPU% by mode: event-driven ${fmt(this.cpuByMode.event)}   busy-poll ${fmt(this.cpuByMode.busy)}`);
    put(14, 2, `last mouse: ${this.lastMouse}`);
    put(15, 2, `last paste: ${this.lastPaste}`);
    put(17, 2, 'key log (newest first; the wheel scrolls it):');
    const visible = this.log.slice(this.scroll, this.scroll + 12);
    put(18, 4, printable(visible.join('  ')) || '—');
    put(rows - 1, 0, 'q / Ctrl-C quit · m or the button: switch input mode · r reset counts · click the buttons');
    let out = '\x1b[H';
    for (let r = 0; r < rows; r++) {
      let line = lines[r]!;
      // the button being pressed shows inverted
      if (this.pressed !== null) {
        const b = this.buttons().find((x) => x.id === this.pressed);
        if (b !== undefined && b.row === r) line = line.slice(0, b.col) + '\x1b[7m' + line.slice(b.col, b.col + b.width) + '\x1b[0m' + line.slice(b.col + b.width);
      }
      out += `\x1b[${r + 1};1H${line}\x1b[K`;
    }
    this.term.write(out);
  }

  async quit(code: number): Promise<void> {
    if (this.#busy !== null) await this.#busy.stop();
    this.#ticker.cancel();
    if (!this.term.closed) this.term.close();
    this.#quit(code);
  }
}

/**
 * Runs the screen until `q`, Ctrl-C or the quit button; resolves to the exit code. SIGTERM,
 * SIGINT and SIGHUP restore the terminal and end the process as the signal would.
 * @example
 * process.exitCode = await runUiDemo({ mode: 'event' });
 */
export async function runUiDemo(options: UiOptions = {}): Promise<number> {
  const app = new UiDemo(options);
  const code = await app.done;
  app.loop.close();
  return code;
}
