// Reads llhttp's markdown test vectors (test/request/*.md, test/response/*.md) into cases with
// the raw input bytes and the outcome llhttp expects, reduced to what a foreign parser can be
// compared on: accepted or rejected, and per message the start-line, fields, body and whether it
// completed.
import { readFileSync } from 'node:fs';

export interface VectorMessage {
  method: string;
  url: string;
  status: number;
  version: string; // "1/1"
  headers: string[]; // flat [name, value, …]
  body: string;
  complete: boolean;
}

export interface VectorOutcome {
  messages: VectorMessage[];
  rejected: boolean;
  /** llhttp stopped with HPE_PAUSED_UPGRADE / HPE_PAUSED_H2_UPGRADE: the rest is another protocol. */
  upgraded: boolean;
}

export interface VectorCase {
  file: string; // "request/sample.md"
  line: number; // 1-based line of the meta comment
  name: string; // nearest heading
  meta: { type: string; noScan?: boolean; pause?: string; skipBody?: boolean; mode?: string };
  input: Buffer;
  expected: VectorOutcome;
}

/**
 * Decodes an ```http block the way llhttp's test/md-test.ts does: the fenced lines joined with LF,
 * backslash-newline removed, every newline made CRLF, then the escapes \r \n \t \f \xHH and octal
 * \NNN replaced; the string is sent as UTF-8.
 */
export function decodeHttpBlock(lines: string[]): Buffer {
  let input = lines.join('\n');
  input = input.replace(/\\(\r\n|\r|\n)/g, '');
  input = input.replace(/\r\n|\r|\n/g, '\r\n');
  input = input.replace(/\\r/g, '\r');
  input = input.replace(/\\n/g, '\n');
  input = input.replace(/\\t/g, '\t');
  input = input.replace(/\\f/g, '\f');
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  input = input.replace(/\\([0-7]{1,3})/g, (_all, digits: string) => String.fromCharCode(parseInt(digits, 8)));
  return Buffer.from(input, 'utf8');
}

const SPAN = /^off=\d+ len=\d+ span\[([a-z_]+)\]=(?:"(.*)"|(cr|lf|crlf))$/s;

/** Reduces llhttp's expected callback trace to a {@link VectorOutcome}. */
export function parseLog(lines: string[]): VectorOutcome {
  const out: VectorOutcome = { messages: [], rejected: false, upgraded: false };
  let msg: VectorMessage | null = null;
  let field = '';
  let value = '';
  const spans = new Map<string, string>();
  for (const raw of lines) {
    const line = raw.replace(/\\t/g, '\t').replace(/\\f/g, '\f');
    const span = SPAN.exec(line);
    if (span) {
      const kind = span[1]!;
      const text = span[2] ?? (span[3] === 'cr' ? '\r' : span[3] === 'lf' ? '\n' : '\r\n');
      if (kind === 'body') {
        if (msg) msg.body += text;
      } else {
        spans.set(kind, (spans.get(kind) ?? '') + text);
      }
      continue;
    }
    if (/ message begin$/.test(line)) {
      spans.clear();
      msg = { method: '', url: '', status: 0, version: '', headers: [], body: '', complete: false };
      continue;
    }
    if (/ header_field complete$/.test(line)) {
      field = spans.get('header_field') ?? '';
      spans.delete('header_field');
      continue;
    }
    if (/ header_value complete$/.test(line)) {
      value = spans.get('header_value') ?? '';
      spans.delete('header_value');
      // llhttp keeps trailing whitespace in the span; RFC 9112 excludes it from the value.
      msg?.headers.push(field, value.replace(/[ \t]+$/, ''));
      continue;
    }
    const hc = / headers complete (?:method=\d+|status=(\d+)) v=(\d+\/\d+)/.exec(line);
    if (hc && msg) {
      msg.method = spans.get('method') ?? '';
      msg.url = spans.get('url') ?? '';
      msg.status = hc[1] ? Number(hc[1]) : 0;
      msg.version = hc[2]!;
      out.messages.push(msg);
      continue;
    }
    if (/ message complete$/.test(line)) {
      if (msg) msg.complete = true;
      continue;
    }
    const err = / error code=(\d+) /.exec(line);
    if (err) {
      if (err[1] === '22' || err[1] === '23') out.upgraded = true;
      else out.rejected = true;
      continue;
    }
    const fin = /^off=NULL finish=(\d+)/.exec(line);
    // llhttp prints its finish state: 0 safe, 1 safe once on_message_complete runs, 2 unsafe.
    if (fin && fin[1] === '2') out.rejected = true;
    if (fin && fin[1] === '1' && msg) msg.complete = true;
  }
  return out;
}

/** Every case of one markdown file. */
export function readVectorFile(path: string, file: string): VectorCase[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const cases: VectorCase[] = [];
  let heading = '';
  let pending: { line: number; name: string; meta: VectorCase['meta']; http?: string[] } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const meta = /^<!-- meta=(\{.*\}) -->$/.exec(line);
    if (meta) {
      pending = { line: i + 1, name: heading, meta: JSON.parse(meta[1]!) as VectorCase['meta'] };
      continue;
    }
    const fence = /^```(http|log)$/.exec(line);
    if (fence && pending) {
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== '```') body.push(lines[i]!);
      if (fence[1] === 'http') {
        pending.http = body;
      } else if (pending.http) {
        cases.push({
          file,
          line: pending.line,
          name: pending.name,
          meta: pending.meta,
          input: decodeHttpBlock(pending.http),
          expected: parseLog(body),
        });
        pending = null;
      }
    }
  }
  return cases;
}
