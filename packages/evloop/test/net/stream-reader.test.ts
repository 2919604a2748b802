import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamReader } from '../../src/net/stream-reader.js';

function reader(limit?: number) {
  const flow = { paused: 0, resumed: 0 };
  const r = new StreamReader({ limit });
  r.setFlow({ pauseReading: () => flow.paused++, resumeReading: () => flow.resumed++ });
  return { r, flow };
}

test('readExactly waits for enough bytes across chunks', async () => {
  const { r } = reader();
  const p = r.readExactly(5);
  r.feedData(Buffer.from('ab'));
  r.feedData(Buffer.from('cdef'));
  assert.equal(String(await p), 'abcde');
  assert.equal(r.bufferedAmount, 1);
});

test('readExactly at EOF throws IncompleteReadError carrying the partial bytes', async () => {
  const { r } = reader();
  r.feedData(Buffer.from('abc'));
  r.feedEof();
  await assert.rejects(r.readExactly(10), (err: { code: string; partial: Buffer; expected: number }) => {
    assert.equal(err.code, 'ERR_INCOMPLETE_READ');
    assert.equal(String(err.partial), 'abc');
    assert.equal(err.expected, 10);
    return true;
  });
});

test('readUntil returns through the separator and readLine returns the unterminated rest at EOF', async () => {
  const { r } = reader();
  r.feedData(Buffer.from('GET / HTTP/1.1\r'));
  const p = r.readUntil('\r\n');
  r.feedData(Buffer.from('\nHost: x\r\n\r\nrest'));
  assert.equal(String(await p), 'GET / HTTP/1.1\r\n');
  assert.equal(String(await r.readUntil('\r\n\r\n')), 'Host: x\r\n\r\n');
  r.feedEof();
  assert.equal(String(await r.readLine()), 'rest');
  assert.equal((await r.readLine()).length, 0, 'empty at EOF');
});

test('readUntil beyond the limit throws ERR_LIMIT_OVERRUN and keeps the bytes', async () => {
  const { r } = reader(16);
  r.feedData(Buffer.alloc(40, 0x61));
  await assert.rejects(r.readUntil('\n'), { code: 'ERR_LIMIT_OVERRUN' });
  assert.equal(r.bufferedAmount, 40);
  assert.equal((await r.read(100)).length, 40);
});

test('read(n) returns what is there and read() everything until EOF', async () => {
  const { r } = reader();
  r.feedData(Buffer.from('hello world'));
  assert.equal(String(await r.read(5)), 'hello');
  const all = r.read();
  r.feedData(Buffer.from('!'));
  r.feedEof();
  assert.equal(String(await all), ' world!');
  assert.equal((await r.read(10)).length, 0, 'EOF reads as empty');
  assert.ok(r.atEof());
});

test('async iteration yields chunks until EOF and lines() yields lines', async () => {
  const { r } = reader();
  r.feedData(Buffer.from('a\nb\n'));
  r.feedEof();
  const lines: string[] = [];
  for await (const l of r.lines()) lines.push(String(l));
  assert.deepEqual(lines, ['a\n', 'b\n']);
  const { r: r2 } = reader();
  r2.feedData(Buffer.from('xy'));
  r2.feedEof();
  const chunks: string[] = [];
  for await (const c of r2) chunks.push(String(c));
  assert.deepEqual(chunks, ['xy']);
});

test('the reader pauses its transport above twice the limit and resumes at the limit', async () => {
  const { r, flow } = reader(100);
  r.feedData(Buffer.alloc(150));
  assert.equal(flow.paused, 0);
  r.feedData(Buffer.alloc(100));
  assert.equal(flow.paused, 1, 'paused above 200 bytes');
  await r.read(100);
  assert.equal(flow.resumed, 0, 'still above the limit');
  await r.read(60);
  assert.equal(flow.resumed, 1, 'resumed at or below the limit');
  assert.equal(r.bufferedAmount, 90, 'resumed with bytes still buffered, not only once empty');
});

test('a connection error is raised after the buffered bytes are read', async () => {
  const { r } = reader();
  r.feedData(Buffer.from('last'));
  const err = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
  r.setException(err);
  assert.equal(String(await r.read(10)), 'last');
  await assert.rejects(r.read(10), { code: 'ECONNRESET' });
});

test('reading from a stream closed on our side throws ERR_STREAM_CLOSED', async () => {
  const { r } = reader();
  const pending = r.read(1);
  r.markClosed();
  await assert.rejects(pending, { code: 'ERR_STREAM_CLOSED' });
  await assert.rejects(r.readExactly(1), { code: 'ERR_STREAM_CLOSED' });
});

test('two concurrent reads are refused with ERR_CONCURRENT_READ', async () => {
  const { r } = reader();
  const first = r.read(1);
  await assert.rejects(r.read(1), { code: 'ERR_CONCURRENT_READ' });
  r.feedData(Buffer.from('z'));
  assert.equal(String(await first), 'z');
});
