/**
 * The terminal input decoder: bytes read from a terminal in raw mode → typed events. Pure (no
 * I/O, no clock): `feed(bytes)` returns the events the bytes complete; bytes that may be the start
 * of a longer sequence stay buffered until more arrive or the caller's timeout says they will
 * not (`flush()`), which is how a lone Escape is told from an Alt-prefixed key or an arrow.
 *
 * Recognised (docs/ui.md has the full table): printable UTF-8 (invalid bytes → U+FFFD), Ctrl-
 * letters, Enter/Tab/Backspace/Escape, CSI and SS3 keys (arrows, Home/End, PgUp/PgDn, Insert/
 * Delete, F1–F12) with xterm modifiers (CSI 1;N), Shift-Tab, CSI-u keys, Alt as an ESC prefix,
 * bracketed paste (ESC[200~ … ESC[201~) and xterm SGR mouse reports (mode 1006).
 *
 * Robustness: nothing the decoder is fed throws; a malformed or over-long sequence is dropped up
 * to the byte that broke it, and decoding resumes there, so garbage never desynchronises it.
 * Memory is bounded: a pending sequence is at most MAX_SEQUENCE bytes; a paste longer than
 * `maxPasteBytes` is delivered as several paste events.
 */
import { StringDecoder } from 'node:string_decoder';
import type { KeyEvent, Modifiers, TtyEvent } from './events.js';

/** Longest escape sequence kept while waiting for its end; longer ones are dropped as garbage. */
export const MAX_SEQUENCE = 128;

const ESC = 0x1b;
const PASTE_END = Buffer.from('\x1b[201~');
const EMPTY = Buffer.alloc(0);
const NONE: Modifiers = { ctrl: false, alt: false, shift: false };

/** What `flush` would resolve: nothing, a possible escape sequence, or an unfinished paste. */
export type Waiting = 'none' | 'escape' | 'paste';

export interface DecoderOptions {
  /** A paste longer than this is delivered in several paste events. Default 8 MiB. */
  maxPasteBytes?: number;
}

/** Keys of `CSI code ~` sequences (VT220 style). */
const TILDE_KEYS: Record<number, string> = {
  1: 'Home', 2: 'Insert', 3: 'Delete', 4: 'End', 5: 'PageUp', 6: 'PageDown', 7: 'Home', 8: 'End',
  11: 'F1', 12: 'F2', 13: 'F3', 14: 'F4', 15: 'F5', 17: 'F6', 18: 'F7', 19: 'F8', 20: 'F9', 21: 'F10', 23: 'F11', 24: 'F12',
};

/** Keys of `CSI [1;mod] X` and `SS3 X` by final byte. */
const LETTER_KEYS: Record<string, string> = {
  A: 'ArrowUp', B: 'ArrowDown', C: 'ArrowRight', D: 'ArrowLeft', H: 'Home', F: 'End', P: 'F1', Q: 'F2', R: 'F3', S: 'F4',
};

/** Keys of CSI-u codes that are not printable characters. */
const CODE_KEYS: Record<number, string> = { 9: 'Tab', 13: 'Enter', 27: 'Escape', 127: 'Backspace' };

/** `incomplete`: the bytes at the position may start a longer sequence; wait for more. */
const INCOMPLETE = -1;

/**
 * @example
 * const d = new InputDecoder();
 * d.feed(Buffer.from('\x1b[1;5A'));      // [{ type: 'keydown', key: 'ArrowUp', ctrl: true, … }]
 * d.feed(Buffer.from('\x1b'));           // [] — Escape, or the start of a sequence?
 * if (d.waiting === 'escape') d.flush(); // after the timeout: [{ type: 'keydown', key: 'Escape', … }]
 */
export class InputDecoder {
  #pending: Buffer = EMPTY;
  #paste: StringDecoder | null = null;
  #pasteText = '';
  #pasteBytes = 0;
  #maxPaste: number;
  #pressed: { button: number; x: number; y: number } | null = null;
  #out: TtyEvent[] = [];
  #time = 0;

  constructor(options: DecoderOptions = {}) {
    const max = options.maxPasteBytes ?? 8 * 1024 * 1024;
    this.#maxPaste = Number.isInteger(max) && max > 0 ? max : 8 * 1024 * 1024;
  }

  /** What a timeout would resolve (the reader arms its timer while this is not 'none'). */
  get waiting(): Waiting {
    if (this.#paste !== null) return 'paste';
    return this.#pending.length > 0 ? 'escape' : 'none';
  }

  /** Decodes `bytes`; `time` is stamped on the events (when the bytes were read). */
  feed(bytes: Uint8Array, time = 0): TtyEvent[] {
    this.#time = time;
    this.#out = [];
    let buf: Buffer;
    if (this.#pending.length > 0) {
      buf = Buffer.concat([this.#pending, bytes]);
      this.#pending = EMPTY;
    } else {
      buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.#decode(buf, false);
    return this.#out;
  }

  /**
   * The timeout passed with no more input: a buffered lone ESC is the Escape key, `ESC [` and
   * `ESC O` are Alt-[ and Alt-O, a truncated sequence is dropped, an unfinished UTF-8 character
   * is U+FFFD, and a paste whose end never came is delivered as it is.
   */
  flush(time = 0): TtyEvent[] {
    this.#time = time;
    this.#out = [];
    if (this.#paste !== null) {
      // the end marker may be split off in #pending: it is part of no key, deliver it as text
      const rest = this.#pending;
      this.#pending = EMPTY;
      this.#pasteChunk(rest);
      this.#endPaste();
      return this.#out;
    }
    const p = this.#pending;
    this.#pending = EMPTY;
    if (p.length > 0) this.#decode(p, true);
    return this.#out;
  }

  // ---- the byte loop --------------------------------------------------------------------------

  #decode(buf: Buffer, final: boolean): void {
    const end = buf.length;
    let i = 0;
    while (i < end) {
      if (this.#paste !== null) {
        i = this.#pasteBytesFrom(buf, i);
        if (this.#paste !== null) return; // the rest is buffered
        continue;
      }
      const b = buf[i]!;
      let n: number;
      if (b === ESC) n = this.#escape(buf, i, final);
      else n = this.#key(buf, i, false, final);
      if (n === INCOMPLETE) {
        this.#pending = Buffer.from(buf.subarray(i)); // a copy: the caller may reuse its buffer
        return;
      }
      i += n;
    }
  }

  /** One key (not ESC) at `i` with Alt if `alt`: returns the bytes it took, or INCOMPLETE. */
  #key(buf: Buffer, i: number, alt: boolean, final: boolean): number {
    const b = buf[i]!;
    if (b < 0x20 || b === 0x7f) {
      this.#control(b, alt);
      return 1;
    }
    if (b < 0x80) {
      this.#char(String.fromCharCode(b), alt);
      return 1;
    }
    const r = utf8(buf, i, final);
    if (r === INCOMPLETE) return INCOMPLETE;
    this.#char(r.cp < 0 ? '\uFFFD' : String.fromCodePoint(r.cp), alt);
    return r.len;
  }

  #control(b: number, alt: boolean): void {
    if (b === 0x0d) return this.#emitKey('Enter', false, alt, false);
    if (b === 0x09) return this.#emitKey('Tab', false, alt, false);
    if (b === 0x7f) return this.#emitKey('Backspace', false, alt, false);
    if (b === 0x00) return this.#emitKey(' ', true, alt, false);
    if (b === 0x1b) return this.#emitKey('Escape', false, alt, false);
    if (b <= 0x1a) return this.#emitKey(String.fromCharCode(b + 0x60), true, alt, false); // Ctrl-A … Ctrl-Z
    return this.#emitKey(String.fromCharCode(b + 0x40), true, alt, false); // Ctrl-\ ] ^ _
  }

  #char(ch: string, alt: boolean): void {
    this.#emitKey(ch, false, alt, ch !== ch.toLowerCase());
  }

  /** ESC at `i`: a CSI or SS3 sequence, Alt + a key, or (flushed alone) the Escape key. */
  #escape(buf: Buffer, i: number, final: boolean): number {
    const end = buf.length;
    if (i + 1 >= end) {
      if (!final) return INCOMPLETE;
      this.#emitKey('Escape', false, false, false);
      return 1;
    }
    const c = buf[i + 1]!;
    if (c === 0x5b /* [ */) return this.#csi(buf, i, final);
    if (c === 0x4f /* O */) {
      if (i + 2 >= end) {
        if (!final) return INCOMPLETE;
        this.#char('O', true);
        return 2;
      }
      const key = LETTER_KEYS[String.fromCharCode(buf[i + 2]!)];
      if (key !== undefined) {
        this.#emitKey(key, false, false, false);
        return 3;
      }
      this.#char('O', true); // Alt-O followed by an ordinary key
      return 2;
    }
    if (c === ESC) {
      this.#emitKey('Escape', false, false, false); // the second ESC starts the next key
      return 1;
    }
    const n = this.#key(buf, i + 1, true, final);
    return n === INCOMPLETE ? INCOMPLETE : n + 1;
  }

  /** `ESC [ params intermediates final`: returns the bytes taken (garbage included) or INCOMPLETE. */
  #csi(buf: Buffer, i: number, final: boolean): number {
    const end = buf.length;
    let k = i + 2;
    while (k < end && buf[k]! >= 0x30 && buf[k]! <= 0x3f) k++;
    const paramsEnd = k;
    while (k < end && buf[k]! >= 0x20 && buf[k]! <= 0x2f) k++;
    if (k >= end) {
      if (k - i > MAX_SEQUENCE) return k - i; // too long to be real: drop it
      if (!final) return INCOMPLETE;
      if (k === i + 2) {
        this.#char('[', true); // ESC [ alone, timed out: Alt-[
        return 2;
      }
      return k - i; // a truncated sequence: dropped
    }
    const f = buf[k]!;
    if (f < 0x40 || f > 0x7e) return k - i; // broken by a byte that cannot be in a CSI: resume there
    if (k - i > MAX_SEQUENCE) return k + 1 - i;
    this.#csiSequence(buf.toString('latin1', i + 2, paramsEnd), paramsEnd === k, String.fromCharCode(f));
    return k + 1 - i;
  }

  #csiSequence(params: string, noIntermediates: boolean, f: string): void {
    if (!noIntermediates) return; // none of the keys we know has intermediates
    if (params.startsWith('<')) {
      if (f === 'M' || f === 'm') this.#mouse(params.slice(1), f === 'M');
      return;
    }
    if (params.length > 0 && params.charCodeAt(0) > 0x3b) return; // private (?, =, >): replies, not keys
    const p = params.split(';').map((s) => (s === '' ? NaN : Number(s)));
    const mods = modifiers(p[1]);
    if (f === '~') {
      const code = p[0]!;
      if (code === 200) {
        this.#paste = new StringDecoder('utf8');
        this.#pasteText = '';
        this.#pasteBytes = 0;
        return;
      }
      const key = TILDE_KEYS[code];
      if (key !== undefined) this.#emitKey(key, mods.ctrl, mods.alt, mods.shift);
      return;
    }
    if (f === 'Z') return this.#emitKey('Tab', mods.ctrl, mods.alt, true);
    if (f === 'u') {
      const code = p[0]!;
      const key = CODE_KEYS[code] ?? (Number.isInteger(code) && code >= 0x20 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : undefined);
      if (key !== undefined) this.#emitKey(key, mods.ctrl, mods.alt, mods.shift);
      return;
    }
    const key = LETTER_KEYS[f];
    if (key !== undefined) this.#emitKey(key, mods.ctrl, mods.alt, mods.shift);
  }

  /** SGR mouse report `CSI < Cb ; Cx ; Cy M|m` (M press or motion, m release). */
  #mouse(params: string, press: boolean): void {
    const parts = params.split(';');
    if (parts.length !== 3 || parts.some((s) => !/^\d{1,6}$/.test(s))) return;
    const [cb, cx, cy] = parts.map(Number) as [number, number, number];
    if (cx < 1 || cy < 1) return;
    const x = cx - 1;
    const y = cy - 1;
    const mods: Modifiers = { shift: (cb & 4) !== 0, alt: (cb & 8) !== 0, ctrl: (cb & 16) !== 0 };
    const low = cb & 3;
    const extra = (cb & 128) !== 0;
    const time = this.#time;
    if ((cb & 64) !== 0 && !extra) {
      if (!press) return; // wheels have no release
      const deltaY = low === 0 ? -1 : low === 1 ? 1 : 0;
      const deltaX = low === 2 ? -1 : low === 3 ? 1 : 0;
      this.#out.push({ type: 'wheel', x, y, deltaX, deltaY, ...mods, time });
      return;
    }
    const button = extra ? 8 + low : low === 3 ? -1 : low;
    if ((cb & 32) !== 0) {
      this.#out.push({ type: 'mousemove', x, y, button, ...mods, time });
      return;
    }
    if (button < 0) return; // "released, button unknown" is X10's, not SGR's
    if (press) {
      this.#pressed = { button, x, y };
      this.#out.push({ type: 'mousedown', x, y, button, ...mods, time });
      return;
    }
    this.#out.push({ type: 'mouseup', x, y, button, ...mods, time });
    const down = this.#pressed;
    this.#pressed = null;
    // a click, as in the browser: pressed and released on the same spot (here: the same cell)
    if (down !== null && down.button === button && down.x === x && down.y === y) {
      this.#out.push({ type: 'click', x, y, button, ...mods, time });
    }
  }

  // ---- bracketed paste ------------------------------------------------------------------------

  /** In a paste: takes text up to the end marker; returns the position after what it took. */
  #pasteBytesFrom(buf: Buffer, i: number): number {
    const at = buf.indexOf(PASTE_END, i);
    if (at >= 0) {
      this.#pasteChunk(buf.subarray(i, at));
      this.#endPaste();
      return at + PASTE_END.length;
    }
    // keep a tail that may be the start of the end marker for the next read
    let keep = Math.min(PASTE_END.length - 1, buf.length - i);
    while (keep > 0 && !buf.subarray(buf.length - keep).equals(PASTE_END.subarray(0, keep))) keep--;
    this.#pasteChunk(buf.subarray(i, buf.length - keep));
    this.#pending = keep > 0 ? Buffer.from(buf.subarray(buf.length - keep)) : EMPTY;
    return buf.length;
  }

  #pasteChunk(chunk: Buffer): void {
    let c = chunk;
    while (c.length > 0) {
      const room = this.#maxPaste - this.#pasteBytes;
      const part = c.length > room ? c.subarray(0, room) : c;
      this.#pasteText += this.#paste!.write(part);
      this.#pasteBytes += part.length;
      c = c.subarray(part.length);
      if (this.#pasteBytes >= this.#maxPaste) {
        this.#emitPaste(this.#pasteText); // bounded memory: a huge paste comes in pieces
        this.#pasteText = '';
        this.#pasteBytes = 0;
      }
    }
  }

  #endPaste(): void {
    const text = this.#pasteText + this.#paste!.end();
    this.#paste = null;
    this.#pasteText = '';
    this.#pasteBytes = 0;
    this.#emitPaste(text);
  }

  #emitPaste(text: string): void {
    // terminals send Enter as CR inside a paste; the browser's paste has "\n"
    this.#out.push({ type: 'paste', text: text.replace(/\r\n?/g, '\n'), time: this.#time });
  }

  #emitKey(key: string, ctrl: boolean, alt: boolean, shift: boolean): void {
    this.#out.push({ type: 'keydown', key, ctrl, alt, shift, time: this.#time } satisfies KeyEvent);
  }
}

/** xterm's modifier parameter: 1 + (shift 1 | alt 2 | ctrl 4 | meta 8); meta counts as alt. */
function modifiers(p: number | undefined): Modifiers {
  if (p === undefined || !Number.isInteger(p) || p < 2 || p > 256) return NONE;
  const m = p - 1;
  return { shift: (m & 1) !== 0, alt: (m & 10) !== 0, ctrl: (m & 4) !== 0 };
}

/**
 * The UTF-8 character at `i` (WHATWG decoding: an invalid sequence is one U+FFFD for the lead and
 * its valid continuation bytes; the breaking byte is decoded next). `cp` is -1 for U+FFFD.
 */
function utf8(buf: Buffer, i: number, final: boolean): { cp: number; len: number } | typeof INCOMPLETE {
  const b0 = buf[i]!;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  let cp: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lo = 0xa0;
    if (b0 === 0xed) hi = 0x9f; // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f; // <= U+10FFFF
  } else {
    return { cp: -1, len: 1 };
  }
  let k = 1;
  for (; k <= need; k++) {
    if (i + k >= buf.length) return final ? { cp: -1, len: k } : INCOMPLETE;
    const b = buf[i + k]!;
    if (b < lo || b > hi) return { cp: -1, len: k };
    lo = 0x80;
    hi = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
  }
  return { cp, len: k };
}
