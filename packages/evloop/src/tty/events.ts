/**
 * The typed events of terminal input, as posted to `loop.events`. Names and fields follow the
 * browser's (KeyboardEvent.key, MouseEvent.button), so a handler reads the same for the terminal
 * and for the web page: `key` is 'a', 'A', ' ', 'Enter', 'ArrowUp', 'F5'…; `button` is 0 (left),
 * 1 (middle), 2 (right), 8+ (extra buttons). Coordinates are 0-based cells (column x, row y).
 * `time` is when the bytes were read (ms, process.hrtime's monotonic clock), so a handler can
 * measure input-to-handler latency.
 */
import type { LoopEvent } from '../loop/event-queue.js';

export interface Modifiers {
  readonly ctrl: boolean;
  readonly alt: boolean;
  readonly shift: boolean;
}

export interface KeyEvent extends LoopEvent, Modifiers {
  readonly type: 'keydown';
  readonly key: string;
  readonly time: number;
}

interface MouseButtonFields extends LoopEvent, Modifiers {
  readonly x: number;
  readonly y: number;
  readonly button: number;
  readonly time: number;
}

export interface MouseDownEvent extends MouseButtonFields {
  readonly type: 'mousedown';
}

export interface MouseUpEvent extends MouseButtonFields {
  readonly type: 'mouseup';
}

/** A press and a release of one button on the same cell (posted after the mouseup). */
export interface ClickEvent extends MouseButtonFields {
  readonly type: 'click';
}

export type MouseButtonEvent = MouseDownEvent | MouseUpEvent | ClickEvent;

export interface MouseMoveEvent extends LoopEvent, Modifiers {
  readonly type: 'mousemove';
  readonly x: number;
  readonly y: number;
  /** The button held during a drag, -1 for motion with no button. */
  readonly button: number;
  readonly time: number;
}

export interface WheelEvent extends LoopEvent, Modifiers {
  readonly type: 'wheel';
  readonly x: number;
  readonly y: number;
  /** -1 up / 1 down (one notch); deltaX -1 left / 1 right. */
  readonly deltaY: number;
  readonly deltaX: number;
  readonly time: number;
}

export interface PasteEvent extends LoopEvent {
  readonly type: 'paste';
  readonly text: string;
  readonly time: number;
}

export interface ResizeEvent extends LoopEvent {
  readonly type: 'resize';
  readonly columns: number;
  readonly rows: number;
  readonly time: number;
}

/** Every event terminal input posts. */
export type TtyEvent = KeyEvent | MouseButtonEvent | MouseMoveEvent | WheelEvent | PasteEvent | ResizeEvent;

/** The event types, declared on `loop.events` when a terminal opens. */
export const TTY_EVENT_TYPES = ['keydown', 'mousedown', 'mouseup', 'click', 'mousemove', 'wheel', 'paste', 'resize'] as const;
