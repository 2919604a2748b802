// Property-based fuzzing of HttpParser: valid messages generated from the RFC 9112 grammar must
// parse to exactly what was generated, and valid or mutated input must give the same events (or
// the same error) however it is split, with no exception but HttpParseError and bounded work.
// EVLOOP_FUZZ_RUNS raises the number of runs per property (default 300).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { collect, everyByte, splitAt, type Collected } from './collect.js';

const numRuns = Number(process.env.EVLOOP_FUZZ_RUNS ?? 300);

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'upgrade']);

const token = (max = 12) => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: max });
const vchar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
// A field value: VCHARs with inner SP/HTAB; serialized with random OWS around it.
const fieldValue = fc
  .array(fc.oneof({ weight: 6, arbitrary: vchar }, { weight: 1, arbitrary: fc.constantFrom(' ', '\t') }), { maxLength: 24 })
  .map((cs) => cs.join('').replace(/^[ \t]+|[ \t]+$/g, ''));
const ows = fc.constantFrom('', ' ', '\t', '  ', ' \t');
const field = fc.record({ name: token().filter((n) => !FRAMING.has(n.toLowerCase())), value: fieldValue, pre: ows, post: ows });
const target = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 }).map((s) => `/${s}`),
  fc.constant('http://example.com:8080/a?b'),
  fc.constant('*'), // any method: that only OPTIONS may use it is the server's business (semantics.ts)
);
const body = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const chunkExt = fc.oneof(
  fc.constant(''),
  token(6).map((n) => `;${n}`),
  fc.tuple(token(6), token(6)).map(([n, v]) => `;${n}=${v}`),
  fc.tuple(token(6), fieldValue).map(([n, v]) => `; ${n} = "${v.replace(/["\\]/g, '\\$&')}"`),
);

interface Model {
  method: string;
  target: string;
  headers: string[];
  body: string;
  trailers: string[] | undefined;
  bytes: string;
}

const request = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), token(8)),
    target,
    fields: fc.array(field, { maxLength: 6 }),
    body,
    // 'coded': other codings before a final chunked, framed as chunked (RFC 9112 §6.3).
    framing: fc.constantFrom('length', 'chunked', 'coded'),
    cuts: fc.array(fc.nat({ max: 40 }), { maxLength: 4 }),
    exts: fc.array(chunkExt, { minLength: 6, maxLength: 6 }),
    trailers: fc.array(field, { maxLength: 2 }),
  })
  // CONNECT needs an authority-form target; `PRI *` is the HTTP/2 preface, always rejected.
  .filter((r) => r.method !== 'CONNECT' && !(r.method === 'PRI' && r.target === '*'))
  .map((r): Model => {
    const headers: string[] = [];
    let head = `${r.method} ${r.target} HTTP/1.1\r\n`;
    for (const f of r.fields) {
      head += `${f.name}:${f.pre}${f.value}${f.post}\r\n`;
      headers.push(f.name, f.value);
    }
    let bytes: string;
    let trailers: string[] | undefined;
    if (r.framing === 'length') {
      head += `Content-Length: ${r.body.length}\r\n`;
      headers.push('Content-Length', String(r.body.length));
      bytes = `${head}\r\n${r.body}`;
    } else {
      const te = r.framing === 'coded' ? 'gzip, chunked' : 'chunked';
      head += `Transfer-Encoding: ${te}\r\n`;
      headers.push('Transfer-Encoding', te);
      const points = [...new Set(r.cuts.filter((c) => c > 0 && c < r.body.length))].sort((a, b) => a - b);
      let prev = 0;
      let chunks = '';
      [...points, r.body.length].forEach((p, k) => {
        if (p > prev) chunks += `${(p - prev).toString(16)}${r.exts[k] ?? ''}\r\n${r.body.slice(prev, p)}\r\n`;
        prev = p;
      });
      let tail = '';
      if (r.trailers.length > 0) trailers = [];
      for (const t of r.trailers) {
        tail += `${t.name}:${t.pre}${t.value}${t.post}\r\n`;
        trailers!.push(t.name, t.value);
      }
      bytes = `${head}\r\n${chunks}0${r.exts[5]}\r\n${tail}\r\n`;
    }
    return { method: r.method, target: r.target, headers, body: r.body, trailers, bytes };
  });

const cutPoints = fc.array(fc.nat({ max: 10_000 }), { maxLength: 12 });

/** Mutations that stress the grammar: flips, CR/LF games, inserted framing fields, deletions. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '\r', '\n', '\r\n', ' ', '\t', ':', '\x00', '\x7f', '\xff', ';', '"', '\\', ',', '0', 'f', 'z',
      '\r\n\r\n', '\r\n ', 'Content-Length: 3\r\n', 'Content-Length: 0\r\n', 'Transfer-Encoding: chunked\r\n',
      'Transfer-Encoding: gzip\r\n', 'Transfer-Encoding: gzip, chunked\r\n', '*', 'Connection: close\r\n', 'Connection: upgrade\r\nUpgrade: x\r\n',
      'HTTP/1.1 200 OK\r\n', 'GET / HTTP/1.1\r\n', 'ffffffffffffffffff\r\n', '0\r\n\r\n',
    ),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('crlf' as const), at: fc.nat(), to: fc.constantFrom('\n', '\r', '\n\r', '\r\r\n') }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(s: string, muts: Mutation[]): Buffer {
  let out = s;
  for (const m of muts) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.kind === 'flip') out = out.slice(0, at) + String.fromCharCode(m.byte) + out.slice(at + 1);
    else if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.len);
    else {
      const crlf = out.indexOf('\r\n', at);
      if (crlf !== -1) out = out.slice(0, crlf) + m.to + out.slice(crlf + 2);
    }
  }
  return Buffer.from(out, 'latin1');
}

function events(c: Collected): number {
  return c.messages.length;
}

/** The same outcome whole, split at `cuts` and byte by byte; and no more messages than bytes. */
function assertSplitsAgree(kind: 'request' | 'response', input: Buffer, cuts: number[], finish: boolean): Collected {
  const whole = collect(kind, [input], { finish });
  assert.deepStrictEqual(collect(kind, splitAt(input, cuts), { finish }), whole);
  assert.deepStrictEqual(collect(kind, everyByte(input), { finish, pauseEachMessage: true }), whole);
  assert.ok(events(whole) <= input.length + 1, 'bounded work: more messages than bytes');
  return whole;
}

describe('HttpParser fuzzing', () => {
  test('generated valid pipelined requests parse to exactly what was generated, however split', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), cutPoints, (reqs, cuts) => {
        const input = Buffer.from(reqs.map((r) => r.bytes).join(''), 'latin1');
        const got = assertSplitsAgree('request', input, cuts, true);
        assert.equal(got.error, null, JSON.stringify(got.error));
        assert.deepStrictEqual(
          got.messages.map((m) => ({
            method: m.head!.method,
            target: m.head!.target,
            headers: m.head!.headers,
            body: m.body,
            trailers: m.trailers,
          })),
          reqs.map(({ bytes: _bytes, ...rest }) => rest),
        );
      }),
      { numRuns },
    );
  });

  test('mutated requests give the same events or the same error however split', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 2 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), cutPoints, (reqs, muts, cuts) => {
        const input = mutate(reqs.map((r) => r.bytes).join(''), muts);
        assertSplitsAgree('request', input, cuts, true);
      }),
      { numRuns },
    );
  });

  const response = fc
    .record({
      // 1xx, 204 and 304 carry no body, so a generated body would be a protocol error.
      status: fc.integer({ min: 200, max: 599 }).filter((st) => st !== 204 && st !== 304),
      reason: fieldValue,
      fields: fc.array(field, { maxLength: 4 }),
      body,
      framing: fc.constantFrom('length', 'chunked', 'eof'),
    })
    .map((r) => {
      let head = `HTTP/1.1 ${r.status} ${r.reason}\r\n`;
      for (const f of r.fields) head += `${f.name}:${f.pre}${f.value}${f.post}\r\n`;
      if (r.framing === 'length') return `${head}Content-Length: ${r.body.length}\r\n\r\n${r.body}`;
      if (r.framing === 'chunked') {
        const chunk = r.body.length > 0 ? `${r.body.length.toString(16)}\r\n${r.body}\r\n` : '';
        return `${head}Transfer-Encoding: chunked\r\n\r\n${chunk}0\r\n\r\n`;
      }
      return `${head}\r\n${r.body}`;
    });

  test('responses, valid or mutated, give the same events or error however split', () => {
    fc.assert(
      fc.property(
        fc.array(response, { minLength: 1, maxLength: 3 }),
        fc.array(mutation, { maxLength: 3 }),
        fc.array(fc.constantFrom('GET', 'HEAD', 'CONNECT'), { maxLength: 3 }),
        cutPoints,
        (resps, muts, methods, cuts) => {
          const input = mutate(resps.join(''), muts);
          const opts = { finish: true, requestMethods: methods };
          const whole = collect('response', [input], opts);
          assert.deepStrictEqual(collect('response', splitAt(input, cuts), opts), whole);
          assert.deepStrictEqual(collect('response', everyByte(input), opts), whole);
          if (muts.length === 0 && methods.length === 0) assert.equal(whole.error, null, JSON.stringify(whole.error));
        },
      ),
      { numRuns },
    );
  });

  test('random bytes never escape as anything but HttpParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), cutPoints, fc.boolean(), (bytes, cuts, isRequest) => {
        assertSplitsAgree(isRequest ? 'request' : 'response', Buffer.from(bytes), cuts, true);
      }),
      { numRuns },
    );
  });
});
