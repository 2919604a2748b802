// Character classes of RFC 9110/9112 as 256-entry tables, so the parser's inner loops are one
// array load per byte instead of a chain of comparisons.

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlnum = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar (RFC 9110 §5.6.2): methods, field names, transfer codings, chunk extension names. */
export const TOKEN = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** field-vchar / SP / HTAB (RFC 9110 §5.5): everything allowed inside a field value. */
export const FIELD_VALUE = table((c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/** field-vchar only: the first and last byte of a field value (OWS is trimmed). */
export const FIELD_VCHAR = table((c) => (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/**
 * Bytes accepted in a request-target: visible ASCII. The URI grammar proper is left to the router
 * (as llhttp does); what matters for framing is that no space, control or non-ASCII byte slips in.
 */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e);

/** qdtext (RFC 9110 §5.6.4) inside a quoted chunk-extension value. */
export const QDTEXT = table(
  (c) => c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80,
);

/** Hex digit values for chunk sizes; 255 marks a non-digit. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
