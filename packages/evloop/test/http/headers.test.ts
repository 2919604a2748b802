// The one header validator (src/http/headers.ts), boundary by boundary: names are RFC 9110 tokens,
// values follow Node's checkInvalidHeaderChar (/[^\t\x20-\x7e\x80-\xff]/) exactly; and the
// prepared header blocks built on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHeader, headerProblem, isHeaderName, isHeaderValue, isWireTarget, prepareHeaders } from '../../src/http/headers.js';

/** Node's own rule, copied from lib/_http_common.js, as the reference. */
const NODE_INVALID = /[^\t\x20-\x7e\x80-\xff]/;

describe('isHeaderValue', () => {
  it('agrees with Node on every code unit 0x00–0x1FF and on the far ends of UTF-16', () => {
    const units = [...Array.from({ length: 0x200 }, (_, i) => i), 0x2028, 0xd800, 0xfeff, 0xffff];
    for (const c of units) {
      const v = `a${String.fromCharCode(c)}b`;
      assert.equal(isHeaderValue(v), !NODE_INVALID.test(v), `U+${c.toString(16)}`);
    }
  });

  it('each boundary: \\t, space, ~, 0x80 and 0xff pass; NUL, \\x08, \\n, \\x0b, \\r, \\x1f, DEL and 0x100 are refused', () => {
    for (const c of [0x09, 0x20, 0x7e, 0x80, 0xff]) assert.equal(isHeaderValue(String.fromCharCode(c)), true, `0x${c.toString(16)}`);
    for (const c of [0x00, 0x08, 0x0a, 0x0b, 0x0d, 0x1f, 0x7f, 0x100]) assert.equal(isHeaderValue(String.fromCharCode(c)), false, `0x${c.toString(16)}`);
    assert.equal(isHeaderValue(''), true, 'an empty value is allowed (as in Node)');
  });

  it('the split attack (U+010D U+010A, no CR or LF as a string) is refused', () => {
    assert.equal(isHeaderValue(decodeURIComponent('a%C4%8D%C4%8ASet-Cookie:%20pwned=1')), false);
  });

  it('a value that is not a string is refused', () => {
    assert.equal(isHeaderValue(5 as unknown as string), false);
    assert.equal(isHeaderValue(undefined as unknown as string), false);
  });
});

describe('isHeaderName', () => {
  it('accepts exactly the tchar set, one or more', () => {
    const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (let c = 0; c < 0x180; c++) {
      const ch = String.fromCharCode(c);
      assert.equal(isHeaderName(`X${ch}`), tchar.includes(ch), `U+${c.toString(16)}`);
    }
    assert.equal(isHeaderName(''), false);
    assert.equal(isHeaderName('X-\u010d\u010aSet-Cookie'), false);
  });
});

describe('isWireTarget', () => {
  it('takes visible ASCII only: no space, control, DEL or non-ASCII, not empty', () => {
    assert.equal(isWireTarget('/a/b?c=d&e=%20'), true);
    for (const t of ['', '/a b', '/a\r\nX: y', '/a\tb', '/\x7f', '/\u00e9', '/\u010a']) assert.equal(isWireTarget(t), false, JSON.stringify(t));
  });
});

describe('checkHeader', () => {
  it('throws ERR_HTTP_INVALID_HEADER naming the character and its index', () => {
    assert.throws(() => checkHeader('X-Echo', 'ab\u010a'), { code: 'ERR_HTTP_INVALID_HEADER', message: /U\+010a at index 2/ });
    assert.throws(() => checkHeader('Bad Name', 'v'), { code: 'ERR_HTTP_INVALID_HEADER', message: /invalid header name "Bad Name"/ });
    assert.throws(() => checkHeader('X', 1 as unknown as string), { code: 'ERR_HTTP_INVALID_HEADER', message: /not a string/ });
    checkHeader('X-Ok', 'tab\there, latin1 \u00e9\u00ff');
  });

  it('headerProblem is null exactly when checkHeader passes', () => {
    assert.equal(headerProblem('X', 'ok'), null);
    assert.match(headerProblem('X', 'a\x7f')!, /U\+007f/);
  });
});

describe('prepareHeaders', () => {
  it('validates once, when prepared: a bad value or name throws ERR_HTTP_INVALID_HEADER and yields no block', () => {
    assert.throws(() => prepareHeaders({ 'X-Echo': 'a\u010d\u010aSet-Cookie: x=1' }), { code: 'ERR_HTTP_INVALID_HEADER' });
    assert.throws(() => prepareHeaders([['X', 'a\x00']]), { code: 'ERR_HTTP_INVALID_HEADER' });
    assert.throws(() => prepareHeaders({ 'X(': 'v' }), { code: 'ERR_HTTP_INVALID_HEADER' });
    assert.equal(prepareHeaders({ 'Content-Type': 'text/plain', 'X-N': 5 as unknown as string }).text, 'Content-Type: text/plain\r\nX-N: 5\r\n');
  });

  it('refuses, when prepared, a block that would frame a response twice: Content-Length with Transfer-Encoding, or two of either, throws ERR_HTTP_FRAMING_CONFLICT', () => {
    assert.throws(() => prepareHeaders({ 'Content-Length': '3', 'Transfer-Encoding': 'chunked' }), { code: 'ERR_HTTP_FRAMING_CONFLICT' });
    assert.throws(() => prepareHeaders([['transfer-encoding', 'chunked'], ['content-length', '3']]), { code: 'ERR_HTTP_FRAMING_CONFLICT' });
    assert.throws(() => prepareHeaders([['Content-Length', '3'], ['content-length', '3']]), { code: 'ERR_HTTP_FRAMING_CONFLICT' });
    assert.throws(() => prepareHeaders({ 'Content-Length': ['3', '3'] }), { code: 'ERR_HTTP_FRAMING_CONFLICT' });
    assert.throws(() => prepareHeaders([['Transfer-Encoding', 'gzip, chunked'], ['Transfer-Encoding', 'chunked']]), { code: 'ERR_HTTP_FRAMING_CONFLICT' });
    assert.equal(prepareHeaders({ 'Content-Length': '3', 'X-A': 'a' }).contentLength, 3);
  });

  it('refuses a Transfer-Encoding whose final coding is not chunked, or with chunked twice (ERR_HTTP_INVALID_HEADER): the server frames only with chunked', () => {
    for (const te of ['gzip', 'chunked, gzip', 'chunked, chunked', 'chunked;x=1', '', ' , ']) {
      assert.throws(() => prepareHeaders({ 'Transfer-Encoding': te }), { code: 'ERR_HTTP_INVALID_HEADER' }, JSON.stringify(te));
    }
    for (const te of ['chunked', 'CHUNKED', 'gzip, chunked', 'gzip,chunked', ', chunked', 'gzip ,\tchunked ']) {
      assert.equal(prepareHeaders({ 'Transfer-Encoding': te }).text, `Transfer-Encoding: ${te}\r\n`, JSON.stringify(te));
    }
  });
});
