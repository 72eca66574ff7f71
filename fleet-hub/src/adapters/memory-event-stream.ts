import type { DeliveryTracking } from '@aerie/contracts';
import type { EventStream, StoredEvent } from '../ports.js';

/** In-memory twin of the event stream: the same offsets and commit semantics, nothing durable. */
export class MemoryEventStream implements EventStream {
  private readonly events: DeliveryTracking[] = [];
  private readonly committed = new Map<string, number>();

  append(event: DeliveryTracking): Promise<number> {
    this.events.push(event);
    return Promise.resolve(this.events.length - 1);
  }

  read(consumer: string, max: number): Promise<StoredEvent[]> {
    const from = (this.committed.get(consumer) ?? -1) + 1;
    return Promise.resolve(this.events.slice(from, from + max).map((event, i) => ({ offset: from + i, event })));
  }

  commit(consumer: string, offset: number): Promise<void> {
    this.committed.set(consumer, Math.max(offset, this.committed.get(consumer) ?? -1));
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
