import type { DeliveryStage } from '@aerie/contracts';
import type { Delivery, StageChange } from '../domain/delivery.js';
import { ACTIVE_STAGES } from '../domain/delivery.js';
import type { DeliveryRepository, ListFilter } from '../ports.js';
import { SerialRepository, type SyncDeliveryStore } from './serial-repository.js';

/** In-memory twin of the SQL repositories, held to the same contract suite. */
export class MemoryDeliveryRepository extends SerialRepository {
  constructor() {
    super(new MemoryStore());
  }
}

class MemoryStore implements SyncDeliveryStore {
  private rows = new Map<string, Delivery>();
  private changes = new Map<string, StageChange[]>();
  private eventIds = new Set<string>();
  private positions = new Map<string, number>();
  private saved: { rows: Map<string, Delivery>; changes: Map<string, StageChange[]>; eventIds: Set<string>; positions: Map<string, number> } | null = null;

  private insert(d: Delivery, first: StageChange): boolean {
    if (this.rows.has(d.id)) return false;
    this.rows.set(d.id, { ...d });
    this.changes.set(d.id, [first]);
    this.eventIds.add(first.eventId);
    return true;
  }

  insertMany(items: readonly { delivery: Delivery; first: StageChange }[]): boolean[] {
    return items.map((x) => this.insert(x.delivery, x.first));
  }

  get(id: string): Delivery | null {
    const d = this.rows.get(id);
    return d ? { ...d } : null;
  }

  history(id: string): StageChange[] {
    return [...(this.changes.get(id) ?? [])];
  }

  advance(id: string, change: StageChange, patch: Partial<Pick<Delivery, 'droneId' | 'eta' | 'lastPosition' | 'failureReason' | 'etaAtDispatch'>>): boolean {
    const d = this.rows.get(id);
    if (!d || this.eventIds.has(change.eventId)) return false;
    if (patch.droneId && patch.droneId === d.abortedDroneId) return false;
    const droneId = patch.droneId ?? d.droneId;
    if (droneId && ACTIVE_STAGES.includes(change.stage)
      && [...this.rows.values()].some((o) => o.id !== id && o.droneId === droneId && ACTIVE_STAGES.includes(o.stage))) return false;
    this.eventIds.add(change.eventId);
    this.changes.get(id)?.push(change);
    Object.assign(d, { stage: change.stage, updatedAt: change.at }, definedOnly(patch));
    return true;
  }

  reschedule(id: string, patch: Parameters<DeliveryRepository['reschedule']>[1], stages: readonly DeliveryStage[], now: number, replan?: StageChange): boolean {
    const d = this.rows.get(id);
    if (!d || !stages.includes(d.stage)) return false;
    Object.assign(d, definedOnly(patch), { updatedAt: now });
    if (patch.route === null) d.route = null;
    if (replan) {
      Object.assign(d, { stage: replan.stage, droneId: null, eta: null, etaAtDispatch: null, route: null });
      if (!this.eventIds.has(replan.eventId)) {
        this.eventIds.add(replan.eventId);
        this.changes.get(id)?.push(replan);
      }
    }
    return true;
  }

  update(id: string, patch: Parameters<DeliveryRepository['update']>[1], now: number): void {
    const d = this.rows.get(id);
    if (d) Object.assign(d, { updatedAt: now }, definedOnly(patch), patch.route === null ? { route: null } : {});
  }

  listByStage(stages: readonly DeliveryStage[], limit: number): Delivery[] {
    return [...this.rows.values()]
      .filter((d) => stages.includes(d.stage))
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((d) => ({ ...d }));
  }

  list(f: ListFilter, limit: number): Delivery[] {
    return [...this.rows.values()]
      .filter((d) => (!f.stages || f.stages.includes(d.stage)) && (f.owner === undefined || d.owner === f.owner)
        && (f.from === undefined || d.createdAt >= f.from) && (f.to === undefined || d.createdAt < f.to)
        && (f.pickupFromUntil === undefined || d.window.pickupFrom === null || d.window.pickupFrom <= f.pickupFromUntil)
        && (!f.after || d.createdAt > f.after.createdAt || (d.createdAt === f.after.createdAt && d.id > f.after.id)))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map((d) => ({ ...d }));
  }

  countByStage(stages: readonly DeliveryStage[], limit: number): number {
    let n = 0;
    for (const d of this.rows.values()) if (n < limit && stages.includes(d.stage)) n += 1;
    return n;
  }

  setQueuePosition(queue: string, position: number): void {
    this.positions.set(queue, position);
  }

  queuePosition(queue: string): number {
    return this.positions.get(queue) ?? 0;
  }

  allIds(): string[] {
    return [...this.rows.keys()];
  }

  /** A transaction is a snapshot to go back to. */
  begin(): void {
    this.saved = {
      rows: new Map([...this.rows].map(([k, d]) => [k, { ...d }])),
      changes: new Map([...this.changes].map(([k, c]) => [k, [...c]])),
      eventIds: new Set(this.eventIds),
      positions: new Map(this.positions),
    };
  }

  commit(): void {
    this.saved = null;
  }

  rollback(): void {
    if (!this.saved) return;
    ({ rows: this.rows, changes: this.changes, eventIds: this.eventIds, positions: this.positions } = this.saved);
    this.saved = null;
  }

  close(): void {}
}

/** Same semantics as the SQL COALESCE: undefined keeps a field, null keeps it too except for eta. */
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && (v !== null || k === 'eta'))) as Partial<T>;
}
