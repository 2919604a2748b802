/**
 * A binary min-heap of timers keyed on (deadline, seq): equal deadlines come out in arming
 * order (libuv's timer.c breaks ties by start_id the same way). Cancelled timers are removed
 * lazily: they stay in the heap, are skipped when they reach the top, and the heap is compacted
 * when they make up more than half of it.
 */
export interface HeapTimer {
  deadline: number;
  seq: number;
  /** false once fired or cancelled */
  armed: boolean;
}

function before(a: HeapTimer, b: HeapTimer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

export class TimerHeap<T extends HeapTimer> {
  #items: T[] = [];
  #cancelled = 0;

  /** Timers in the heap, cancelled ones included. */
  get size(): number {
    return this.#items.length;
  }

  push(t: T): void {
    const items = this.#items;
    let i = items.length;
    items.push(t);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!before(t, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = t;
  }

  /** The earliest armed timer, dropping cancelled ones from the top. */
  peek(): T | undefined {
    const items = this.#items;
    while (items.length > 0 && !items[0]!.armed) {
      this.#popTop();
      this.#cancelled--;
    }
    return items[0];
  }

  /** Removes and returns the earliest armed timer. */
  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.#popTop();
    return top;
  }

  /** Notes that a timer in the heap was cancelled; compacts when most of the heap is dead. */
  noteCancelled(): void {
    this.#cancelled++;
    if (this.#cancelled > 1024 && this.#cancelled * 2 > this.#items.length) this.#compact();
  }

  #popTop(): void {
    const items = this.#items;
    const last = items.pop()!;
    const n = items.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(items[r]!, items[l]!)) c = r;
      if (!before(items[c]!, last)) break;
      items[i] = items[c]!;
      i = c;
    }
    items[i] = last;
  }

  #compact(): void {
    const live = this.#items.filter((t) => t.armed);
    this.#items = [];
    this.#cancelled = 0;
    live.sort((a, b) => (before(a, b) ? -1 : 1));
    this.#items = live; // a sorted array is a valid heap
  }
}
