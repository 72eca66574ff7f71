import { describe, expect, it } from 'vitest';
import { validateMessage } from '@aerie/contracts';
import { StatusAssembler, eventFrom, type EventDraft } from '../src/domain/status-assembler.js';
import type { FcTelemetry } from '../src/domain/telemetry.js';

/** An ArduCopter heartbeat (autopilot 3, type 2): base_mode 0x80 = armed; system_status 5 = CRITICAL (failsafe). */
const hb = (customMode: number, armed: boolean, systemStatus = 4): FcTelemetry =>
  ({ kind: 'heartbeat', autopilot: 3, vehicleType: 2, baseMode: 0x01 | (armed ? 0x80 : 0), customMode, systemStatus });

describe('DroneEvents (issue 3): mode changes, arming, failsafes, STATUSTEXT ≥ warning, item reached, link lost and recovered', () => {
  it('raises each event once, on the change, as a valid DroneEvent with a monotonic seq', () => {
    const a = new StatusAssembler('d1');
    const drafts: EventDraft[] = [];
    const feed = (t: FcTelemetry, at: number): void => void drafts.push(...a.apply(t, at), ...a.checkLink(at, 3000));
    feed(hb(0, false), 0); // STABILIZE, disarmed: the first heartbeat is a state, not a change
    feed(hb(0, false), 1000);
    feed(hb(0, true), 2000); // armed
    feed(hb(5, true), 3000); // LOITER
    feed(hb(3, true), 4000); // AUTO
    feed({ kind: 'missionItemReached', seq: 2 }, 4500);
    feed({ kind: 'statustext', severity: 6, text: 'Reached waypoint #2' }, 4600); // info: no event
    feed({ kind: 'statustext', severity: 4, text: 'EKF variance' }, 4700);
    feed(hb(6, true, 5), 5000); // RTL under failsafe (MAV_STATE_CRITICAL)
    drafts.push(...a.checkLink(8000, 3000)); // 3 s without a heartbeat
    drafts.push(...a.checkLink(9000, 3000)); // once only
    feed(hb(6, true, 4), 9500); // back: recovered, failsafe cleared
    feed(hb(6, false, 4), 10_000); // disarmed

    expect(drafts.map((d) => d.kind)).toEqual([
      'armed', 'mode_changed', 'mode_changed', 'mission_item_reached', 'statustext', 'mode_changed', 'failsafe_raised', 'link_lost',
      'link_recovered', 'failsafe_cleared', 'disarmed',
    ]);
    expect(drafts.filter((d) => d.kind === 'mode_changed').map((d) => d.data)).toEqual([
      { from: 'STABILIZED', to: 'HOLD', raw: 'LOITER', customMode: 5 },
      { from: 'HOLD', to: 'MISSION', raw: 'AUTO', customMode: 3 },
      { from: 'MISSION', to: 'RETURN', raw: 'RTL', customMode: 6 },
    ]);
    expect(drafts.find((d) => d.kind === 'mission_item_reached')?.data).toEqual({ seq: 2 });
    const events = drafts.map((d, seq) => eventFrom(d, { droneId: 'd1', bootId: 'b1', seq, now: 1_700_000_000_000 + seq }));
    for (const e of events) expect(validateMessage('DroneEvent', e)).toEqual({ ok: true, value: e });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  });
});
