import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { inCi, missing, requireIPv6, requireTool } from './requires.js';

describe('test requirements', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['CI'];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['CI'];
    else process.env['CI'] = saved;
  });

  it('reads CI=true and CI=1 as CI, and unset, empty, 0 and false as local', () => {
    for (const [v, ci] of [['true', true], ['1', true], ['', false], ['0', false], ['false', false], [undefined, false]] as const) {
      if (v === undefined) delete process.env['CI'];
      else process.env['CI'] = v;
      assert.equal(inCi(), ci, `CI=${String(v)}`);
    }
  });

  it('locally returns a skip reason for a missing tool, and false for a present one', () => {
    delete process.env['CI'];
    assert.equal(requireTool('sh'), false);
    assert.equal(requireTool('evloop-no-such-tool'), 'evloop-no-such-tool is not installed');
    assert.equal(missing('no vectors at /x'), 'no vectors at /x');
  });

  it('throws under CI=true for a missing tool or anything missing instead of returning a skip reason', () => {
    process.env['CI'] = 'true';
    assert.throws(() => requireTool('evloop-no-such-tool'), /evloop-no-such-tool is not installed: required under CI=true/);
    assert.throws(() => missing('no vectors at /x'), /^Error: no vectors at \/x: required under CI/);
    assert.equal(requireTool('sh'), false, 'a present tool passes under CI too');
  });

  it('probes IPv6 with Node\'s net: false (no skip) or a reason, the same answer every time', async () => {
    delete process.env['CI'];
    const first = await requireIPv6();
    assert.ok(first === false || /IPv6 ::1/.test(first));
    assert.equal(await requireIPv6(), first);
  });
});
