/**
 * `evloop <command>`: the command table. Each command's module is imported only when it runs,
 * so `evloop --help` stays instant. Arguments are parsed with node:util parseArgs.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EvloopError } from 'evloop';
import { POLLER_NAMES } from 'evloop';
import type { PollerName } from 'evloop';

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

const POLLER_OPTION = { type: 'string' } as const;

export const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'the main job (what `npm start` runs): the lab, every experiment at its default size',
    usage: 'evloop start',
    options: {},
    run: async () => (await import('./lab.js')).runLab({ names: [] }),
  },
  lab: {
    summary: 'the lab: server models, programming models, multiplexers… measured and drawn (`evloop lab --list`)',
    usage: 'evloop lab [experiment…] [--quick] [--out DIR] [--json] [--port N] [--plain] | evloop lab --list',
    options: { quick: { type: 'boolean' }, out: { type: 'string' }, json: { type: 'boolean' }, list: { type: 'boolean' }, port: { type: 'string' }, plain: { type: 'boolean' } },
    run: async (v, pos) =>
      (await import('./lab.js')).runLab({
        names: pos,
        quick: !!v.quick,
        out: v.out as string | undefined,
        json: !!v.json,
        list: !!v.list,
        port: v.port as string | undefined,
        plain: !!v.plain,
      }),
  },
  demo: {
    summary: 'echo server on the reactor, driven by Node net clients; prints throughput and loop stats',
    usage: 'evloop demo [--clients 10] [--messages 2000] [--poller epoll|poll|select]',
    options: { clients: { type: 'string' }, messages: { type: 'string' }, poller: POLLER_OPTION },
    run: async (v) =>
      (await import('./demo.js')).runDemo({
        clients: intOption(v.clients, 'clients'),
        messages: intOption(v.messages, 'messages'),
        poller: pollerOption(v.poller),
      }),
  },
  echo: {
    summary: 'a TCP echo server on the reactor (for users and benchmarks); stops on SIGINT/SIGTERM',
    usage: 'evloop echo [--port 7000] [--host 127.0.0.1] [--poller epoll|poll|select]',
    options: { port: { type: 'string' }, host: { type: 'string' }, poller: POLLER_OPTION },
    run: async (v) => {
      await (await import('./echo.js')).runEcho({
        port: portOption(v.port, 7000),
        host: (v.host as string | undefined) ?? '127.0.0.1',
        poller: pollerOption(v.poller),
      });
      return 0;
    },
  },
  serve: {
    summary: 'the demo HTTP server: GET / hello, POST /echo, GET /stats; --workers N shares the port',
    usage: 'evloop serve [--port 8080] [--host 127.0.0.1] [--workers N] [--poller epoll|poll|select]',
    options: { port: { type: 'string' }, host: { type: 'string' }, workers: { type: 'string' }, poller: POLLER_OPTION },
    run: async (v) =>
      (await import('./serve.js')).runServe({
        port: portOption(v.port, 8080),
        host: (v.host as string | undefined) ?? '127.0.0.1',
        workers: intOption(v.workers, 'workers') ?? 1,
        poller: pollerOption(v.poller),
      }),
  },
  ui: {
    summary: 'a clickable terminal screen of the UI event model: buttons, key log, the live loop, event-driven vs busy-poll input',
    usage: 'evloop ui [--mode event|busy]',
    options: { mode: { type: 'string' } },
    run: async (v) => {
      const mode = v.mode as string | undefined;
      if (mode !== undefined && mode !== 'event' && mode !== 'busy') throw new EvloopError('ERR_INVALID_ARG', `--mode must be event or busy, got ${mode}`);
      return (await import('./ui.js')).runUi({ mode });
    },
  },
  bench: {
    summary: 'run a benchmark from bench/ (`evloop bench --list` names them)',
    usage: 'evloop bench <name> [--json] [--quick] [--duration S] [--connections N] | evloop bench --list',
    options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, list: { type: 'boolean' }, duration: { type: 'string' }, connections: { type: 'string' } },
    run: async (v, pos) =>
      (await import('./bench.js')).runBench(pos, {
        json: !!v.json,
        quick: !!v.quick,
        list: !!v.list,
        duration: intOption(v.duration, 'duration'),
        connections: intOption(v.connections, 'connections'),
      }),
  },
};

function portOption(value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EvloopError('ERR_INVALID_ARG', `--port must be an integer from 0 to 65535, got ${String(value)}`);
  return n;
}

function pollerOption(value: string | boolean | undefined): PollerName | 'auto' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'auto' && !(POLLER_NAMES as readonly string[]).includes(value as string)) {
    throw new EvloopError('ERR_INVALID_ARG', `--poller must be one of ${POLLER_NAMES.join(', ')}, got ${String(value)}`);
  }
  return value as PollerName | 'auto';
}

function intOption(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new EvloopError('ERR_INVALID_ARG', `--${name} must be a positive integer, got ${String(value)}`);
  return n;
}

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: evloop <command> [options]', '', 'commands:', ...lines, '', 'evloop <command> --help shows the options of a command.'].join('\n');
}

/** Runs the CLI; returns the exit code. Usage errors print a clear message and return 2. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`evloop: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    console.error(`evloop ${name}: ${(err as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_INVALID_ARG' || code === 'ERR_UNKNOWN_BENCH') {
      console.error(`evloop ${name}: ${(err as Error).message}\nusage: ${command.usage}`);
      return 2;
    }
    throw err;
  }
}
