// ServerRequest's accessors of the target (src/http/request.ts): `path` and `host` for each
// request-target form of RFC 9112 §3.2, on heads the server accepted (semantics.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServerRequest, type RequestOwner } from '../../src/http/request.js';

const owner: RequestOwner = { bodyWanted() {}, bodyDrained() {} };
const request = (method: string, target: string, headers: string[] = [], minor = 1): ServerRequest =>
  new ServerRequest(owner, method, target, headers, minor, false);

describe('ServerRequest target accessors', () => {
  test('origin-form: path is the target itself, host the Host header, url the target', () => {
    const r = request('GET', '/a/b?c=1', ['Host', 'example.com:8080']);
    assert.equal(r.path, '/a/b?c=1');
    assert.equal(r.path, r.target);
    assert.equal(r.url, '/a/b?c=1');
    assert.equal(r.host, 'example.com:8080');
    assert.equal(request('GET', '/', ['hOST', 'x']).host, 'x', 'the header name in any case');
  });

  test('absolute-form: path after the authority ("/" if none), host from the target, Host ignored, target kept', () => {
    const cases: [string, string, string][] = [
      ['http://a/b', '/b', 'a'],
      ['http://a', '/', 'a'],
      ['http://a?q=1', '/?q=1', 'a'],
      ['http://a#f', '/#f', 'a'],
      ['HTTP://Example.COM:8443/x/y?z', '/x/y?z', 'Example.COM:8443'],
      ['http://[::1]:80/p', '/p', '[::1]:80'],
    ];
    for (const [target, path, host] of cases) {
      const r = request('GET', target, ['Host', 'other']);
      assert.deepEqual([r.path, r.host, r.target, r.header('host')], [path, host, target, 'other'], target);
    }
  });

  test('asterisk-form and CONNECT: path "*" and "", host the Host header and the target', () => {
    const o = request('OPTIONS', '*', ['Host', 'h']);
    assert.deepEqual([o.path, o.host], ['*', 'h']);
    const c = request('CONNECT', 'tunnel.example:443', ['Host', 'tunnel.example:443']);
    assert.deepEqual([c.path, c.host], ['', 'tunnel.example:443']);
  });

  test('no Host (HTTP/1.0) or an empty one: host is ""', () => {
    assert.equal(request('GET', '/', [], 0).host, '');
    assert.equal(request('GET', '/', ['Host', '']).host, '');
  });
});
