import { describe, expect, it } from 'vitest';
import type { DeliveryAssignment, DroneStatus } from '@aerie/contracts';
import { DeliveryTracker, deliveryMission } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';

const home = { lat: 47.3977, lon: 8.5456 };
const pickup = { lat: 47.3990, lon: 8.5470 };
const dropoff = { lat: 47.4010, lon: 8.5500 };
const routed: DeliveryAssignment = {
  v: 1, deliveryId: 'dlv-r', droneId: 'drone-001', ts: 0, action: 'fly', pickup, dropoff, cruiseAltM: 30, groundDelayS: 5,
  route: {
    toPickup: [{ lat: 47.3980, lon: 8.5440 }, { lat: 47.3988, lon: 8.5445 }],
    toDropoff: [{ lat: 47.4000, lon: 8.5510 }],
    toHome: [{ lat: 47.4000, lon: 8.5420 }],
  },
};

describe('missions routed round no-fly zones', () => {
  it('flies the routed waypoints at cruise altitude before the pickup, the dropoff and the return', () => {
    expect(deliveryMission(routed)).toEqual([
      { kind: 'takeoff', alt: 30 },
      { kind: 'waypoint', lat: 47.3980, lon: 8.5440, alt: 30 },
      { kind: 'waypoint', lat: 47.3988, lon: 8.5445, alt: 30 },
      { kind: 'waypoint', ...pickup, alt: 30 },
      { kind: 'land', ...pickup },
      { kind: 'gripper', action: 'grab' },
      { kind: 'delay', seconds: 5 },
      { kind: 'takeoff', alt: 30 },
      { kind: 'waypoint', lat: 47.4000, lon: 8.5510, alt: 30 },
      { kind: 'waypoint', ...dropoff, alt: 30 },
      { kind: 'land', ...dropoff },
      { kind: 'gripper', action: 'release' },
      { kind: 'delay', seconds: 5 },
      { kind: 'takeoff', alt: 30 },
      { kind: 'waypoint', lat: 47.4000, lon: 8.5420, alt: 30 },
      { kind: 'rtl' },
    ]);
    const { route: _, ...straight } = routed;
    expect(deliveryMission(straight)).toHaveLength(12);
  });

  it('reads the stages from the routed mission\'s own item numbers', () => {
    const total = deliveryMission(routed).length;
    const t = new DeliveryTracker(15);
    t.assign(routed);
    let seq = 0;
    const st = (p: { lat: number; lon: number }, current: number): DroneStatus => {
      seq += 1;
      return droneStatus({
        seq, ts: 1_700_000_000_000 + seq * 1000, armed: true, landedState: 'ON_GROUND', position: { ...p, altMsl: 488, altRel: 0 },
        mission: { current, total },
      });
    };
    const types = (s: DroneStatus) => t.onStatus(s).map((e) => e.type);
    // Armed on the pad with the mission started: headed to the pickup before leaving the ground.
    expect(types(st(home, 1))).toContain('DeliveryHeadedToPickup');
    expect(types(st(pickup, 4))).toContain('PackagePickedUp');
    // Items 4 to 6 (land, gripper grab, delay) are still at the pickup; the old fixed plan's takeoff index (4) is not.
    expect(types(st(pickup, 6))).not.toContain('DeliveryHeadedToDropoff');
    expect(types(st(pickup, 7))).toContain('DeliveryHeadedToDropoff');
  });
});
