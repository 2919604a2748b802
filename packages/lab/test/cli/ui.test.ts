// `evloop ui` in a real terminal (a tmux pane): key names and raw SGR mouse reports reach the
// handlers (the buttons' counts, the key log and the loop panel change on screen), the input
// mode switches to the busy-polling thread and back, and the terminal is restored after q,
// Ctrl-C and SIGTERM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../../../evloop/test/helpers/requires.js';
import { assertRestored, sgrMouse, TmuxSession } from '../../../evloop/test/helpers/tmux.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'evloop-ui-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// where the screen draws its buttons (0-based cells; src/ui/demo-app.ts lays them out)
const BUTTON = { red: { x: 4, y: 3 }, green: { x: 4, y: 5 }, mode: { x: 6, y: 9 } };

function startUi(): { t: TmuxSession; stty: string } {
  const stty = join(dir, `stty-${++n}.txt`);
  const cmd = `node bin/evloop.js ui; echo "EXIT=$?"; stty -a > ${stty}; exec sleep 600`;
  return { t: TmuxSession.start(cmd, { cwd: root, columns: 110, rows: 30 }), stty };
}

function click(t: TmuxSession, at: { x: number; y: number }): void {
  t.literal(sgrMouse(0, at.x, at.y, true) + sgrMouse(0, at.x, at.y, false));
}

function number(screen: string, re: RegExp): number {
  const m = re.exec(screen);
  assert.ok(m, `${re} on screen:\n${screen}`);
  return Number(m[1]);
}

describe('evloop ui', () => {
  it('counts clicks, logs keys, shows the loop live, switches to busy-poll and back, restores on q', async (t) => {
    const skip = requireTool('tmux');
    if (skip) return t.skip(skip);
    const { t: ui, stty } = startUi();
    try {
      const first = await ui.waitFor(/loop turns\s+\d+/);
      assert.match(first, /input: event-driven/);
      const turns0 = number(first, /loop turns\s+(\d+)/);
      ui.keys('a', 'Up', 'C-a', 'F5');
      click(ui, BUTTON.red);
      click(ui, BUTTON.red);
      click(ui, BUTTON.green);
      ui.literal(sgrMouse(65, 40, 20, true)); // wheel down over the log
      let screen = await ui.waitFor(/Red\s+2\s.*[\s\S]*Green\s+1\s[\s\S]*wheel 1/);
      assert.match(screen, /F5 {2}C-a {2}ArrowUp {2}a/);
      assert.match(screen, /keydown 4 {2}click 3 {2}mousedown 3 {2}mouseup 3/);
      assert.ok(number(screen, /events dispatched\s+(\d+)/) >= 14);
      assert.ok(number(screen, /loop turns\s+(\d+)/) > turns0);
      assert.ok(number(screen, /latency read→handler\s+last ([\d.]+) ms/) > 0);
      ui.paste('hello\nworld');
      ui.resize(100, 28);
      screen = await ui.waitFor(/^(?=[\s\S]*last paste: 11 chars)(?=[\s\S]*resize 1)/);

      await ui.waitFor(/by mode: event-driven\s+\d+\.\d/); // a whole second measured in this mode
      click(ui, BUTTON.mode); // the button: over to the busy-polling thread
      screen = await ui.waitFor(/input: busy-poll thread \(method 1\)(?! \(switching)/);
      ui.keys('z');
      click(ui, BUTTON.green);
      screen = await ui.waitFor(/Green\s+2\s[\s\S]*z {2}F5/);
      // measured from /proc/self/task/TID, and a whole second in this mode kept for the comparison
      screen = await ui.waitFor(/poll thread\s+\d+\.\d[\s\S]*by mode: event-driven\s+\d+\.\d\s+busy-poll\s+\d+\.\d/);
      assert.match(screen, /polls \d+/);
      ui.keys('m'); // the key: back to the poller
      screen = await ui.waitFor(/input: event-driven[\s\S]*poll thread\s+—[\s\S]*busy-poll\s+\d+\.\d/); // the busy mode's CPU% stays beside
      ui.keys('b');
      await ui.waitFor(/b {2}m {2}z/);
      ui.keys('q');
      await assertRestored(ui, stty);
      assert.match(ui.capture(), /EXIT=0/);
    } finally {
      ui.kill();
    }
  });

  it('restores the terminal after Ctrl-C', async (t) => {
    const skip = requireTool('tmux');
    if (skip) return t.skip(skip);
    const { t: ui, stty } = startUi();
    try {
      await ui.waitFor(/loop turns/);
      ui.keys('C-c');
      await assertRestored(ui, stty);
      assert.match(ui.capture(), /EXIT=0/);
    } finally {
      ui.kill();
    }
  });

  it('restores the terminal after SIGTERM, in busy-poll mode, and ends by the signal', async (t) => {
    const skip = requireTool('tmux');
    if (skip) return t.skip(skip);
    const { t: ui, stty } = startUi();
    try {
      const screen = await ui.waitFor(/loop turns/);
      const pid = number(screen, /pid (\d+)/);
      ui.keys('m');
      await ui.waitFor(/input: busy-poll thread \(method 1\)(?! \(switching)/);
      process.kill(pid, 'SIGTERM');
      await assertRestored(ui, stty);
      assert.match(ui.capture(), /EXIT=143/); // 128 + SIGTERM, as the shell reports a death by signal
    } finally {
      ui.kill();
    }
  });

  it('says in one line that it needs a terminal, and exits 2', () => {
    const r = spawnSync(process.execPath, ['bin/evloop.js', 'ui'], { cwd: root, input: '', encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^evloop ui: fd 0 is not a terminal/);
    const bad = spawnSync(process.execPath, ['bin/evloop.js', 'ui', '--mode', 'fast'], { cwd: root, input: '', encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--mode must be event or busy/);
  });
});
