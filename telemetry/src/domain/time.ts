/**
 * Instants accepted by the history API: epoch milliseconds, or an ISO 8601 / RFC 3339 date or
 * date-time. Date.parse is not used because it accepts locale-shaped strings ("May 1 2024") and
 * rolls impossible dates over ("2024-02-30" → 1 March), which would answer a typo with the
 * wrong day instead of a 400.
 */
const EPOCH_MS = /^\d{1,16}$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+\- ]\d{2}(?::?\d{2})?))?$/;

/** ECMA-262 §21.4.1.1: the largest instant a Date can hold. */
const MAX_EPOCH_MS = 8.64e15;

export function parseInstant(text: string): number | null {
  if (EPOCH_MS.test(text)) {
    const ms = Number(text);
    return ms <= MAX_EPOCH_MS ? ms : null;
  }
  const m = ISO.exec(text);
  if (m === null) return null;
  const [, y, mo, d, hh, mi, ss, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  // Epoch ms in the contract is non-negative, and Date.UTC maps years 0–99 onto 1900–1999.
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hh === undefined) return Date.UTC(year, month - 1, day);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = ss === undefined ? 0 : Number(ss);
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  if (hour > 23 || minute > 59 || second > 59) return null;
  // A date-time without an offset is local time of an unknown zone (ISO 8601 §4.2.2.2); a server
  // guessing its own zone would shift the window by hours, so it is refused.
  if (zone === undefined) return null;
  const offset = parseOffsetMinutes(zone);
  if (offset === null) return null;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset * 60_000;
  return t >= 0 ? t : null;
}

function parseOffsetMinutes(zone: string): number | null {
  if (zone === 'Z' || zone === 'z') return 0;
  // An unencoded '+' in a query string arrives as a space (application/x-www-form-urlencoded),
  // so ' 02:00' is read as '+02:00' rather than refused.
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const h = Number(digits.slice(0, 2));
  const m = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (h > 23 || m > 59) return null;
  return sign * (h * 60 + m);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
