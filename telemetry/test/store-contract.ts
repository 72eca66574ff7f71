import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryStore } from '../src/ports.js';
import { makeFlight, makeStatus } from './helpers/status.js';

export interface StoreUnderTest {
  store: TelemetryStore;
  cleanup?: () => void;
}

/** The TelemetryStore behaviour every adapter keeps; store.test.ts runs it once per adapter. */
export function describeStoreContract(name: string, open: () => StoreUnderTest): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: TelemetryStore;
    beforeEach(() => {
      sut = open();
      store = sut.store;
    });
    afterEach(() => {
      store.close();
      sut.cleanup?.();
    });

    it('appends a batch and reports what it inserted', () => {
      expect(store.append(makeFlight(3))).toEqual({ inserted: 3, duplicates: 0 });
      expect(store.append([])).toEqual({ inserted: 0, duplicates: 0 });
    });

    it('stores (droneId, bootId, seq) once, across and within batches', () => {
      const flight = makeFlight(3);
      store.append(flight);
      expect(store.append([flight[1]!, makeStatus({ seq: 3, ts: flight[2]!.ts + 200 })])).toEqual({ inserted: 1, duplicates: 1 });
      const dup = makeStatus({ seq: 10, ts: flight[0]!.ts + 5_000 });
      expect(store.append([dup, { ...dup, groundSpeed: 99 }])).toEqual({ inserted: 1, duplicates: 1 });
      const points = store.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 100);
      expect(points).toHaveLength(5);
      expect(points.at(-1)?.groundSpeed).toBe(dup.groundSpeed);
    });

    it('treats the same seq under another boot or drone as a new status', () => {
      const s = makeStatus();
      const r = store.append([s, { ...s, bootId: 'boot-b' }, { ...s, droneId: 'drone-2' }]);
      expect(r).toEqual({ inserted: 3, duplicates: 0 });
      expect(store.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 10)).toHaveLength(2);
      expect(store.track('drone-2', 0, Number.MAX_SAFE_INTEGER, 10)).toHaveLength(1);
    });

    it('projects a status onto a TrackPoint', () => {
      const s = makeStatus({ battery: { pct: null, voltage: 15.1, current: null }, armed: false, landedState: 'ON_GROUND' });
      store.append([s]);
      expect(store.track('drone-1', s.ts, s.ts, 1)).toEqual([
        {
          ts: s.ts,
          lat: s.position!.lat,
          lon: s.position!.lon,
          altMsl: s.position!.altMsl,
          altRel: s.position!.altRel,
          groundSpeed: s.groundSpeed,
          heading: s.heading,
          batteryPct: null,
          flightMode: 'MISSION',
          landedState: 'ON_GROUND',
          armed: false,
        },
      ]);
    });

    it('filters by an inclusive time range, orders by ts and honours limit', () => {
      const flight = makeFlight(10);
      store.append([...flight].reverse());
      const t0 = flight[0]!.ts;
      const inRange = store.track('drone-1', t0 + 400, t0 + 1_000, 100);
      expect(inRange.map((p) => p.ts)).toEqual([t0 + 400, t0 + 600, t0 + 800, t0 + 1_000]);
      expect(store.track('drone-1', t0 + 400, t0 + 1_000, 2).map((p) => p.ts)).toEqual([t0 + 400, t0 + 600]);
      expect(store.track('drone-1', t0 + 2_000, t0 + 3_000, 100)).toEqual([]);
      expect(store.track('drone-9', 0, Number.MAX_SAFE_INTEGER, 100)).toEqual([]);
    });

    it('breaks ties on ts by bootId then seq', () => {
      const ts = 1_714_560_000_000;
      store.append([makeStatus({ ts, bootId: 'b', seq: 1, heading: 3 }), makeStatus({ ts, bootId: 'a', seq: 7, heading: 2 }), makeStatus({ ts, bootId: 'a', seq: 2, heading: 1 })]);
      expect(store.track('drone-1', ts, ts, 10).map((p) => p.heading)).toEqual([1, 2, 3]);
      expect(store.latest('drone-1')?.heading).toBe(3);
    });

    it('keeps statuses without position out of tracks and latest, but still deduplicates them', () => {
      const flight = makeFlight(3);
      const noFix = makeStatus({ seq: 3, ts: flight[2]!.ts + 200, position: null });
      expect(store.append([...flight, noFix])).toEqual({ inserted: 4, duplicates: 0 });
      expect(store.append([noFix])).toEqual({ inserted: 0, duplicates: 1 });
      expect(store.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 100)).toHaveLength(3);
      expect(store.latest('drone-1')?.ts).toBe(flight[2]!.ts);
    });

    it('answers latest by ts, not by arrival', () => {
      expect(store.latest('drone-1')).toBeNull();
      const flight = makeFlight(4);
      store.append([flight[3]!, flight[0]!]);
      store.append([flight[1]!]);
      expect(store.latest('drone-1')?.ts).toBe(flight[3]!.ts);
    });

    it('returns copies the caller may mutate', () => {
      store.append([makeStatus()]);
      const [p] = store.track('drone-1', 0, Number.MAX_SAFE_INTEGER, 1);
      p!.lat = 0;
      expect(store.latest('drone-1')?.lat).toBe(makeStatus().position!.lat);
    });

    it('refuses use after close with TEL_ERR_STORE_CLOSED, and closes idempotently', () => {
      store.close();
      store.close();
      expect(() => store.append([makeStatus()])).toThrow(expect.objectContaining({ code: 'TEL_ERR_STORE_CLOSED' }));
      expect(() => store.track('drone-1', 0, 1, 1)).toThrow(expect.objectContaining({ code: 'TEL_ERR_STORE_CLOSED' }));
      expect(() => store.latest('drone-1')).toThrow(expect.objectContaining({ code: 'TEL_ERR_STORE_CLOSED' }));
    });
  });
}
