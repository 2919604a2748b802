// Header fields of the client: the multi-valued response view and the checks on caller input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientHeaders, checkField, flattenHeaders, withoutFields } from '../../src/http/client/headers.js';

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

  it('refuses names that are not tokens and values with CR, LF or NUL', () => {
    for (const [n, v] of [['Bad Name', 'x'], ['', 'x'], ['X', 'a\r\nb'], ['X', 'a\nb'], ['X', 'a\0b'], ['X', 'ünï\u0100']]) {
      assert.throws(() => checkField(n!, v!), { code: 'ERR_INVALID_HEADER' }, `${n}: ${v}`);
    }
    checkField('X-Ok', 'tab\tand latin1 é');
  });

  it('drops fields by name ignoring case', () => {
    assert.deepEqual(withoutFields(['Cookie', 'a', 'X', 'b', 'authorization', 'c'], new Set(['cookie', 'authorization'])), ['X', 'b']);
  });
});
