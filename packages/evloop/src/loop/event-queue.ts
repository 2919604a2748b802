/**
 * The event queue: the UI message-loop model. Producers `post` typed events (a key press, a
 * click, a message from a worker); the loop dispatches them in its "queued events" phase, each
 * to the handlers registered for its type (`on('click', onClick)`), in posting order.
 *
 * Posting a type that no handler was ever registered or declared for is an error at the call
 * (ERR_UNKNOWN_EVENT_TYPE): a typo in a type name would otherwise drop events silently.
 */
import { EvloopError } from '../errors.js';

/** An event: a `type` and whatever payload the type carries. */
export interface LoopEvent {
  readonly type: string;
}

export type Handler<E> = (event: E) => void;

/**
 * The event of one type: the member of the union `E` whose `type` is `T`, or `E` itself when the
 * queue is untyped (`type: string`), so that `loop.events.on('click', (e) => e.type)` type-checks.
 */
export type EventOfType<E extends LoopEvent, T extends string> = [Extract<E, { type: T }>] extends [never] ? E : Extract<E, { type: T }>;

/** What the queue needs from its loop: to be woken when an event arrives, to report errors. */
export interface EventQueueOwner {
  eventsPosted(): void;
  callHandler(fn: (event: never) => void, event: LoopEvent, what: string): void;
}

/**
 * @example
 * type UiEvent = { type: 'click'; x: number; y: number } | { type: 'keydown'; key: string };
 * const events = loop.events as EventQueue<UiEvent>;
 * events.on('click', (e) => console.log(e.x, e.y));
 * events.post({ type: 'click', x: 3, y: 4 });
 */
export class EventQueue<E extends LoopEvent = LoopEvent> {
  #owner: EventQueueOwner;
  #handlers = new Map<string, Handler<never>[]>();
  #queue: E[] = [];
  #head = 0;
  #dispatched = 0;

  constructor(owner: EventQueueOwner) {
    this.#owner = owner;
  }

  /** Registers a handler for one event type; returns a function that removes it. */
  on<T extends E['type']>(type: T, handler: Handler<EventOfType<E, T>>): () => void {
    checkType(type);
    if (typeof handler !== 'function') throw new EvloopError('ERR_INVALID_ARG', `handler for "${type}" must be a function`);
    const list = this.#handlers.get(type) ?? [];
    // copy-on-write: a handler added or removed during dispatch takes effect from the next event
    this.#handlers.set(type, [...list, handler as Handler<never>]);
    return () => this.off(type, handler);
  }

  /** Removes a handler; returns whether it was registered. The type stays known. */
  off<T extends E['type']>(type: T, handler: Handler<EventOfType<E, T>>): boolean {
    const list = this.#handlers.get(type);
    if (!list) return false;
    const i = list.indexOf(handler as Handler<never>);
    if (i < 0) return false;
    this.#handlers.set(type, list.filter((_, j) => j !== i));
    return true;
  }

  /** Makes types known without a handler yet, so posting them is not an error. */
  declare(...types: E['type'][]): void {
    for (const t of types) {
      checkType(t);
      if (!this.#handlers.has(t)) this.#handlers.set(t, []);
    }
  }

  /** Queues an event for dispatch in the loop's next "queued events" phase. */
  post(event: E): void {
    if (event === null || typeof event !== 'object') throw new EvloopError('ERR_INVALID_EVENT', `an event must be an object with a type, got ${event === null ? 'null' : typeof event}`);
    checkType(event.type);
    if (!this.#handlers.has(event.type)) {
      throw new EvloopError('ERR_UNKNOWN_EVENT_TYPE', `no handler was registered or declared for event type "${event.type}"`);
    }
    this.#queue.push(event);
    this.#owner.eventsPosted();
  }

  /** Events waiting for dispatch. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Events dispatched so far. */
  get dispatched(): number {
    return this.#dispatched;
  }

  /**
   * @internal The loop's "queued events" phase: dispatches the events that were queued when the
   * phase began; events posted by handlers wait for the next turn (no starvation).
   */
  dispatchQueued(): number {
    const queue = this.#queue;
    const end = queue.length;
    let n = 0;
    while (this.#head < end) {
      const event = queue[this.#head]!;
      queue[this.#head++] = undefined as unknown as E; // let it be collected
      const list = this.#handlers.get(event.type);
      if (list) for (const h of list) this.#owner.callHandler(h, event, `event:${event.type}`);
      n++;
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#dispatched += n;
    return n;
  }
}

function checkType(type: unknown): void {
  if (typeof type !== 'string' || type.length === 0) {
    throw new EvloopError('ERR_INVALID_EVENT', `an event type must be a non-empty string, got ${JSON.stringify(type)}`);
  }
}
