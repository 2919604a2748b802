/**
 * evloop/tty: terminal input as loop events (raw mode, keys, SGR mouse, bracketed paste,
 * resize) and the pure decoder behind it.
 */
export { openTerminal, Terminal, monotonicMs, SEQ, type TerminalOptions, type TerminalStats } from './terminal.js';
export { InputDecoder, MAX_SEQUENCE, type DecoderOptions, type Waiting } from './decoder.js';
export { TTY_EVENT_TYPES, type TtyEvent, type KeyEvent, type MouseButtonEvent, type MouseDownEvent, type MouseUpEvent, type ClickEvent, type MouseMoveEvent, type WheelEvent, type PasteEvent, type ResizeEvent, type Modifiers } from './events.js';
export { TTY_CODES } from './errors.js';
