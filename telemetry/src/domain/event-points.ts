import { decodeMessage, parseFleetTopic, parseServiceTopic } from '@aerie/contracts';
import type { ContractErrorCode } from '@aerie/contracts';
import { alertPoint, alertSeverity, deliveryPoint } from './measurements.js';
import type { Point } from './point.js';

export interface EventStats {
  /** drone events and delivery tracking messages received */
  received: number;
  /** written as drone_alert / delivery_event points */
  accepted: number;
  rejected: Partial<Record<ContractErrorCode | 'TEL_ERR_BAD_TOPIC' | 'TEL_ERR_TOPIC_MISMATCH', number>>;
}

export type EventOutcome = { ok: true; point: Point } | { ok: false; code: keyof EventStats['rejected']; detail: string };

/**
 * Turns `fleet/v1/{droneId}/events` (DroneEvent) and `svc/v1/tracking/{deliveryId}`
 * (DeliveryTracking) into drone_alert and delivery_event points; never throws.
 *
 * DeliveryTracking carries the current ETA, not the promise, so the first ETA seen for a delivery
 * stands for what the customer was promised and on-time is judged against it. It lives in memory
 * (bounded by maxOpen): after a restart, deliveries under way have no promise and count neither
 * way on the on-time panel.
 */
export function createEventPoints(fleet: string, maxOpen = 100_000): { classify(topic: string, payload: Buffer | string): EventOutcome } {
  const promised = new Map<string, number>();
  return {
    classify(topic, payload) {
      const svc = parseServiceTopic(topic);
      if (svc?.kind === 'tracking') {
        const d = decodeMessage('DeliveryTracking', payload);
        if (!d.ok) return { ok: false, code: d.code, detail: d.message };
        const t = d.value;
        if (t.deliveryId !== svc.deliveryId) return { ok: false, code: 'TEL_ERR_TOPIC_MISMATCH', detail: 'payload deliveryId differs from the topic' };
        if (t.eta !== null && !promised.has(t.deliveryId) && promised.size < maxOpen) promised.set(t.deliveryId, t.eta);
        const promise = promised.get(t.deliveryId) ?? null;
        if (t.stage === 'Completed' || t.stage === 'Cancelled' || t.stage === 'Failed') promised.delete(t.deliveryId);
        return {
          ok: true,
          point: deliveryPoint({
            deliveryId: t.deliveryId, droneId: t.droneId ?? 'none', stage: t.stage, tsMs: t.ts,
            etaS: t.eta === null ? null : (t.eta - t.ts) / 1000, lat: t.location?.lat ?? null, lon: t.location?.lon ?? null, promisedMs: promise,
          }, fleet),
        };
      }
      const fleetTopic = parseFleetTopic(topic);
      if (fleetTopic?.channel === 'events') {
        const d = decodeMessage('DroneEvent', payload);
        if (!d.ok) return { ok: false, code: d.code, detail: d.message };
        const e = d.value;
        if (e.droneId !== fleetTopic.droneId) return { ok: false, code: 'TEL_ERR_TOPIC_MISMATCH', detail: 'payload droneId differs from the topic' };
        return { ok: true, point: alertPoint({ droneId: e.droneId, kind: e.kind, severity: alertSeverity(e.severity), message: e.text, tsMs: e.ts }, fleet) };
      }
      return { ok: false, code: 'TEL_ERR_BAD_TOPIC', detail: `topic ${JSON.stringify(topic)} is neither drone events nor delivery tracking` };
    },
  };
}
