/**
 * A real terminal for tests: a tmux session on its own server socket (-L), running one shell
 * command in a pane of a fixed size. Tests type into it (send-keys with key names, or literal
 * escape sequences such as SGR mouse reports), read the screen (capture-pane) and the pane's
 * modes (display-message formats: alternate_on, mouse_sgr_flag, cursor_flag …).
 *
 * @example
 * const t = await TmuxSession.start('node bin/evloop.js ui');
 * await t.waitFor(/loop turns/);
 * t.keys('q');
 * t.kill();
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

let counter = 0;

export class TmuxSession {
  readonly socket: string;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts `command` (run by sh) in a new detached session of `columns` x `rows`. */
  static start(command: string, opts: { columns?: number; rows?: number; cwd?: string; env?: Record<string, string> } = {}): TmuxSession {
    const socket = `evloop-test-${process.pid}-${++counter}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT' && k !== 'TMUX' && !k.startsWith('EVLOOP_')));
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(opts.columns ?? 110), '-y', String(opts.rows ?? 30), command], {
      cwd: opts.cwd,
      env: { ...env, ...opts.env, TERM: 'xterm-256color' },
    });
    return new TmuxSession(socket);
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Key names as tmux knows them: 'a', 'Up', 'C-c', 'F5', 'Escape', 'Enter'. */
  keys(...names: string[]): void {
    this.#tmux('send-keys', '-t', 'main', ...names);
  }

  /** Sends the bytes of `text` as they are (e.g. '\x1b[<0;5;4M', an SGR mouse press). */
  literal(text: string): void {
    this.#tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** A bracketed paste of `text` (tmux wraps it in ESC[200~ … ESC[201~ when the app asked for it). */
  paste(text: string): void {
    this.#tmux('set-buffer', '-b', 'test', text);
    this.#tmux('paste-buffer', '-p', '-b', 'test', '-t', 'main');
  }

  resize(columns: number, rows: number): void {
    this.#tmux('resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows));
  }

  /** The screen as text. */
  capture(): string {
    return this.#tmux('capture-pane', '-p', '-t', 'main');
  }

  /** A display-message format of the pane, e.g. '#{alternate_on}'. */
  display(format: string): string {
    return this.#tmux('display-message', '-p', '-t', 'main', format).trim();
  }

  /** Waits until the screen matches `re` (polling); throws with the last screen after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = this.capture();
      if (re.test(screen)) return screen;
      if (Date.now() > end) throw new Error(`screen never matched ${re}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ends the session and its server (and with them the pane's processes). */
  kill(): void {
    let path = '';
    try {
      path = this.#tmux('display-message', '-p', '#{socket_path}').trim();
      this.#tmux('kill-server');
    } catch {
      // already gone
    }
    if (path !== '') rmSync(path, { force: true }); // tmux leaves its socket file behind
  }
}

/** SGR (mode 1006) mouse report for 0-based cell (x, y): what a terminal sends for a press or release. */
export function sgrMouse(button: number, x: number, y: number, press: boolean): string {
  return `\x1b[<${button};${x + 1};${y + 1}${press ? 'M' : 'm'}`;
}

/**
 * Asserts the pane's terminal is as a shell wants it after the app ended: the pane printed
 * "EXIT=<status>" and wrote `stty -a` to `sttyFile`; line editing, echo and signals are on, no
 * mouse reports, the cursor shown, the main screen.
 */
export async function assertRestored(t: TmuxSession, sttyFile: string): Promise<void> {
  await t.waitFor(/EXIT=\d+/);
  let modes = '';
  for (let i = 0; i < 100 && !/icanon/.test(modes); i++) {
    modes = readFileSync(sttyFile, { encoding: 'utf8', flag: 'a+' });
    if (!/icanon/.test(modes)) await new Promise((r) => setTimeout(r, 100));
  }
  for (const flag of ['icanon', 'echo', 'isig', 'icrnl', 'iexten']) assert.match(modes, new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm'), `${flag} is back on`);
  assert.equal(t.display('#{alternate_on} #{mouse_sgr_flag} #{mouse_button_flag} #{mouse_any_flag} #{cursor_flag}'), '0 0 0 0 1');
}
