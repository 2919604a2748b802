/**
 * Progress on stderr: one cli-progress bar per experiment with what runs now, or plain lines
 * when stderr is not a TTY (CI logs, pipes). Never on stdout, so `--json` stays clean.
 */
import cliProgress from 'cli-progress';
import type { Progress } from './experiment.js';

export interface ProgressDisplay {
  /** A bar for one experiment. */
  bar(name: string): Progress & { done(status: string): void };
  log(line: string): void;
  stop(): void;
}

/** Picks bars on a TTY, plain lines otherwise (or when `plain` is forced). */
export function createProgressDisplay(opts: { plain?: boolean; silent?: boolean } = {}): ProgressDisplay {
  if (opts.silent) return silentDisplay();
  return process.stderr.isTTY && !opts.plain ? barDisplay() : lineDisplay();
}

function barDisplay(): ProgressDisplay {
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: ' {name} |{bar}| {value}/{total} {what}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    bar(name) {
      let total = 1;
      let value = 0;
      const b = multi.create(total, 0, { name: name.padEnd(18), what: 'starting' });
      return {
        setTotal(t) {
          total = Math.max(1, t);
          b.setTotal(total);
        },
        tick(n = 1, label) {
          value = Math.min(total, value + n);
          b.update(value, label === undefined ? {} : { what: label });
        },
        label(text) {
          b.update(value, { what: text });
        },
        done(status) {
          b.update(total, { what: status });
        },
      };
    },
    log: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}

function lineDisplay(): ProgressDisplay {
  const out = (line: string): void => void process.stderr.write(`${line}\n`);
  return {
    bar(name) {
      let total = 1;
      let value = 0;
      let last = '';
      const show = (what: string): void => {
        const line = `[lab] ${name} ${value}/${total} ${what}`;
        if (line !== last) out(line);
        last = line;
      };
      return {
        setTotal(t) {
          total = Math.max(1, t);
        },
        tick(n = 1, label) {
          value = Math.min(total, value + n);
          if (label !== undefined) show(label);
        },
        label: show,
        done(status) {
          value = total;
          show(status);
        },
      };
    },
    log: out,
    stop: () => {},
  };
}

function silentDisplay(): ProgressDisplay {
  const noop = (): void => {};
  return { bar: () => ({ setTotal: noop, tick: noop, label: noop, done: noop }), log: noop, stop: noop };
}
