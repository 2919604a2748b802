// Header fields of the client: the multi-valued response view and the checks on caller input
// (the server's validator: token names, values of HTAB, 0x20–0x7E, 0x80–0xFF).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientHeaders, checkField, flattenHeaders, withoutFields } from '../../src/http/client/headers.js';
import { request } from '../../src/http/client/index.js';
import { sleep } from '../net/helpers.js';
import { noFdLeak, rejection, startRawServer } from './client-helpers.js';

/** 'a', U+010D, U+010A, 'Set-Cookie: pwned=1': truncated to latin1 it would be a CR LF. */
const ATTACK = decodeURIComponent('a%C4%8D%C4%8ASet-Cookie:%20pwned=1');

describe('ClientHeaders', () => {
  const h = new ClientHeaders(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'X-Multi', 'x', 'set-cookie', 'b=2', 'x-multi', 'y']);

  it('looks names up ignoring case and joins repeated fields with a comma', () => {
    assert.equal(h.get('content-type'), 'text/plain');
    assert.equal(h.get('X-MULTI'), 'x, y');
    assert.equal(h.get('missing'), null);
    assert.equal(h.has('Set-Cookie'), true);
  });

  it('gives every value of a repeated field, Set-Cookie included', () => {
    assert.deepEqual(h.getAll('x-multi'), ['x', 'y']);
    assert.deepEqual(h.getSetCookie(), ['a=1', 'b=2']);
    assert.deepEqual(h.getAll('nope'), []);
  });

  it('iterates lower-case names in order of first appearance and keeps the raw list', () => {
    assert.deepEqual([...h], [['content-type', 'text/plain'], ['set-cookie', 'a=1, b=2'], ['x-multi', 'x, y']]);
    assert.deepEqual([...h.keys()], ['content-type', 'set-cookie', 'x-multi']);
    assert.equal(h.raw.length, 10);
    assert.deepEqual(h.toJSON(), { 'content-type': 'text/plain', 'set-cookie': 'a=1, b=2', 'x-multi': 'x, y' });
  });
});

describe('request header input', () => {
  it('accepts records, arrays of pairs and Headers, repeating array values', () => {
    assert.deepEqual(flattenHeaders({ A: '1', B: ['2', '3'], C: 4, D: undefined }), ['A', '1', 'B', '2', 'B', '3', 'C', '4']);
    assert.deepEqual(flattenHeaders([['A', ' 1 ']]), ['A', '1']);
    assert.deepEqual(flattenHeaders(new Headers({ 'x-a': 'b' })), ['x-a', 'b']);
  });

  it("refuses names that are not tokens and values outside Node's set (CR, LF, NUL, controls, DEL, above 0xFF)", () => {
    const bad = [['Bad Name', 'x'], ['', 'x'], ['X\u010a', 'x'], ['X', 'a\r\nb'], ['X', 'a\nb'], ['X', 'a\0b'], ['X', 'a\x01b'], ['X', 'a\x7fb'], ['X', 'ünï\u0100'], ['X', ATTACK]];
    for (const [n, v] of bad) assert.throws(() => checkField(n!, v!), { code: 'ERR_INVALID_HEADER' }, `${n}: ${v}`);
    checkField('X-Ok', 'tab\tand latin1 é\u00ff\x80');
  });

  it('trims spaces and tabs around a value but refuses (does not strip) a trailing CR LF', () => {
    assert.deepEqual(flattenHeaders({ A: ' \t1\t ' }), ['A', '1']);
    assert.throws(() => flattenHeaders({ A: 'v\r\n' }), { code: 'ERR_INVALID_HEADER' });
    assert.throws(() => flattenHeaders({ A: '\nv' }), { code: 'ERR_INVALID_HEADER' });
  });

  it('the U+010D U+010A split attack in a request header is refused before anything is sent: the server sees no connection', () =>
    noFdLeak(async () => {
      const srv = await startRawServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
      for (const headers of [{ 'X-Echo': ATTACK }, [['X-Echo', ATTACK]] as [string, string][], new Map([['X-Echo', ATTACK]])]) {
        const err = await rejection(request({ url: srv.url(), headers, pool: false }));
        assert.equal(err.code, 'ERR_INVALID_HEADER');
        assert.match(err.message, /U\+010d at index 1/);
      }
      await sleep(20);
      assert.equal(srv.connections, 0);
      await srv.close();
    }));

  it('drops fields by name ignoring case', () => {
    assert.deepEqual(withoutFields(['Cookie', 'a', 'X', 'b', 'authorization', 'c'], new Set(['cookie', 'authorization'])), ['X', 'b']);
  });
});
