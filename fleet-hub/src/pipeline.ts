import { decodeMessage, type Clock, type DroneStatus } from '@aerie/contracts';
import type { Pending } from './domain/ingest-queue.js';
import type { FleetState } from './domain/fleet-state.js';
import type { DeliveryTracker } from './domain/tracker.js';
import type { CommandDispatch } from './dispatch.js';
import type { TrackingPublisher } from './tracking-publisher.js';
import type { HubCounters, HubLogger, Reject } from './hub-counters.js';

/** Scale-out routing (hub-sharding.ts); absent when one hub takes the whole fleet. */
export interface DroneRouting {
  mine(droneId: string): boolean;
  forward(droneId: string, channel: string, payload: Buffer): void;
}

/** Channel prefix of a message another hub forwarded to this one, the drone's owner. */
export const FORWARDED = 'fwd:';

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
  routing?: DroneRouting | null;
}

/**
 * The expensive half of ingest, run by the pump off the intake queue: validate → dedupe →
 * fleet state → tracker. Returns an accepted status for the telemetry writer.
 */
export class HubPipeline {
  constructor(private readonly d: PipelineDeps) {}

  process(m: Pending): DroneStatus | null {
    const { droneId, payload } = m;
    const { d } = this;
    const now = d.clock.now();
    // Forwarded by a hub that does not own the drone: this hub does; never forwarded again.
    const forwarded = m.channel.startsWith(FORWARDED);
    const channel = forwarded ? m.channel.slice(FORWARDED.length) : m.channel;
    const elsewhere = !forwarded && d.routing != null && !d.routing.mine(droneId);
    if (forwarded && channel === 'status') return this.trackOnly(droneId, payload, now);
    if (elsewhere && (channel === 'online' || channel === 'cmd/result')) {
      d.routing!.forward(droneId, channel, payload);
      return null;
    }
    switch (channel) {
      case 'status': {
        const r = decodeMessage('DroneStatus', payload, d.maxPayloadBytes);
        if (!r.ok) return d.reject('HUB_ERR_PAYLOAD', r.message, droneId);
        if (r.value.droneId !== droneId) return d.reject('HUB_ERR_TOPIC_MISMATCH', `payload says ${r.value.droneId}`, droneId);
        if (!d.fleet.applyStatus(r.value, now)) return d.reject('HUB_ERR_DUPLICATE', `seq ${r.value.seq}`, droneId, false);
        d.counters.statuses += 1;
        // Another hub tracks this drone: it needs the statuses of a drone on a delivery only.
        if (elsewhere) {
          if (d.tracker.activeFor(droneId)) d.routing!.forward(droneId, 'status', payload);
        } else for (const draft of d.tracker.onStatus(r.value, now)) d.tracking.publish(draft);
        return r.value;
      }
      case 'events': {
        const r = decodeMessage('DroneEvent', payload, d.maxPayloadBytes);
        if (!r.ok) return d.reject('HUB_ERR_PAYLOAD', r.message, droneId);
        d.counters.events += 1;
        // Structured droneId too, so pino lines can be filtered by drone (issue 5, Observability).
        if (r.value.severity <= 4) d.log(`drone ${droneId} ${r.value.kind}: ${r.value.text}`, { droneId, kind: r.value.kind, severity: r.value.severity });
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

  /** A status the receiving hub already validated and wrote: only the tracker needs it here. */
  private trackOnly(droneId: string, payload: Buffer, now: number): null {
    const { d } = this;
    const r = decodeMessage('DroneStatus', payload, d.maxPayloadBytes);
    if (!r.ok) return d.reject('HUB_ERR_PAYLOAD', r.message, droneId);
    if (r.value.droneId !== droneId) return d.reject('HUB_ERR_TOPIC_MISMATCH', `payload says ${r.value.droneId}`, droneId);
    for (const draft of d.tracker.onStatus(r.value, now)) d.tracking.publish(draft);
    return null;
  }
}
