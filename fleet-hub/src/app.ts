import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeMessage, encodeMessage, parseFleetTopic, parseServiceTopic, subscriptions, systemClock, topics,
  type Clock, type DeliveryAssignment, type DeliveryTracking, type DroneCommand,
} from '@aerie/contracts';
import { FleetState } from './domain/fleet-state.js';
import { DeliveryTracker, type TrackingDraft } from './domain/tracker.js';
import { deliveryMission } from './domain/mission-plan.js';
import { EmbeddedBroker, type Refusal } from './adapters/aedes-broker.js';
import { FileDeviceRegistry, type DeviceRegistry } from './adapters/device-registry.js';
import type { HubConfig } from './config.js';
import type { HubErrorCode } from './errors.js';

export type HubLogger = (line: string) => void;

export interface HubCounters {
  statuses: number;
  events: number;
  trackingPublished: number;
  rejected: Partial<Record<HubErrorCode, number>>;
  refused: Partial<Record<HubErrorCode, number>>;
}

/**
 * fleet-hub: the broker (embedded aedes, or an external one), the fleet's state and the
 * delivery tracker. It reads the fleet as a service principal over MQTT either way.
 */
export class FleetHub {
  readonly fleet = new FleetState();
  readonly counters: HubCounters = { statuses: 0, events: 0, trackingPublished: 0, rejected: {}, refused: {} };
  private readonly tracker: DeliveryTracker;

  private constructor(
    private readonly config: Readonly<HubConfig>,
    readonly registry: DeviceRegistry,
    private readonly broker: EmbeddedBroker | null,
    private readonly client: MqttClient,
    private readonly clock: Clock,
    private readonly log: HubLogger,
  ) {
    this.tracker = new DeliveryTracker(config.fenceRadiusM);
  }

  static async start(config: Readonly<HubConfig>, opts: { clock?: Clock; log?: HubLogger; registry?: DeviceRegistry } = {}): Promise<FleetHub> {
    const clock = opts.clock ?? systemClock;
    const log = opts.log ?? ((line) => console.log(line));
    const registry = opts.registry ?? (await FileDeviceRegistry.open(join(config.dataDir, 'devices.json')));
    const refusals: Refusal[] = [];
    let hub: FleetHub | null = null;
    const onRefusal = (r: Refusal) => (hub ? hub.refused(r) : refusals.push(r));

    let broker: EmbeddedBroker | null = null;
    let url = config.externalUrl;
    let username = config.externalUsername;
    let password = config.externalPassword;
    if (config.broker === 'embedded') {
      username = `hub-${randomUUID().slice(0, 8)}`;
      password = randomBytes(24).toString('base64url');
      broker = await EmbeddedBroker.start({
        host: config.mqttHost, port: config.mqttPort, registry, onRefusal,
        internal: new Map([[username, { secret: password, principal: { id: username, role: 'service' } }]]),
      });
      url = `mqtt://${config.mqttHost}:${broker.port}`;
    }
    const client = mqtt.connect(url, { clientId: username || `hub-${randomUUID().slice(0, 8)}`, username, password, protocolVersion: 4, clean: true, reconnectPeriod: 1000 });
    client.on('error', (err) => log(`hub mqtt error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    hub = new FleetHub(config, registry, broker, client, clock, log);
    for (const r of refusals) hub.refused(r);
    await hub.subscribe();
    return hub;
  }

  /** Port of the embedded broker (0 when attached to an external one). */
  get mqttPort(): number {
    return this.broker?.port ?? 0;
  }

  get mqttUrl(): string {
    return this.broker ? `mqtt://${this.config.mqttHost}:${this.broker.port}` : this.config.externalUrl;
  }

  /** Revokes a device and drops its live connection at once. */
  async revoke(id: string): Promise<void> {
    await this.registry.revoke(id);
    this.broker?.disconnect(id);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
    await this.broker?.close();
  }

  private async subscribe(): Promise<void> {
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    await this.client.subscribeAsync(
      [subscriptions.allStatus, subscriptions.allEvents, subscriptions.allOnline, subscriptions.allCommandResults, subscriptions.allAssignments],
      { qos: 1 },
    );
  }

  private onMessage(topic: string, payload: Buffer, _retained: boolean): void {
    const fleetTopic = parseFleetTopic(topic);
    if (fleetTopic) return this.onFleetMessage(fleetTopic.droneId, fleetTopic.channel, payload);
    const svc = parseServiceTopic(topic);
    if (svc?.kind === 'assignments') return this.onAssignment(svc.deliveryId, payload);
    this.reject('HUB_ERR_UNKNOWN_TOPIC', topic, null);
  }

  private onFleetMessage(droneId: string, channel: string, payload: Buffer): void {
    const now = this.clock.now();
    switch (channel) {
      case 'status': {
        const d = decodeMessage('DroneStatus', payload, this.config.maxPayloadBytes);
        if (!d.ok) return this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
        if (d.value.droneId !== droneId) return this.reject('HUB_ERR_TOPIC_MISMATCH', `payload says ${d.value.droneId}`, droneId);
        if (!this.fleet.applyStatus(d.value, now)) return this.reject('HUB_ERR_DUPLICATE', `seq ${d.value.seq}`, droneId, false);
        this.counters.statuses += 1;
        for (const draft of this.tracker.onStatus(d.value)) this.publishTracking(draft);
        return;
      }
      case 'events': {
        const d = decodeMessage('DroneEvent', payload, this.config.maxPayloadBytes);
        if (!d.ok) return this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
        this.counters.events += 1;
        if (d.value.severity <= 4) this.log(`drone ${droneId} ${d.value.kind}: ${d.value.text}`);
        return;
      }
      case 'online':
        this.fleet.setOnline(droneId, payload.toString('utf8') === 'true', now);
        return;
      case 'cmd/result': {
        const d = decodeMessage('CommandResult', payload, this.config.maxPayloadBytes);
        if (!d.ok) return this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
        const active = this.tracker.activeFor(droneId);
        if (active && d.value.outcome !== 'accepted' && d.value.commandId === missionCommandId(active.deliveryId)) {
          this.tracker.release(active.deliveryId);
          const status = this.fleet.get(droneId)?.status;
          this.publishTracking({
            type: 'DeliveryFailed', stage: 'Failed', deliveryId: active.deliveryId, droneId, ts: now,
            location: status?.position ? { lat: status.position.lat, lon: status.position.lon, altRel: status.position.altRel } : null,
            eta: null, reason: `${d.value.code}: ${d.value.message}`,
            ...(active.correlationId ? { correlationId: active.correlationId } : {}),
          });
        }
        return;
      }
      default:
        this.reject('HUB_ERR_UNKNOWN_TOPIC', channel, droneId);
    }
  }

  /** Retained assignments: an empty payload clears one (the delivery has ended). */
  private onAssignment(deliveryId: string, payload: Buffer): void {
    if (payload.length === 0) {
      this.tracker.release(deliveryId);
      return;
    }
    const d = decodeMessage('DeliveryAssignment', payload, this.config.maxPayloadBytes);
    if (!d.ok) return this.reject('HUB_ERR_PAYLOAD', d.message, null);
    const a = d.value;
    if (a.action === 'abort') {
      if (this.tracker.release(a.deliveryId)) this.sendCommand(a, `rtl-${a.deliveryId}`, { kind: 'rtl' });
      return;
    }
    if (this.tracker.activeFor(a.droneId)?.deliveryId === a.deliveryId) return;
    this.tracker.assign(a);
    this.sendCommand(a, missionCommandId(a.deliveryId), { kind: 'mission', steps: deliveryMission(a) });
  }

  private sendCommand(a: DeliveryAssignment, commandId: string, action: DroneCommand['action']): void {
    const cmd: DroneCommand = {
      v: 1, commandId, droneId: a.droneId, ts: this.clock.now(), action,
      ...(a.correlationId ? { correlationId: a.correlationId } : {}),
    };
    this.client.publish(topics.command(a.droneId), encodeMessage(cmd), { qos: 1 });
  }

  private publishTracking(draft: TrackingDraft): void {
    const event: DeliveryTracking = { v: 1, eventId: randomUUID(), ...draft };
    this.client.publish(topics.tracking(event.deliveryId), encodeMessage(event), { qos: 1 });
    this.counters.trackingPublished += 1;
  }

  private reject(code: HubErrorCode, detail: string, droneId: string | null, log = true): void {
    this.counters.rejected[code] = (this.counters.rejected[code] ?? 0) + 1;
    if (log) this.log(`hub rejected ${code} drone=${droneId ?? '-'} ${detail}`);
  }

  private refused(r: Refusal): void {
    this.counters.refused[r.code] = (this.counters.refused[r.code] ?? 0) + 1;
    this.log(`hub refused ${r.code} client=${r.clientId} principal=${r.principal ?? '-'} topic=${r.topic ?? '-'}`);
  }
}

export function missionCommandId(deliveryId: string): string {
  return `mission-${deliveryId}`;
}
