// The terminal input decoder: the key/mouse/paste table, Escape vs Alt by timeout, and property
// tests — arbitrary bytes never throw, never desynchronise (a known sequence after garbage and a
// timeout still decodes), and the events do not depend on how the bytes were split into reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InputDecoder, MAX_SEQUENCE, type TtyEvent } from '../../src/tty/index.js';

const numRuns = Number(process.env.EVLOOP_FUZZ_RUNS ?? 300);

function decode(input: string | Uint8Array, d = new InputDecoder()): TtyEvent[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  return [...d.feed(bytes), ...d.flush()];
}

/** keydown events as compact strings: 'C-A-S-key' with the modifiers present. */
function keys(events: TtyEvent[]): string[] {
  return events.map((e) => {
    if (e.type !== 'keydown') return `<${e.type}>`;
    return `${e.ctrl ? 'C-' : ''}${e.alt ? 'A-' : ''}${e.shift ? 'S-' : ''}${e.key}`;
  });
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('keys', () => {
  const table: [string, string[]][] = [
    ['a', ['a']],
    ['A', ['S-A']],
    [' ', [' ']],
    ['\r', ['Enter']],
    ['\t', ['Tab']],
    ['\x7f', ['Backspace']],
    ['\x01', ['C-a']],
    ['\x03', ['C-c']],
    ['\x1a', ['C-z']],
    ['\x00', ['C- ']],
    ['\x1c', ['C-\\']],
    ['\x1f', ['C-_']],
    ['\x1b[A', ['ArrowUp']],
    ['\x1b[B', ['ArrowDown']],
    ['\x1b[C', ['ArrowRight']],
    ['\x1b[D', ['ArrowLeft']],
    ['\x1bOA', ['ArrowUp']],
    ['\x1b[H', ['Home']],
    ['\x1b[F', ['End']],
    ['\x1bOH', ['Home']],
    ['\x1b[1~', ['Home']],
    ['\x1b[4~', ['End']],
    ['\x1b[2~', ['Insert']],
    ['\x1b[3~', ['Delete']],
    ['\x1b[5~', ['PageUp']],
    ['\x1b[6~', ['PageDown']],
    ['\x1bOP', ['F1']],
    ['\x1bOQ', ['F2']],
    ['\x1bOR', ['F3']],
    ['\x1bOS', ['F4']],
    ['\x1b[15~', ['F5']],
    ['\x1b[17~', ['F6']],
    ['\x1b[18~', ['F7']],
    ['\x1b[19~', ['F8']],
    ['\x1b[20~', ['F9']],
    ['\x1b[21~', ['F10']],
    ['\x1b[23~', ['F11']],
    ['\x1b[24~', ['F12']],
    ['\x1b[1;2A', ['S-ArrowUp']],
    ['\x1b[1;3B', ['A-ArrowDown']],
    ['\x1b[1;5C', ['C-ArrowRight']],
    ['\x1b[1;6D', ['C-S-ArrowLeft']],
    ['\x1b[1;8H', ['C-A-S-Home']],
    ['\x1b[1;5P', ['C-F1']],
    ['\x1b[3;5~', ['C-Delete']],
    ['\x1b[15;2~', ['S-F5']],
    ['\x1b[Z', ['S-Tab']],
    ['\x1b[97;5u', ['C-a']],
    ['\x1b[13u', ['Enter']],
    ['\x1ba', ['A-a']],
    ['\x1bA', ['A-S-A']],
    ['\x1b\x03', ['C-A-c']],
    ['\x1b\r', ['A-Enter']],
    ['\x1b', ['Escape']],
    ['\x1b\x1b', ['Escape', 'Escape']],
    ['\x1b\x1b[A', ['Escape', 'ArrowUp']],
    ['\x1b[', ['A-[']],
    ['\x1bO', ['A-S-O']],
    ['\x1bOx', ['A-S-O', 'x']],
    ['ab\x1b[Acd', ['a', 'b', 'ArrowUp', 'c', 'd']],
  ];
  for (const [input, want] of table) {
    it(`${JSON.stringify(input)} → ${want.join(' ')}`, () => {
      assert.deepEqual(keys(decode(input)), want);
    });
  }

  it('decodes printable UTF-8 of every length', () => {
    assert.deepEqual(keys(decode(utf8('é€😀'))), ['S-é'.replace('S-', ''), '€', '😀']);
    assert.deepEqual(keys(decode(utf8('É'))), ['S-É']);
    assert.deepEqual(keys(decode(Buffer.concat([Buffer.from([0x1b]), utf8('ü')]))), ['A-ü']);
  });

  it('turns invalid UTF-8 into U+FFFD and resumes at the breaking byte', () => {
    assert.deepEqual(keys(decode(Buffer.from([0xff, 0x61]))), ['\uFFFD', 'a']);
    assert.deepEqual(keys(decode(Buffer.from([0xe2, 0x82, 0x61]))), ['\uFFFD', 'a']);
    assert.deepEqual(keys(decode(Buffer.from([0xc0, 0xaf]))), ['\uFFFD', '\uFFFD']); // overlong
    assert.deepEqual(keys(decode(Buffer.from([0xed, 0xa0, 0x80]))), ['\uFFFD', '\uFFFD', '\uFFFD']); // surrogate
    assert.deepEqual(keys(decode(Buffer.from([0xe2, 0x1b, 0x5b, 0x41]))), ['\uFFFD', 'ArrowUp']);
  });

  it('waits for the rest of a character split across reads', () => {
    const d = new InputDecoder();
    const euro = utf8('€');
    assert.deepEqual(d.feed(euro.subarray(0, 1)), []);
    assert.equal(d.waiting, 'escape');
    assert.deepEqual(keys(d.feed(euro.subarray(1))), ['€']);
    assert.equal(d.waiting, 'none');
  });

  it('tells a lone Escape from a sequence only when told the timeout passed', () => {
    const d = new InputDecoder();
    assert.deepEqual(d.feed(Buffer.from('\x1b')), []);
    assert.equal(d.waiting, 'escape');
    assert.deepEqual(keys(d.feed(Buffer.from('[1;5'))), []); // still a possible sequence
    assert.deepEqual(keys(d.feed(Buffer.from('A'))), ['C-ArrowUp']);
    d.feed(Buffer.from('\x1b'));
    assert.deepEqual(keys(d.flush()), ['Escape']);
    assert.equal(d.waiting, 'none');
    d.feed(Buffer.from('\x1b'));
    assert.deepEqual(keys(d.feed(Buffer.from('x'))), ['A-x']); // no timeout in between: Alt-x
  });

  it('drops a truncated sequence on flush, and ignores unknown and private sequences', () => {
    assert.deepEqual(keys(decode('\x1b[1;5')), []);
    assert.deepEqual(keys(decode('\x1b[99~a')), ['a']);
    assert.deepEqual(keys(decode('\x1b[?1;2cb')), ['b']); // a device-attributes reply
    assert.deepEqual(keys(decode('\x1b[1 qc')), ['c']); // intermediates
  });

  it('drops an over-long sequence and resumes after it', () => {
    const long = '\x1b[' + '1;'.repeat(MAX_SEQUENCE) + 'A';
    const events = keys(decode(long + 'z'));
    assert.equal(events.at(-1), 'z');
    assert.ok(!events.includes('ArrowUp'));
  });

  it('stamps the time it is given', () => {
    const [e] = new InputDecoder().feed(Buffer.from('k'), 1234.5);
    assert.equal(e!.time, 1234.5);
  });
});

describe('bracketed paste', () => {
  it('delivers the pasted text as one event, keys around it as keys', () => {
    const events = decode('a\x1b[200~hello\x1b[Aworld\x1b[201~b');
    assert.deepEqual(keys(events), ['a', '<paste>', 'b']);
    assert.deepEqual(events[1], { type: 'paste', text: 'hello\x1b[Aworld', time: 0 });
  });

  it('normalises CR line ends to LF and decodes UTF-8 split across reads', () => {
    const d = new InputDecoder();
    const bytes = Buffer.concat([Buffer.from('\x1b[200~'), utf8('l1\r\nl2\rü€'), Buffer.from('\x1b[201~')]);
    const events: TtyEvent[] = [];
    for (const b of bytes) events.push(...d.feed(Buffer.from([b]))); // one byte per read
    assert.deepEqual(events, [{ type: 'paste', text: 'l1\nl2\nü€', time: 0 }]);
  });

  it('takes a 1 MB paste in 4 KiB reads, whole and in one event', () => {
    const text = 'x'.repeat(1024 * 1024 - 3) + 'end';
    const bytes = Buffer.from(`\x1b[200~${text}\x1b[201~q`);
    const d = new InputDecoder();
    const events: TtyEvent[] = [];
    for (let i = 0; i < bytes.length; i += 4096) events.push(...d.feed(bytes.subarray(i, i + 4096)));
    assert.equal(events.length, 2);
    assert.equal(events[0]!.type, 'paste');
    assert.equal((events[0] as { text: string }).text, text);
    assert.deepEqual(keys([events[1]!]), ['q']);
  });

  it('splits a paste longer than maxPasteBytes into pieces, losing nothing', () => {
    const d = new InputDecoder({ maxPasteBytes: 1000 });
    const text = 'abcdefghij'.repeat(250);
    const events = decode(`\x1b[200~${text}\x1b[201~`, d);
    assert.ok(events.length >= 3);
    assert.equal(events.map((e) => (e as { text: string }).text).join(''), text);
  });

  it('ends a paste whose end marker never comes when the timeout passes, then decodes keys again', () => {
    const d = new InputDecoder();
    assert.deepEqual(d.feed(Buffer.from('\x1b[200~abc\x1b[20')), []);
    assert.equal(d.waiting, 'paste');
    assert.deepEqual(d.flush(), [{ type: 'paste', text: 'abc\x1b[20', time: 0 }]);
    assert.deepEqual(keys(decode('\x1b[B', d)), ['ArrowDown']);
  });
});

describe('SGR mouse (mode 1006)', () => {
  it('press and release on one cell: mousedown, mouseup, click; coordinates are 0-based', () => {
    const events = decode('\x1b[<0;10;5M\x1b[<0;10;5m');
    assert.deepEqual(events, [
      { type: 'mousedown', x: 9, y: 4, button: 0, ctrl: false, alt: false, shift: false, time: 0 },
      { type: 'mouseup', x: 9, y: 4, button: 0, ctrl: false, alt: false, shift: false, time: 0 },
      { type: 'click', x: 9, y: 4, button: 0, ctrl: false, alt: false, shift: false, time: 0 },
    ]);
  });

  it('middle and right buttons, extra buttons, modifiers', () => {
    const [m] = decode('\x1b[<1;1;1M');
    assert.equal((m as { button: number }).button, 1);
    const [r] = decode('\x1b[<2;1;1M');
    assert.equal((r as { button: number }).button, 2);
    const [x] = decode('\x1b[<128;1;1M');
    assert.equal((x as { button: number }).button, 8);
    const [mod] = decode('\x1b[<28;3;4M'); // 0 + shift 4 + alt 8 + ctrl 16
    assert.deepEqual(mod, { type: 'mousedown', x: 2, y: 3, button: 0, shift: true, alt: true, ctrl: true, time: 0 });
  });

  it('a drag: motion with the button held, then release elsewhere — no click', () => {
    const events = decode('\x1b[<0;2;2M\x1b[<32;3;2M\x1b[<32;4;2M\x1b[<0;4;2m');
    assert.deepEqual(events.map((e) => e.type), ['mousedown', 'mousemove', 'mousemove', 'mouseup']);
    assert.deepEqual([events[1], events[2]].map((e) => (e as { x: number }).x), [2, 3]);
    assert.equal((events[1] as { button: number }).button, 0);
  });

  it('motion with no button (mode 1003) reports button -1', () => {
    const [e] = decode('\x1b[<35;7;8M');
    assert.deepEqual(e, { type: 'mousemove', x: 6, y: 7, button: -1, ctrl: false, alt: false, shift: false, time: 0 });
  });

  it('wheel up/down/left/right with modifiers; a wheel "release" is ignored', () => {
    const events = decode('\x1b[<64;5;5M\x1b[<65;5;5M\x1b[<66;5;5M\x1b[<67;5;5M\x1b[<81;5;5M\x1b[<64;5;5m');
    assert.deepEqual(events.map((e) => e.type), ['wheel', 'wheel', 'wheel', 'wheel', 'wheel']);
    assert.deepEqual(events.map((e) => [(e as { deltaX: number }).deltaX, (e as { deltaY: number }).deltaY]), [[0, -1], [0, 1], [-1, 0], [1, 0], [0, 1]]);
    assert.equal((events[4] as { ctrl: boolean }).ctrl, true);
  });

  it('ignores malformed reports and decodes what follows', () => {
    assert.deepEqual(keys(decode('\x1b[<0;0;5M\x1b[<1;2M\x1b[<99999999;1;1Mk\x1b[<0;1;1;1Mz')), ['k', 'z']);
  });
});

describe('properties', () => {
  const bytes = fc.uint8Array({ maxLength: 300 });
  // input that is mostly escape-sequence material, to reach deep states
  const nasty = fc
    .array(
      fc.oneof(
        fc.constantFrom('\x1b', '\x1b[', '\x1bO', '\x1b[<', ';', '1', '200~', '201~', 'M', 'm', '~', '\x1b[200~', '\x1b[201~', '\xe2', '\x82', '\xf0'),
        fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)),
      ),
      { maxLength: 60 },
    )
    .map((parts) => Buffer.from(parts.join(''), 'latin1'));
  const garbage = fc.oneof(bytes, nasty);
  const known: [string, string[]][] = [
    ['\x1b[1;5A', ['C-ArrowUp']],
    ['q', ['q']],
    ['\x1b[15~', ['F5']],
    ['\x1bOP', ['F1']],
    [Buffer.from('€').toString('latin1'), ['€']],
  ];

  it('arbitrary bytes never throw, and every event is well-formed', () => {
    fc.assert(
      fc.property(garbage, (b) => {
        const d = new InputDecoder();
        for (const e of [...d.feed(b), ...d.flush()]) {
          assert.equal(typeof e.type, 'string');
          if (e.type === 'keydown') assert.ok(e.key.length > 0);
          if ('x' in e) assert.ok(e.x >= 0 && e.y >= 0);
        }
        assert.equal(d.waiting, 'none');
      }),
      { numRuns },
    );
  });

  it('after garbage and a timeout, a known key sequence still decodes', () => {
    fc.assert(
      fc.property(garbage, fc.constantFrom(...known), (g, [seq, want]) => {
        const d = new InputDecoder();
        d.feed(g);
        d.flush();
        assert.deepEqual(keys(d.feed(Buffer.from(seq, 'latin1'))), want);
      }),
      { numRuns },
    );
  });

  it('after garbage ending anywhere, a known sequence preceded by a byte that cannot continue one decodes', () => {
    // no timeout here: an Enter (CR) cannot be inside a sequence or a UTF-8 character, so it
    // ends whatever the garbage left open (paste aside, which only its end marker or a timeout ends)
    fc.assert(
      fc.property(bytes.filter((b) => !Buffer.from(b).includes(Buffer.from('\x1b[200~'))), fc.constantFrom(...known), (g, [seq, want]) => {
        const d = new InputDecoder();
        d.feed(g);
        const got = keys(d.feed(Buffer.from('\r' + seq, 'latin1')));
        assert.deepEqual(got.slice(-want.length), want);
      }),
      { numRuns },
    );
  });

  it('the events do not depend on how the bytes are split into reads', () => {
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 8 }), (b, cuts) => {
        const whole = decode(b);
        const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        const d = new InputDecoder();
        const split: TtyEvent[] = [];
        let prev = 0;
        for (const p of [...points, b.length]) {
          split.push(...d.feed(b.subarray(prev, p)));
          prev = p;
        }
        split.push(...d.flush());
        assert.deepEqual(split, whole);
      }),
      { numRuns },
    );
  });
});
