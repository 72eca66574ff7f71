import { DELIVERY_STAGES, type DeliveryStage } from '@aerie/contracts';

/**
 * The whole-system fault test's books (issue 8, bench:faults): every DroneStatus the broker
 * acknowledged is in InfluxDB exactly once, every delivery accepted with 202 reaches a final stage
 * exactly once, no drone is held by two deliveries at once and no stage moves backwards. Pure:
 * the readers (accounting-sources.ts) bring the data; this only counts, by id.
 */

/** A DroneStatus by identity: a publish-journal line, or a drone_status point read back. */
export interface StatusId {
  droneId: string;
  bootId: string;
  seq: number;
  ts: number;
}

/** delivery-core's store, read back: the rows, every stage change in insertion order, the reservations. */
export interface CoreSnapshot {
  deliveries: readonly { id: string; stage: string; droneId: string | null }[];
  /** `seq` is stage_history's insertion order: the order in which the stage actually moved. */
  history: readonly { deliveryId: string; stage: string; at: number; seq: number }[];
  reservations: readonly { droneId: string; holder: string }[];
}

export interface AccountingInput {
  /** Publish-journal lines of every agent (a line may repeat: a replay acknowledged twice). */
  journal: readonly StatusId[];
  /** drone_status points in InfluxDB (one per stored point, so a status stored twice appears twice). */
  stored: readonly StatusId[];
  core: CoreSnapshot;
  /** Delivery ids the gateway answered 202 for. */
  accepted: readonly string[];
}

export interface Accounting {
  status_published: number;
  status_stored: number;
  /** Published (journaled) but not in InfluxDB. */
  status_lost: number;
  /** Ids stored at more than one timestamp. */
  status_duplicated: number;
  deliveries_accepted: number;
  /** Accepted deliveries with exactly one final stage change, and in a final stage now. */
  deliveries_final: number;
  /** Accepted but absent from the store, or not final. */
  deliveries_lost: number;
  /** Pairs of deliveries holding one drone over overlapping intervals. */
  double_booked: number;
  /** Stage changes to an earlier stage of the lifecycle. */
  stages_backwards: number;
  /** In InfluxDB but not in any journal: the journal's tail lost to a kill -9 (not a loss, not a duplicate). */
  status_unjournaled: number;
  /** Accepted deliveries with more than one final stage change. */
  deliveries_final_repeated: number;
  deliveries_completed: number;
  deliveries_cancelled: number;
  deliveries_failed: number;
  /** A few ids behind each non-zero problem figure, for the report. */
  examples: Record<string, string[]>;
}

const FINAL: ReadonlySet<string> = new Set<DeliveryStage>(['Completed', 'Cancelled', 'Failed']);
const ACTIVE: ReadonlySet<string> = new Set<DeliveryStage>(['Scheduled', 'HeadedToPickup', 'PickedUp', 'HeadedToDropoff']);
/** Lifecycle rank: the order of contracts' DELIVERY_STAGES, the three final stages sharing the last rank. */
const RANK = new Map<string, number>(DELIVERY_STAGES.map((s, i) => [s, FINAL.has(s) ? DELIVERY_STAGES.indexOf('Completed') : i]));
const EXAMPLES = 5;

const idKey = (s: StatusId): string => `${s.droneId}\u0000${s.bootId}\u0000${s.seq}`;
const show = (k: string): string => k.replaceAll('\u0000', '/');

export function account(input: AccountingInput): Accounting {
  const examples: Record<string, string[]> = {};
  const note = (what: string, id: string): void => {
    const list = (examples[what] ??= []);
    if (list.length < EXAMPLES) list.push(id);
  };

  // Statuses, by (droneId, bootId, seq). A replay at the same ts overwrites its point in InfluxDB,
  // so two points of one id means two timestamps: a real duplicate.
  const published = new Set(input.journal.map(idKey));
  const storedTimes = new Map<string, Set<number>>();
  for (const s of input.stored) {
    const k = idKey(s);
    const times = storedTimes.get(k) ?? new Set<number>();
    times.add(s.ts);
    storedTimes.set(k, times);
  }
  let stored = 0;
  let lost = 0;
  for (const k of published) {
    if (storedTimes.has(k)) stored += 1;
    else {
      lost += 1;
      note('status_lost', show(k));
    }
  }
  let duplicated = 0;
  let unjournaled = 0;
  for (const [k, times] of storedTimes) {
    if (times.size > 1) {
      duplicated += 1;
      note('status_duplicated', show(k));
    }
    if (!published.has(k)) unjournaled += 1;
  }

  // Deliveries: stage changes in the order they were written.
  const history = [...input.core.history].sort((a, b) => a.seq - b.seq);
  const byDelivery = new Map<string, typeof history>();
  for (const h of history) {
    const list = byDelivery.get(h.deliveryId) ?? [];
    list.push(h);
    byDelivery.set(h.deliveryId, list);
  }
  let backwards = 0;
  for (const [id, changes] of byDelivery) {
    for (let i = 1; i < changes.length; i++) {
      const before = RANK.get(changes[i - 1]!.stage) ?? 0;
      const after = RANK.get(changes[i]!.stage) ?? 0;
      if (after < before) {
        backwards += 1;
        note('stages_backwards', `${id}: ${changes[i - 1]!.stage}→${changes[i]!.stage}`);
      }
    }
  }

  const rows = new Map(input.core.deliveries.map((d) => [d.id, d]));
  const accepted = new Set(input.accepted);
  let final = 0;
  let finalRepeated = 0;
  let deliveriesLost = 0;
  const byFinal: Record<string, number> = { Completed: 0, Cancelled: 0, Failed: 0 };
  for (const id of accepted) {
    const row = rows.get(id);
    const finals = (byDelivery.get(id) ?? []).filter((h) => FINAL.has(h.stage));
    if (row === undefined || !FINAL.has(row.stage) || finals.length === 0) {
      deliveriesLost += 1;
      note('deliveries_lost', `${id}: ${row?.stage ?? 'absent'}`);
    } else if (finals.length > 1) {
      finalRepeated += 1;
      note('deliveries_final_repeated', `${id}: ${finals.map((f) => f.stage).join(',')}`);
    } else {
      final += 1;
      byFinal[row.stage] = (byFinal[row.stage] ?? 0) + 1;
    }
  }

  const doubleBooked = doubleBookings(input.core, byDelivery);
  for (const p of doubleBooked) note('double_booked', p);

  return {
    status_published: published.size,
    status_stored: stored,
    status_lost: lost,
    status_duplicated: duplicated,
    deliveries_accepted: accepted.size,
    deliveries_final: final,
    deliveries_lost: deliveriesLost,
    double_booked: doubleBooked.size,
    stages_backwards: backwards,
    status_unjournaled: unjournaled,
    deliveries_final_repeated: finalRepeated,
    deliveries_completed: byFinal.Completed ?? 0,
    deliveries_cancelled: byFinal.Cancelled ?? 0,
    deliveries_failed: byFinal.Failed ?? 0,
    examples,
  };
}

/**
 * Pairs of deliveries (as "a|b") that held one drone at once. A delivery holds its drone from its
 * first active stage after its last Requested (a reschedule returns it to Requested without a
 * drone) until its first final stage, or to now when it has none; intervals are half-open, so one
 * ending the millisecond the next begins is not an overlap. The reservations now held are checked
 * too: a drone reserved for one delivery while another active delivery flies with it.
 */
function doubleBookings(core: CoreSnapshot, byDelivery: ReadonlyMap<string, readonly { stage: string; at: number }[]>): Set<string> {
  const holds = new Map<string, { id: string; from: number; to: number }[]>();
  for (const d of core.deliveries) {
    if (d.droneId === null) continue;
    const changes = byDelivery.get(d.id) ?? [];
    let lastRequested = -1;
    changes.forEach((c, i) => {
      if (c.stage === 'Requested') lastRequested = i;
    });
    const after = changes.slice(lastRequested + 1);
    const start = after.find((c) => ACTIVE.has(c.stage));
    if (start === undefined) continue;
    const end = after.find((c) => FINAL.has(c.stage));
    const list = holds.get(d.droneId) ?? [];
    list.push({ id: d.id, from: start.at, to: end?.at ?? Infinity });
    holds.set(d.droneId, list);
  }
  const pairs = new Set<string>();
  const pair = (a: string, b: string): void => {
    pairs.add(a < b ? `${a}|${b}` : `${b}|${a}`);
  };
  for (const list of holds.values()) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j]!.from < list[i]!.to; j++) pair(list[i]!.id, list[j]!.id);
    }
  }
  for (const r of core.reservations) {
    for (const d of core.deliveries) {
      if (d.droneId === r.droneId && d.id !== r.holder && ACTIVE.has(d.stage)) pair(d.id, r.holder);
    }
  }
  return pairs;
}
