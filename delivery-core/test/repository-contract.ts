import { describe, expect, it } from 'vitest';
import type { DeliveryRepository, Delivery } from '../src/index.js';

export function newDelivery(id: string, createdAt = 1000): Delivery {
  return {
    id, owner: 'shop-1', pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 }, stage: 'Requested', droneId: null, eta: null,
    lastPosition: null, correlationId: `corr-${id}`, createdAt, updatedAt: createdAt, failureReason: null,
  };
}

/** One behaviour suite for every DeliveryRepository (the MQTT.js abstract_store pattern). */
export function repositoryContract(name: string, make: () => DeliveryRepository): void {
  describe(`DeliveryRepository contract: ${name}`, () => {
    it('inserts once; a second insert of the id is refused', () => {
      const r = make();
      expect(r.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' })).toBe(true);
      expect(r.insert(newDelivery('d1'), { stage: 'Requested', at: 1001, eventId: 'd1:r2' })).toBe(false);
      expect(r.get('d1')).toEqual(newDelivery('d1'));
      expect(r.get('nope')).toBeNull();
      r.close();
    });

    it('advances with history, dedupes by event id, keeps fields on null patches', () => {
      const r = make();
      r.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' });
      expect(r.advance('d1', { stage: 'Scheduled', at: 2000, eventId: 'e1' }, { droneId: 'drone-001', eta: 90_000 })).toBe(true);
      expect(r.advance('d1', { stage: 'Scheduled', at: 2000, eventId: 'e1' }, { droneId: 'drone-009' })).toBe(false);
      expect(r.advance('d1', { stage: 'HeadedToPickup', at: 3000, eventId: 'e2' }, { lastPosition: { lat: 1, lon: 2, altRel: 3 } })).toBe(true);
      const d = r.get('d1');
      expect(d).toMatchObject({ stage: 'HeadedToPickup', droneId: 'drone-001', eta: 90_000, lastPosition: { lat: 1, lon: 2, altRel: 3 }, updatedAt: 3000 });
      expect(r.history('d1').map((h) => h.stage)).toEqual(['Requested', 'Scheduled', 'HeadedToPickup']);
      r.advance('d1', { stage: 'Cancelled', at: 4000, eventId: 'e3' }, { eta: null });
      expect(r.get('d1')?.eta).toBeNull();
      r.close();
    });

    it('lists by stage, oldest first, with a limit', () => {
      const r = make();
      r.insert(newDelivery('b', 2000), { stage: 'Requested', at: 2000, eventId: 'b:r' });
      r.insert(newDelivery('a', 1000), { stage: 'Requested', at: 1000, eventId: 'a:r' });
      r.insert(newDelivery('c', 3000), { stage: 'Requested', at: 3000, eventId: 'c:r' });
      r.advance('c', { stage: 'Scheduled', at: 3500, eventId: 'c:s' }, { droneId: 'x' });
      expect(r.listByStage(['Requested'], 10).map((d) => d.id)).toEqual(['a', 'b']);
      expect(r.listByStage(['Requested', 'Scheduled'], 2).map((d) => d.id)).toEqual(['a', 'b']);
      expect(r.listByStage(['Scheduled'], 10).map((d) => d.id)).toEqual(['c']);
      r.close();
    });
  });
}
