import { describe, expect, it } from 'vitest';
import {
  decodeMessage, encodeMessage, isDroneOwnTopic, jsonSchemaOf, messageSchemas, parseFleetTopic, parseServiceTopic, topics, validateMessage,
  type MessageName,
} from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';

describe('JSON Schemas', () => {
  it('publishes every message as draft 2020-12 with a versioned $id and a v field', () => {
    for (const name of Object.keys(messageSchemas) as MessageName[]) {
      const schema = jsonSchemaOf(name);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toBe(`https://aerie.dev/schemas/${name}.v1.json`);
      expect((schema.required as string[]).includes('v')).toBe(true);
    }
  });
});

describe('validation', () => {
  it('accepts a valid DroneStatus and round-trips it', () => {
    const s = droneStatus();
    const d = decodeMessage('DroneStatus', encodeMessage(s));
    expect(d).toEqual({ ok: true, value: s });
  });

  it('rejects with stable codes: not JSON, schema, too large', () => {
    expect(decodeMessage('DroneStatus', Buffer.from('{nope'))).toMatchObject({ ok: false, code: 'CONTRACT_ERR_NOT_JSON' });
    const bad = decodeMessage('DroneStatus', JSON.stringify({ ...droneStatus(), battery: { pct: 140, voltage: 16, current: null } }));
    expect(bad).toMatchObject({ ok: false, code: 'CONTRACT_ERR_SCHEMA' });
    if (!bad.ok) expect(bad.message).toContain('/battery/pct');
    expect(decodeMessage('DroneStatus', Buffer.alloc(100_000, 32))).toMatchObject({ ok: false, code: 'CONTRACT_ERR_TOO_LARGE' });
  });

  it('rejects unknown fields and a wrong version', () => {
    expect(validateMessage('DroneStatus', { ...droneStatus(), extra: 1 }).ok).toBe(false);
    expect(validateMessage('DroneStatus', { ...droneStatus(), v: 2 }).ok).toBe(false);
  });

  it('a DeliveryAssignment may carry routed waypoints, and one without them stays valid', () => {
    const a = {
      v: 1, deliveryId: 'd1', droneId: 'drone-001', ts: 1, action: 'fly', pickup: { lat: 47.1, lon: 8.1 }, dropoff: { lat: 47.2, lon: 8.2 },
      cruiseAltM: 30, groundDelayS: 5,
    };
    expect(validateMessage('DeliveryAssignment', a).ok).toBe(true);
    const route = { toPickup: [], toDropoff: [{ lat: 47.15, lon: 8.12 }], toHome: [{ lat: 47.12, lon: 8.15 }] };
    expect(decodeMessage('DeliveryAssignment', encodeMessage({ ...a, route }))).toEqual({ ok: true, value: { ...a, route } });
    expect(validateMessage('DeliveryAssignment', { ...a, route: { toPickup: [], toDropoff: [{ lat: 95, lon: 8 }] } }).ok).toBe(false);
    expect(validateMessage('DeliveryAssignment', { ...a, route: { toPickup: [] } }).ok).toBe(false);
  });

  it('a DispatchReply is accepted or refused with a stable reason; an abort may say why', () => {
    const r = { v: 1, deliveryId: 'd1', droneId: 'drone-001', ts: 1, correlationId: 'c1', commandId: 'mission-d1', outcome: 'accepted', mavResult: 'MAV_MISSION_ACCEPTED' };
    expect(decodeMessage('DispatchReply', encodeMessage(r))).toEqual({ ok: true, value: r });
    expect(validateMessage('DispatchReply', { ...r, outcome: 'refused', reason: 'drone_busy', detail: 'flying d0' }).ok).toBe(true);
    expect(validateMessage('DispatchReply', { ...r, outcome: 'refused', reason: 'too_tired' }).ok).toBe(false);
    expect(validateMessage('DispatchReply', { ...r, outcome: 'maybe' }).ok).toBe(false);
    const abort = {
      v: 1, deliveryId: 'd1', droneId: 'drone-001', ts: 1, action: 'abort', pickup: { lat: 47.1, lon: 8.1 }, dropoff: { lat: 47.2, lon: 8.2 }, cruiseAltM: 30, groundDelayS: 5,
    };
    for (const abortReason of ['cancelled', 'failed', 'reassigned']) expect(validateMessage('DeliveryAssignment', { ...abort, abortReason }).ok).toBe(true);
    expect(validateMessage('DeliveryAssignment', abort).ok).toBe(true);
    expect(validateMessage('DeliveryAssignment', { ...abort, abortReason: 'bored' }).ok).toBe(false);
  });

  it('serialises bigint (MAVLink uint64) without throwing', () => {
    expect(encodeMessage({ timeUsec: 1720000000000000123n })).toBe('{"timeUsec":"1720000000000000123"}');
  });

  it('validates a mission command', () => {
    const cmd = {
      v: 1, commandId: 'c1', droneId: 'drone-001', ts: 1, action: { kind: 'mission', steps: [{ kind: 'takeoff', alt: 30 }, { kind: 'rtl' }] },
    };
    expect(validateMessage('DroneCommand', cmd).ok).toBe(true);
    expect(validateMessage('DroneCommand', { ...cmd, action: { kind: 'mission', steps: [{ kind: 'takeoff', alt: 9000 }] } }).ok).toBe(false);
    const gripper = (action: string) => ({ ...cmd, action: { kind: 'mission', steps: [{ kind: 'gripper', action }] } });
    expect(validateMessage('DroneCommand', gripper('release')).ok).toBe(true);
    expect(validateMessage('DroneCommand', gripper('grab')).ok).toBe(true);
    expect(validateMessage('DroneCommand', gripper('toss')).ok).toBe(false);
  });
});

describe('topics', () => {
  it('builds and parses fleet topics', () => {
    expect(topics.status('drone-001')).toBe('fleet/v1/drone-001/status');
    expect(parseFleetTopic('fleet/v1/drone-001/cmd/result')).toEqual({ droneId: 'drone-001', channel: 'cmd/result' });
    expect(parseFleetTopic('fleet/v1/+/status')).toBeNull();
    expect(parseFleetTopic('fleet/v1/drone-001/other')).toBeNull();
    expect(parseFleetTopic('fleet/v2/drone-001/status')).toBeNull();
    expect(parseServiceTopic(topics.tracking('dlv-1'))).toEqual({ kind: 'tracking', deliveryId: 'dlv-1' });
    expect(topics.dispatchReply('dlv-1')).toBe('svc/v1/dispatch/dlv-1');
    expect(parseServiceTopic(topics.dispatchReply('dlv-1'))).toEqual({ kind: 'dispatch', deliveryId: 'dlv-1' });
  });

  it('a drone owns only its own subtree', () => {
    expect(isDroneOwnTopic('drone-001', 'fleet/v1/drone-001/status')).toBe(true);
    expect(isDroneOwnTopic('drone-001', 'fleet/v1/drone-0011/status')).toBe(false);
    expect(isDroneOwnTopic('drone-001', 'fleet/v1/drone-002/status')).toBe(false);
  });
});
