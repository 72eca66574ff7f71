/**
 * One time-series point, independent of the database it goes to. Numbers are always written as
 * floats: InfluxDB fixes a field's type at its first write in a shard, and one `sats=14i` next to a
 * later `sats=14` is a 400 "field type conflict" that would drop a whole batch.
 */
export type FieldValue = number | boolean | string;

export interface Point {
  readonly measurement: string;
  /** low-cardinality identity only (drone, fleet, stage): never a per-message id */
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Unix epoch milliseconds, from the drone: a replayed point lands on the same key and overwrites */
  readonly tsMs: number;
  /**
   * Fields written as line-protocol integers (`42i`): ids and counters that are compared, never
   * averaged (drone_status `seq`). Always integers, so their type never changes either; a value
   * that is not an integer is written as a float and InfluxDB refuses it, as it should.
   */
  readonly ints?: readonly string[];
}

// Escaping per the line protocol reference ("Special characters"): measurement escapes comma and
// space; tag keys, tag values and field keys also escape '='; string field values escape '"' and '\'.
const escMeasurement = (s: string): string => s.replace(/[, ]/g, (c) => `\\${c}`);
const escKey = (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`);
const escString = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function fieldText(v: FieldValue): string | null {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return escString(v);
  // NaN and ±Infinity have no line-protocol spelling; the field is left out instead of failing the batch.
  if (!Number.isFinite(v)) return null;
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** One line of InfluxDB line protocol with a millisecond timestamp (write with precision=ms). */
export function toLine(p: Point): string {
  let line = escMeasurement(p.measurement);
  // Sorted tags are what InfluxDB stores anyway; sorting here makes it skip that work (docs: "Line protocol / Performance tips").
  for (const k of Object.keys(p.tags).sort()) {
    const v = p.tags[k];
    if (v === undefined || v === '') continue;
    line += `,${escKey(k)}=${escKey(v)}`;
  }
  const fields: string[] = [];
  for (const [k, v] of Object.entries(p.fields)) {
    const t = p.ints !== undefined && typeof v === 'number' && Number.isSafeInteger(v) && p.ints.includes(k) ? `${v}i` : fieldText(v);
    if (t !== null) fields.push(`${escKey(k)}=${t}`);
  }
  return `${line} ${fields.join(',')} ${Math.trunc(p.tsMs)}`;
}

/** The series a point belongs to, as InfluxDB keys it: measurement plus sorted tag set. */
export function seriesKey(p: Point): string {
  const tags = Object.keys(p.tags).sort().map((k) => `${k}=${p.tags[k]}`).join(',');
  return `${p.measurement},${tags}`;
}

/** A point with no field is invalid in every store; callers drop it before it can fail a batch. */
export function hasFields(p: Point): boolean {
  return Object.values(p.fields).some((v) => typeof v !== 'number' || Number.isFinite(v));
}
