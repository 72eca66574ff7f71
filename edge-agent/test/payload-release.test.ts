import { describe, expect, it } from 'vitest';
import { validateMessage } from '@aerie/contracts';
import { StatusAssembler } from '../src/index.js';

// Issue 5: the hub completes a delivery only once the payload is released, so DroneStatus says
// where the payload is. The source is the gripper's STATUSTEXT (ArduPilot AP_Gripper, and the
// simulator's DO_GRIPPER handler, which uses the same words).
describe('DroneStatus.payload from the gripper', () => {
  const snap = (a: StatusAssembler, seq: number) => a.snapshot({ bootId: 'b', seq, now: 2_000 + seq });

  it("is 'unknown' until the autopilot says something about the gripper, then follows it", () => {
    const a = new StatusAssembler('drone-001');
    a.apply({ kind: 'heartbeat', autopilot: 3, vehicleType: 2, baseMode: 217, customMode: 3, systemStatus: 4 }, 1_000);
    expect(snap(a, 1).payload).toBe('unknown');
    a.apply({ kind: 'statustext', severity: 6, text: 'Gripper load grabbed' }, 1_100);
    expect(snap(a, 2).payload).toBe('onboard');
    a.apply({ kind: 'statustext', severity: 6, text: 'Mission: 4 Land' }, 1_200);
    expect(snap(a, 3).payload).toBe('onboard');
    a.apply({ kind: 'statustext', severity: 6, text: 'Gripper load released' }, 1_300);
    const s = snap(a, 4);
    expect(s.payload).toBe('released');
    expect(validateMessage('DroneStatus', s).ok).toBe(true);
  });
});
