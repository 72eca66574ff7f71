import type { DeliveryAssignment } from '@aerie/contracts';
import type { FleetLink } from '../ports.js';
import type { MissionHub } from './ports.js';

/**
 * The hub over the fleet link: the assignment is the retained message the hub builds the
 * mission from, keyed by delivery id, so sending it again is harmless (idempotent). A hub that
 * refuses a mission answers later with a DeliveryFailed tracking event, which the service
 * records; what this port can see failing is the link itself (transient).
 */
export class FleetMissionHub implements MissionHub {
  constructor(private readonly fleet: FleetLink) {}

  dispatch(a: DeliveryAssignment): Promise<void> {
    this.fleet.publishAssignment(a.deliveryId, a);
    return Promise.resolve();
  }

  abort(a: DeliveryAssignment): Promise<void> {
    this.fleet.publishAssignment(a.deliveryId, { ...a, action: 'abort' });
    // Cleared, so a restarted hub does not resume a mission that was undone.
    this.fleet.publishAssignment(a.deliveryId, null);
    return Promise.resolve();
  }
}
