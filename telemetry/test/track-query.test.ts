import { describe, expect, it } from 'vitest';
import { parseInstant } from '../src/domain/time.js';
import { resolveTrackQuery, TRACK_QUERY } from '../src/domain/track-query.js';

describe('parseInstant', () => {
  it.each([
    ['0', 0],
    ['1714560000000', 1_714_560_000_000],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-05-01T10:00:00Z', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01t10:00z', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01 10:00:00.5Z', Date.UTC(2024, 4, 1, 10, 0, 0, 500)],
    ['2024-05-01T10:00:00.123456789Z', Date.UTC(2024, 4, 1, 10, 0, 0, 123)],
    ['2024-05-01T12:00:00+02:00', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T12:00:00+0200', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T05:30:00-04:30', Date.UTC(2024, 4, 1, 10)],
    // '+' of an unencoded offset decoded as a space by the query-string parser
    ['2024-05-01T12:00:00 02:00', Date.UTC(2024, 4, 1, 10)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
  ])('reads %s', (text, ms) => {
    expect(parseInstant(text)).toBe(ms);
  });

  it.each([
    '', 'now', '-5', '1.5', '1e12', '99999999999999999', 'May 1 2024', '2024-5-1', '2023-02-29', '2024-02-30',
    '2024-13-01', '2024-05-01T24:00:00Z', '2024-05-01T10:60Z', '2024-05-01T10:00:00', '1969-12-31',
    '0099-01-01', '2024-05-01T10:00:00+25:00',
  ])('refuses %j', (text) => {
    expect(parseInstant(text)).toBeNull();
  });
});

describe('resolveTrackQuery', () => {
  const now = Date.UTC(2024, 4, 1, 12);

  it('defaults to the last hour and limit 5000', () => {
    expect(resolveTrackQuery({}, now)).toEqual({ ok: true, from: now - 3_600_000, to: now, limit: 5_000 });
  });

  it('takes the hour before an explicit to', () => {
    expect(resolveTrackQuery({ to: '1714560000000' }, now)).toMatchObject({ from: 1_714_560_000_000 - 3_600_000, to: 1_714_560_000_000 });
  });

  it('accepts from = to and the maximum limit', () => {
    expect(resolveTrackQuery({ from: '5', to: '5', limit: TRACK_QUERY.maxLimit }, now)).toEqual({ ok: true, from: 5, to: 5, limit: 50_000 });
  });

  it('refuses from after to with TEL_ERR_BAD_RANGE', () => {
    expect(resolveTrackQuery({ from: '2024-05-01T11:00:00Z', to: '2024-05-01T10:00:00Z' }, now)).toMatchObject({ ok: false, code: 'TEL_ERR_BAD_RANGE' });
    expect(resolveTrackQuery({ from: String(now + 1) }, now)).toMatchObject({ ok: false, code: 'TEL_ERR_BAD_RANGE' });
  });

  it('refuses an unreadable instant with TEL_ERR_BAD_TIME naming the parameter', () => {
    const r = resolveTrackQuery({ to: 'yesterday' }, now);
    expect(r).toMatchObject({ ok: false, code: 'TEL_ERR_BAD_TIME' });
    expect(!r.ok && r.detail).toMatch(/^to=/);
  });

  it.each([0, -1, 1.5, 50_001])('refuses limit %d with TEL_ERR_BAD_LIMIT', (limit) => {
    expect(resolveTrackQuery({ limit }, now)).toMatchObject({ ok: false, code: 'TEL_ERR_BAD_LIMIT' });
  });
});
