// Terminal input on a real terminal (a tmux pane): raw mode, typed events from key names,
// literal SGR mouse reports, bracketed paste and resize; and the terminal restored on every way
// out — a normal close, a handler that throws, an exception from a timer, SIGTERM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../helpers/requires.js';
import { assertRestored, sgrMouse, TmuxSession } from '../helpers/tmux.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'evloop-tty-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Runs the fixture in a pane; after it exits the pane records its status and `stty -a`. */
function startApp(env = ''): { t: TmuxSession; stty: string } {
  const stty = join(dir, `stty-${++n}.txt`);
  const cmd = `${env} node --import tsx test/fixtures/tty-app.ts; echo "EXIT=$?"; stty -a > ${stty}; exec sleep 600`;
  return { t: TmuxSession.start(cmd, { cwd: root }), stty };
}

function events(screen: string): Record<string, unknown>[] {
  return screen.split('\n').filter((l) => l.startsWith('EV ')).map((l) => JSON.parse(l.slice(3)) as Record<string, unknown>);
}

describe('terminal input in a tmux pane', () => {
  it('turns key names, SGR mouse reports, a paste and a resize into typed events', async (t) => {
    const skip = requireTool('tmux');
    if (skip) return t.skip(skip);
    const { t: tm, stty } = startApp('TTY_ALT=0');
    try {
      await tm.waitFor(/READY size 110x30/);
      assert.equal(tm.display('#{mouse_sgr_flag} #{mouse_button_flag} #{cursor_flag}'), '1 1 0');
      tm.keys('a', 'Up', 'C-a', 'F5', 'M-x', 'PageDown', 'S-Left');
      await tm.waitFor(/"key":"ArrowLeft"/);
      tm.keys('Escape'); // alone: only the escape timeout makes it the Escape key
      await tm.waitFor(/"key":"Escape"/);
      tm.literal(sgrMouse(0, 4, 3, true) + sgrMouse(0, 4, 3, false) + sgrMouse(65, 7, 2, true) + sgrMouse(2, 1, 1, true) + sgrMouse(34, 2, 1, true) + sgrMouse(2, 2, 1, false));
      await tm.waitFor(/"button":2.*"type":"mouseup"|"type":"mouseup".*"button":2/);
      tm.paste('one\ntwo');
      await tm.waitFor(/"paste"/);
      tm.resize(100, 28);
      const screen = await tm.waitFor(/"resize"/);
      const got = events(screen).map((e) => (e.type === 'keydown' ? `${e.ctrl ? 'C-' : ''}${e.alt ? 'A-' : ''}${e.shift ? 'S-' : ''}${e.key}` : `${e.type}${'x' in e ? `@${e.x},${e.y}` : ''}${'button' in e ? `/${e.button}` : ''}`));
      assert.deepEqual(got, ['a', 'ArrowUp', 'C-a', 'F5', 'A-x', 'PageDown', 'S-ArrowLeft', 'Escape', 'mousedown@4,3/0', 'mouseup@4,3/0', 'click@4,3/0', 'wheel@7,2', 'mousedown@1,1/2', 'mousemove@2,1/2', 'mouseup@2,1/2', 'paste', 'resize']);
      const all = events(screen);
      assert.equal(all.find((e) => e.type === 'paste')!.text, 'one\ntwo');
      assert.deepEqual(all.find((e) => e.type === 'resize'), { type: 'resize', columns: 100, rows: 28 });
      assert.equal(all.find((e) => e.type === 'wheel')!.deltaY, 1);
      tm.keys('q');
      await assertRestored(tm, stty);
      assert.match(tm.capture(), /EXIT=0/);
    } finally {
      tm.kill();
    }
  });

  for (const [key, what, exit] of [['x', 'handler crashed on purpose', 1], ['e', 'timer threw on purpose', 1], ['k', null, 143]] as const) {
    it(`restores the terminal when ${what ?? 'SIGTERM arrives'} (key ${key})`, async (t) => {
      const skip = requireTool('tmux');
      if (skip) return t.skip(skip);
      const { t: tm, stty } = startApp();
      try {
        await tm.waitFor(/READY/);
        assert.equal(tm.display('#{alternate_on}'), '1');
        tm.keys(key);
        await assertRestored(tm, stty);
        const screen = tm.capture();
        assert.match(screen, new RegExp(`EXIT=${exit}`));
        // the stack trace was printed after the restore: on the shell's screen, readable
        if (what !== null) assert.match(screen, new RegExp(`Error: ${what}`));
      } finally {
        tm.kill();
      }
    });
  }

  it('refuses a stdin that is not a terminal with ERR_NOT_A_TTY', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/index.ts').then(({ createLoop, openTerminal }) => { try { openTerminal(createLoop()) } catch (e) { console.log(e.code) } })"], { cwd: root, input: 'abc', encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'ERR_NOT_A_TTY');
  });
});
