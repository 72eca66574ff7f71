import { describe, expect, it } from 'vitest';
import { DeliveryTracker, authorizePublish, authorizeSubscribe, deliveryMission } from '../src/index.js';
import { missionMarks } from '../src/domain/mission-plan.js';
import { droneStatus } from '../../test-support/fixtures.js';
import type { DeliveryAssignment, DroneStatus } from '@aerie/contracts';

const pickup = { lat: 47.3990, lon: 8.5470 };
const dropoff = { lat: 47.4010, lon: 8.5500 };
const assignment: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-1', droneId: 'drone-001', ts: 0, action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5, correlationId: 'corr-1',
};
const at = (p: { lat: number; lon: number }, landedState: DroneStatus['landedState'], seq: number) =>
  droneStatus({ seq, position: { ...p, altMsl: 488, altRel: landedState === 'ON_GROUND' ? 0 : 30 }, landedState, armed: true });

describe('DeliveryTracker', () => {
  it('walks the stages from geofences and landed state', () => {
    const t = new DeliveryTracker(15);
    t.assign(assignment);
    const home = { lat: 47.3977, lon: 8.5456 };
    const stages = [
      at(home, 'ON_GROUND', 1), at(home, 'TAKEOFF', 2), at(pickup, 'IN_AIR', 3), at({ lat: pickup.lat + 0.00005, lon: pickup.lon }, 'ON_GROUND', 4),
      at(pickup, 'TAKEOFF', 5), at(dropoff, 'LANDING', 6), at(dropoff, 'ON_GROUND', 7),
    ].flatMap((s) => t.onStatus(s)).filter((e) => e.type !== 'EtaUpdated'); // ETAs: tracker-v2.test.ts
    expect(stages.map((e) => e.type)).toEqual(['DeliveryHeadedToPickup', 'PackagePickedUp', 'DeliveryHeadedToDropoff', 'DeliveryCompleted']);
    expect(stages.every((e) => e.correlationId === 'corr-1' && e.deliveryId === 'dlv-1')).toBe(true);
    expect(t.activeCount).toBe(0);
  });

  it('a pickup hidden by a gap in telemetry (agent restarted while the drone landed and grabbed) is seen from the mission\'s progress', () => {
    const t = new DeliveryTracker(15);
    t.assign(assignment);
    const { total, takeoffFromPickup } = missionMarks(assignment);
    const mission = (current: number) => ({ current, total });
    const seen = [
      { ...at(pickup, 'IN_AIR', 1), mission: mission(1) },
      // The agent was down through the landing and the grab; its first status is the climb out.
      { ...at(pickup, 'TAKEOFF', 2), mission: mission(takeoffFromPickup) },
      { ...at(dropoff, 'IN_AIR', 3), mission: mission(takeoffFromPickup + 1) },
    ].flatMap((s) => t.onStatus(s)).map((e) => e.type).filter((x) => x !== 'EtaUpdated');
    expect(seen).toEqual(['DeliveryHeadedToPickup', 'PackagePickedUp', 'DeliveryHeadedToDropoff']);
    // Before the pickup's items are done, only the landing inside the fence counts (test below).
    const u = new DeliveryTracker(15);
    u.assign(assignment);
    u.onStatus({ ...at(pickup, 'IN_AIR', 1), mission: mission(1) });
    expect(u.onStatus({ ...at(pickup, 'IN_AIR', 2), mission: mission(takeoffFromPickup - 1) }).map((e) => e.type)).not.toContain('PackagePickedUp');
  });

  it('does not count a landing outside the pickup fence as a pickup', () => {
    const t = new DeliveryTracker(15);
    t.assign(assignment);
    t.onStatus(at({ lat: 47.3977, lon: 8.5456 }, 'IN_AIR', 1));
    // ~33 m north of the pickup: outside a 15 m fence.
    expect(t.onStatus(at({ lat: pickup.lat + 0.0003, lon: pickup.lon }, 'ON_GROUND', 2))).toEqual([]);
  });

  describe('completion needs the payload released (DroneStatus.payload)', () => {
    const headedToDropoff = () => {
      const t = new DeliveryTracker(15);
      t.assign(assignment);
      for (const s of [at(pickup, 'IN_AIR', 1), at(pickup, 'ON_GROUND', 2), at(pickup, 'TAKEOFF', 3)]) t.onStatus(s);
      return t;
    };
    const types = (t: DeliveryTracker, ss: DroneStatus[]) => ss.flatMap((s) => t.onStatus(s)).map((e) => e.type).filter((x) => x !== 'EtaUpdated');
    const withPayload = (s: DroneStatus, payload: DroneStatus['payload']) => ({ ...s, payload });

    it('waits on the ground at the dropoff until the agent reports the release', () => {
      const t = headedToDropoff();
      expect(types(t, [withPayload(at(dropoff, 'ON_GROUND', 4), 'onboard'), withPayload(at(dropoff, 'ON_GROUND', 5), 'onboard')])).toEqual([]);
      expect(types(t, [withPayload(at(dropoff, 'ON_GROUND', 6), 'released')])).toEqual(['DeliveryCompleted']);
      expect(t.activeCount).toBe(0);
    });

    it('completes when the release is seen before the landing (either order, inside the fence)', () => {
      const t = headedToDropoff();
      expect(types(t, [withPayload(at(dropoff, 'LANDING', 4), 'released')])).toEqual([]);
      expect(types(t, [withPayload(at(dropoff, 'ON_GROUND', 5), 'released')])).toEqual(['DeliveryCompleted']);
    });

    it('does not complete a drone that took off again with the payload on board, nor one that dropped it elsewhere', () => {
      const t = headedToDropoff();
      const away = { lat: dropoff.lat + 0.003, lon: dropoff.lon };
      expect(types(t, [
        withPayload(at(dropoff, 'ON_GROUND', 4), 'onboard'), withPayload(at(dropoff, 'TAKEOFF', 5), 'onboard'),
        withPayload(at(away, 'IN_AIR', 6), 'released'), withPayload(at(away, 'ON_GROUND', 7), 'released'),
      ])).toEqual([]);
      expect(t.activeCount).toBe(1);
    });

    it('a dropoff hidden by a gap in telemetry is seen from the mission\'s progress with the payload released, never with it on board', () => {
      const { total, takeoffFromDropoff } = missionMarks(assignment);
      const home = { lat: 47.3977, lon: 8.5456 };
      // The agent was down through the landing and the release; its first status is on the way home.
      const gone = { ...at(home, 'IN_AIR', 9), mission: { current: takeoffFromDropoff + 1, total } };
      expect(types(headedToDropoff(), [withPayload(gone, 'released')])).toEqual(['DeliveryCompleted']);
      expect(types(headedToDropoff(), [withPayload(gone, 'onboard')])).toEqual([]);
      // Short of the dropoff's items, a release far from the fence is still no delivery.
      expect(types(headedToDropoff(), [withPayload({ ...gone, mission: { current: takeoffFromDropoff - 1, total } }, 'released')])).toEqual([]);
    });

    it('falls back to landed inside the dropoff fence for an agent that cannot tell (payload unknown or absent)', () => {
      for (const payload of ['unknown', undefined] as const) {
        const t = headedToDropoff();
        const s = at(dropoff, 'ON_GROUND', 4);
        expect(types(t, [payload ? withPayload(s, payload) : s])).toEqual(['DeliveryCompleted']);
      }
    });
  });

  it('plans a mission that lands at pickup and dropoff, grabs and releases the package there, and returns home', () => {
    expect(deliveryMission(assignment).map((s) => s.kind)).toEqual(['takeoff', 'waypoint', 'land', 'gripper', 'delay', 'takeoff', 'waypoint', 'land', 'gripper', 'delay', 'takeoff', 'rtl']);
  });
});

describe('ACL', () => {
  const drone = { id: 'drone-001', role: 'drone' } as const;
  const svc = { id: 'svc-core', role: 'service' } as const;
  it('lets a drone publish only its own telemetry channels', () => {
    expect(authorizePublish(drone, 'fleet/v1/drone-001/status')).toBeNull();
    expect(authorizePublish(drone, 'fleet/v1/drone-001/cmd/result')).toBeNull();
    expect(authorizePublish(drone, 'fleet/v1/drone-002/status')).toBe('HUB_ERR_ACL_PUBLISH');
    expect(authorizePublish(drone, 'fleet/v1/drone-001/cmd')).toBe('HUB_ERR_ACL_PUBLISH');
    expect(authorizePublish(drone, 'svc/v1/tracking/x')).toBe('HUB_ERR_ACL_PUBLISH');
  });
  it('lets a drone subscribe only to its own commands', () => {
    expect(authorizeSubscribe(drone, 'fleet/v1/drone-001/cmd')).toBeNull();
    expect(authorizeSubscribe(drone, 'fleet/v1/+/cmd')).toBe('HUB_ERR_ACL_SUBSCRIBE');
    expect(authorizeSubscribe(drone, 'fleet/v1/drone-001/#')).toBe('HUB_ERR_ACL_SUBSCRIBE');
    expect(authorizeSubscribe(drone, '#')).toBe('HUB_ERR_ACL_SUBSCRIBE');
  });
  it('lets services use the fleet and service trees, shared subscriptions included', () => {
    expect(authorizeSubscribe(svc, '$share/hub/fleet/v1/+/status')).toBeNull();
    expect(authorizePublish(svc, 'svc/v1/assignments/d1')).toBeNull();
    expect(authorizeSubscribe(svc, '$SYS/#')).toBe('HUB_ERR_ACL_SUBSCRIBE');
  });
});
