/**
 * `evloop ui [--mode event|busy]`: the terminal screen of the UI event model (src/ui/demo-app.ts).
 * Needs a terminal: with stdin redirected it says so in one line and exits 2.
 */
import { runUiDemo, type InputMode } from '../ui/demo-app.js';

export async function runUi(opts: { mode?: InputMode }): Promise<number> {
  try {
    return await runUiDemo({ mode: opts.mode });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_NOT_A_TTY') {
      console.error(`evloop ui: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}
