import { decodeMessage, type Clock, type DroneStatus } from '@aerie/contracts';
import type { Pending } from './domain/ingest-queue.js';
import type { FleetState } from './domain/fleet-state.js';
import type { DeliveryTracker } from './domain/tracker.js';
import type { CommandDispatch } from './dispatch.js';
import type { TrackingPublisher } from './tracking-publisher.js';
import type { HubCounters, HubLogger, Reject } from './hub-counters.js';

export interface PipelineDeps {
  fleet: FleetState;
  tracker: DeliveryTracker;
  tracking: TrackingPublisher;
  dispatch: CommandDispatch;
  clock: Clock;
  counters: HubCounters;
  log: HubLogger;
  reject: Reject;
  maxPayloadBytes: number;
}

/**
 * The expensive half of ingest, run by the pump off the intake queue: validate → dedupe →
 * fleet state → tracker. Returns an accepted status for the telemetry writer.
 */
export class HubPipeline {
  constructor(private readonly d: PipelineDeps) {}

  process(m: Pending): DroneStatus | null {
    const { droneId, channel, payload } = m;
    const { d } = this;
    const now = d.clock.now();
    switch (channel) {
      case 'status': {
        const r = decodeMessage('DroneStatus', payload, d.maxPayloadBytes);
        if (!r.ok) return d.reject('HUB_ERR_PAYLOAD', r.message, droneId);
        if (r.value.droneId !== droneId) return d.reject('HUB_ERR_TOPIC_MISMATCH', `payload says ${r.value.droneId}`, droneId);
        if (!d.fleet.applyStatus(r.value, now)) return d.reject('HUB_ERR_DUPLICATE', `seq ${r.value.seq}`, droneId, false);
        d.counters.statuses += 1;
        for (const draft of d.tracker.onStatus(r.value, now)) d.tracking.publish(draft);
        return r.value;
      }
      case 'events': {
        const r = decodeMessage('DroneEvent', payload, d.maxPayloadBytes);
        if (!r.ok) return d.reject('HUB_ERR_PAYLOAD', r.message, droneId);
        d.counters.events += 1;
        if (r.value.severity <= 4) d.log(`drone ${droneId} ${r.value.kind}: ${r.value.text}`);
        return null;
      }
      case 'online': {
        const online = payload.toString('utf8') === 'true';
        d.fleet.setOnline(droneId, online, now);
        if (online) d.dispatch.onOnline(droneId);
        return null;
      }
      case 'cmd/result':
        d.dispatch.onCommandResult(droneId, payload);
        return null;
      default:
        return d.reject('HUB_ERR_UNKNOWN_TOPIC', channel, droneId);
    }
  }
}
