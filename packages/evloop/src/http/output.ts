/**
 * The response cork: bytes of responses are gathered in one shared buffer and handed to the
 * transport in one write, so N pipelined requests answered in one read cost one send().
 *
 * One buffer serves every connection of the thread. It is owned by one connection at a time:
 * a connection about to append while another owns it first flushes the other's bytes to that
 * connection's transport, so each connection's bytes stay in order and never mix. Flushes happen
 * at the end of each read dispatch (the connection calls `flushOutput`), and for writes made
 * outside a dispatch (async handlers) in a microtask, which batches everything one promise
 * continuation wrote.
 */
import type { Transport } from '../net/protocol.js';

/** Something that owns a transport to flush into. */
export interface OutputSink {
  /** The transport, or null once the connection is gone (the bytes are dropped). */
  readonly transport: Transport | null;
}

interface FastBuffer extends Buffer {
  latin1Write(s: string, offset: number, length: number): number;
  utf8Write(s: string, offset: number, length: number): number;
}

const SIZE = 64 * 1024;
/** Bigger writes bypass the cork (after flushing it, to keep order). */
const DIRECT = 16 * 1024;
const OUT = Buffer.allocUnsafeSlow(SIZE) as FastBuffer;
let len = 0;
/**
 * An immutable block (a cached response) appended to an empty cork: sent as it is, without a
 * copy into OUT, unless more bytes follow (then it is copied in first).
 */
let ref: Uint8Array | null = null;
let owner: OutputSink | null = null;
let microtaskQueued = false;
/** Set while a connection dispatches a read: it flushes at the end, no microtask needed. */
let dispatching = 0;

function claim(sink: OutputSink): void {
  if (owner !== sink) {
    if (owner !== null && (len > 0 || ref !== null)) flushOutput();
    owner = sink;
  }
  if (dispatching === 0 && !microtaskQueued) {
    microtaskQueued = true;
    queueMicrotask(flushQueued);
  }
}

/** Claims the cork for appending to OUT. */
function take(sink: OutputSink): void {
  claim(sink);
  const r = ref;
  if (r !== null) {
    ref = null;
    OUT.set(r, 0); // ref is only ever set on an empty cork
    len = r.byteLength;
  }
}

function flushQueued(): void {
  microtaskQueued = false;
  flushOutput();
}

/** Hands the corked bytes to their connection's transport (one send). */
export function flushOutput(): void {
  const o = owner;
  const n = len;
  const r = ref;
  owner = null;
  len = 0;
  ref = null;
  if (o === null || (n === 0 && r === null)) return;
  const t = o.transport;
  if (t === null || t.isClosing) return;
  // the transport copies what the kernel did not take, so OUT is free again at once; a ref block
  // is never modified (only replaced), so it is queued as it is
  if (r !== null) t.write(r, true);
  else t.write(outView(n));
}

// The view of OUT's first n bytes handed to the transport, kept while n repeats (the same
// responses in every flush: no Buffer allocated per send).
let viewLen = SIZE;
let view: Buffer = OUT;

function outView(n: number): Buffer {
  if (n !== viewLen) {
    view = OUT.subarray(0, n);
    viewLen = n;
  }
  return view;
}

/** Flushes only if `sink` owns the cork (end of its dispatch, or before it closes). */
export function flushOutputOf(sink: OutputSink): void {
  if (owner === sink) flushOutput();
}

/** A read dispatch begins/ends: writes in between are flushed by the dispatcher. */
export function beginDispatch(): void {
  dispatching++;
}

export function endDispatch(): void {
  dispatching--;
}

/** Appends a latin1 string (a response head: one byte per char). */
export function writeLatin1(sink: OutputSink, s: string): void {
  take(sink);
  const n = s.length;
  if (n > SIZE - len) {
    flushOutput();
    owner = sink;
    if (n > SIZE) return direct(sink, Buffer.from(s, 'latin1'));
  }
  len += OUT.latin1Write(s, len, n);
}

/** Appends a string body as UTF-8. */
export function writeUtf8(sink: OutputSink, s: string): void {
  take(sink);
  // a UTF-16 unit never takes more than 3 UTF-8 bytes
  if (s.length * 3 > SIZE - len) {
    const bytes = Buffer.byteLength(s);
    if (bytes > SIZE - len) {
      flushOutput();
      owner = sink;
      if (bytes > DIRECT) return direct(sink, Buffer.from(s));
    }
  }
  len += OUT.utf8Write(s, len, SIZE - len);
}

/**
 * Appends bytes (copied into the cork if small, else written straight through after it). A large
 * body is queued by reference if the kernel does not take it at once (like Node's socket.write):
 * the caller must not modify it afterwards.
 */
export function writeBytes(sink: OutputSink, b: Uint8Array): void {
  take(sink);
  const n = b.byteLength;
  if (n > SIZE - len || n > DIRECT) {
    flushOutput();
    owner = sink;
    if (n > DIRECT) return direct(sink, b);
  }
  OUT.set(b, len);
  len += n;
}

/**
 * Appends bytes that nobody modifies afterwards (a cached response): when the cork is empty they
 * are kept by reference and sent as they are, saving a copy when one response goes per send.
 */
export function writeShared(sink: OutputSink, b: Uint8Array): void {
  if (len !== 0 || ref !== null || (owner !== sink && owner !== null) || b.byteLength > DIRECT) return writeBytes(sink, b);
  claim(sink);
  ref = b;
}

/**
 * Writes `b` past the cork. Every caller hands over bytes nobody modifies afterwards (a string it
 * just encoded, a large body), so the transport queues them by reference, not as a copy.
 */
function direct(sink: OutputSink, b: Uint8Array): void {
  owner = null;
  const t = sink.transport;
  if (t !== null && !t.isClosing) t.write(b, true);
}
