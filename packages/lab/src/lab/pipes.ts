/** Pipes for experiments, registered with the cleanup registry so an abort cannot leak them. */
import { close, pipe, sys } from 'evloop/sys';
import type { LabContext } from './experiment.js';

const ZERO = new BigInt64Array(1);

export interface LabPipe {
  readonly r: number;
  readonly w: number;
  /** Closes both ends (idempotent). */
  close(): void;
  /**
   * Writes 8 zero bytes if still open: wakes a reader blocked on the pipe (a worker being
   * terminated). 0 is never a send time, so readers do not count it as an event.
   */
  poke(): void;
}

/** A non-blocking pipe whose ends are closed after the experiment at the latest. */
export function openPipe(ctx: LabContext, label = 'pipe'): LabPipe {
  const [r, w] = pipe();
  let open = true;
  const p: LabPipe = {
    r,
    w,
    close() {
      if (!open) return;
      open = false;
      release();
      close(r);
      close(w);
    },
    poke() {
      if (open) sys.write(w, ZERO, 8);
    },
  };
  const release = ctx.cleanup.add(`${label} (fds ${r}, ${w})`, () => p.close());
  return p;
}
