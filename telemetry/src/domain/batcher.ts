import type { Clock } from '@aerie/contracts';

export interface BatcherOptions<T> {
  /** a batch this large is written at once */
  maxItems: number;
  /** and none waits longer than this after its first item, in milliseconds */
  maxDelayMs: number;
  clock: Clock;
  /** must not throw: the batcher calls it from a timer */
  write(items: T[]): void;
}

/**
 * Size-or-age batching, so a store pays one transaction per batch instead of one per message
 * (an fsync per 5 Hz status per drone would bound the fleet size by disk latency).
 */
export class Batcher<T> {
  readonly #opts: BatcherOptions<T>;
  #items: T[] = [];
  #timer: unknown = undefined;

  constructor(opts: BatcherOptions<T>) {
    this.#opts = opts;
  }

  get pending(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length >= this.#opts.maxItems) {
      this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = this.#opts.clock.setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#opts.maxDelayMs);
    }
  }

  flush(): void {
    if (this.#timer !== undefined) {
      this.#opts.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.#opts.write(items);
  }
}
