// Micro benchmark of src/http/parser.ts: ns per parse of a small GET (alone and as a pipelined
// batch of 16), against Node's own llhttp binding measured in the same run, and a naive
// indexOf('\r\n\r\n') + split parser as a floor for "doing almost nothing".
import { createRequire } from 'node:module';
import type { Benchmark, BenchOptions, Figures } from './benchmark.js';
import { HttpParser, type HttpMessageHead } from 'evloop';

const GET =
  'GET /hello HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';

type Parse = (buf: Buffer) => number;

function evloopParser(): Parse {
  let n = 0;
  const parser = new HttpParser('request', {
    onHeadersComplete(_head: HttpMessageHead) {},
    onMessageComplete() {
      n++;
    },
  });
  return (buf) => {
    parser.feed(buf);
    return n;
  };
}

interface NodeHTTPParser {
  initialize(kind: number, resource: object): void;
  execute(buf: Buffer): number | Error;
  [k: number]: unknown;
}
interface NodeHTTPParserCtor {
  new (): NodeHTTPParser;
  REQUEST: number;
  kOnHeadersComplete: number;
  kOnMessageComplete: number;
}

/** Node's llhttp binding as node:_http_common drives it (internal API; undefined if unreachable). */
function nodeParser(): Parse | undefined {
  try {
    const silenced = process.noDeprecation;
    process.noDeprecation = true; // process.binding() prints DEP0111 otherwise
    const binding = (process as unknown as { binding(name: string): { HTTPParser: NodeHTTPParserCtor } }).binding('http_parser');
    process.noDeprecation = silenced;
    const { HTTPParser } = binding;
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {});
    let n = 0;
    p[HTTPParser.kOnHeadersComplete] = () => {};
    p[HTTPParser.kOnMessageComplete] = () => {
      n++;
    };
    return (buf) => {
      p.execute(buf);
      return n;
    };
  } catch {
    return undefined;
  }
}

/** No validation at all: find the end of the head and split lines. A floor, not a parser. */
function naiveParser(): Parse {
  let n = 0;
  return (buf) => {
    const s = buf.toString('latin1');
    let start = 0;
    for (;;) {
      const end = s.indexOf('\r\n\r\n', start);
      if (end === -1) break;
      const lines = s.slice(start, end).split('\r\n');
      const [method, target] = lines[0]!.split(' ');
      const headers: string[] = [];
      for (let k = 1; k < lines.length; k++) {
        const c = lines[k]!.indexOf(':');
        headers.push(lines[k]!.slice(0, c), lines[k]!.slice(c + 1).trim());
      }
      if (method && target && headers.length >= 0) n++;
      start = end + 4;
    }
    return n;
  };
}

/**
 * ns per message for each parser, with their timed rounds interleaved so that load from other
 * processes hits all of them alike; the best round of each counts (least disturbed).
 */
function measure(parsers: Parse[], buf: Buffer, messagesPerFeed: number, iters: number, rounds: number): number[] {
  for (const parse of parsers) for (let i = 0; i < iters; i++) parse(buf); // warm up
  const best = parsers.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    parsers.forEach((parse, k) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) parse(buf);
      best[k] = Math.min(best[k]!, Number(process.hrtime.bigint() - t0) / (iters * messagesPerFeed));
    });
  }
  return best;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export const httpParserBench: Benchmark = {
  name: 'http-parser',
  description: 'ns per parsed request (small GET, alone and pipelined x16) vs Node llhttp binding and a naive split',
  async run(opts: BenchOptions): Promise<Figures> {
    const single = Buffer.from(GET, 'latin1');
    const batch = Buffer.from(GET.repeat(16), 'latin1');
    const iters = opts.quick ? 16_000 : 96_000;
    const rounds = opts.quick ? 5 : 15;
    const node = nodeParser();
    const figures: Figures = { request: GET, iterations: iters, rounds };
    const cases: [string, Buffer, number][] = [
      ['single', single, 1],
      ['pipelined16', batch, 16],
    ];
    for (const [label, buf, count] of cases) {
      opts.log(`http-parser: ${label}`);
      const parsers = node ? [evloopParser(), naiveParser(), node] : [evloopParser(), naiveParser()];
      const [ours, naive, llhttp = null] = measure(parsers, buf, count, iters / count, rounds) as [number, number, number?];
      figures[label] = {
        evloopNsPerRequest: round1(ours),
        nodeLlhttpNsPerRequest: llhttp === null ? null : round1(llhttp),
        naiveSplitNsPerRequest: round1(naive),
        ratioVsNodeLlhttp: llhttp === null ? null : Math.round((llhttp / ours) * 100) / 100,
        ratioVsNaive: Math.round((naive / ours) * 100) / 100,
      };
    }
    figures.baseline = node
      ? "Node's llhttp via process.binding('http_parser'), driven like node:_http_common (includes its C++→JS callbacks)"
      : 'naive indexOf + split only (Node http_parser binding unreachable)';
    return figures;
  },
  table(figures: Figures): string {
    const rows = ['case          evloop ns  node-llhttp ns  naive ns  x faster than llhttp  target'];
    for (const label of ['single', 'pipelined16']) {
      const f = figures[label] as Record<string, number | null>;
      rows.push(
        `${label.padEnd(13)} ${String(f.evloopNsPerRequest).padStart(9)}  ${String(f.nodeLlhttpNsPerRequest ?? '-').padStart(14)}  ` +
          `${String(f.naiveSplitNsPerRequest).padStart(8)}  ${String(f.ratioVsNodeLlhttp ?? '-').padStart(20)}  ` +
          `< 1000 ns ${f.evloopNsPerRequest! < 1000 ? 'holds' : 'MISSED'}`,
      );
    }
    return rows.join('\n');
  },
};

// Direct run: `npx tsx bench/http-parser.ts [--quick]`.
const require = createRequire(import.meta.url);
if (process.argv[1] && require.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const quick = process.argv.includes('--quick');
  const figures = await httpParserBench.run({ quick, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(JSON.stringify(figures, null, 2));
  console.log(httpParserBench.table(figures));
}
