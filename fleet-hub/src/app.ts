import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeMessage, encodeMessage, parseFleetTopic, parseServiceTopic, subscriptions, systemClock, topics,
  type Clock, type DeliveryAssignment, type DeliveryTracking, type DroneCommand, type DroneStatus,
} from '@aerie/contracts';
import { IngestQueue, type IngestQueueStats, type Pending } from './domain/ingest-queue.js';
import { IngestPump } from './ingest.js';
import { MemoryTelemetryWriter } from './adapters/memory-telemetry-writer.js';
import type { EventStream, TelemetryWriter } from './ports.js';
import { MetricsServer, type MetricsSource } from './adapters/metrics-http.js';
import { FleetState } from './domain/fleet-state.js';
import { DeliveryTracker, type TrackingDraft } from './domain/tracker.js';
import { deliveryMission } from './domain/mission-plan.js';
import { EmbeddedBroker, type Refusal } from './adapters/aedes-broker.js';
import { FileDeviceRegistry, type DeviceRegistry } from './adapters/device-registry.js';
import type { HubConfig } from './config.js';
import type { HubErrorCode } from './errors.js';

/** A log line, with structured fields (droneId, correlationId, code…) for pino when wired to it. */
export type HubLogger = (line: string, fields?: Record<string, unknown>) => void;

export interface HubStartOptions {
  clock?: Clock;
  log?: HubLogger;
  registry?: DeviceRegistry;
  /** Accepted statuses go here in batches; defaults to the in-memory twin. */
  writer?: TelemetryWriter;
  /** Every tracking event and alert is also appended here (the caller opens and closes it). */
  eventStream?: EventStream;
}

export interface HubCounters {
  statuses: number;
  events: number;
  trackingPublished: number;
  rejected: Partial<Record<HubErrorCode, number>>;
  refused: Partial<Record<HubErrorCode, number>>;
  /** Shed by the intake's policy under overload (see domain/ingest-queue.ts). */
  shed: { statuses: number; events: number };
  /** Taken in from the fleet, by channel. */
  messagesIn: Record<string, number>;
  commandsPublished: number;
  /** Tracking events published, by stage. */
  transitions: Record<string, number>;
}

/**
 * fleet-hub: the broker (embedded aedes, or an external one), the fleet's state and the
 * delivery tracker. It reads the fleet as a service principal over MQTT either way.
 */
export class FleetHub {
  readonly fleet = new FleetState();
  readonly counters: HubCounters = {
    statuses: 0, events: 0, trackingPublished: 0, rejected: {}, refused: {}, shed: { statuses: 0, events: 0 },
    messagesIn: {}, commandsPublished: 0, transitions: {},
  };
  private readonly tracker: DeliveryTracker;
  private readonly queue: IngestQueue;
  private readonly pump: IngestPump;
  private readonly ticker: unknown;
  private metrics: MetricsServer | null = null;

  private constructor(
    private readonly config: Readonly<HubConfig>,
    readonly registry: DeviceRegistry,
    private readonly broker: EmbeddedBroker | null,
    private readonly client: MqttClient,
    private readonly clock: Clock,
    private readonly log: HubLogger,
    writer: TelemetryWriter,
    private readonly eventStream: EventStream | null,
  ) {
    this.tracker = new DeliveryTracker({ fenceRadiusM: config.fenceRadiusM, noFlyZones: config.noFlyZones });
    this.queue = new IngestQueue({ maxStatuses: config.maxPendingStatuses, maxDrones: config.maxPendingDrones, maxEvents: config.maxPendingEvents });
    // Staleness is judged on the hub's clock, once a second.
    this.ticker = clock.setInterval(() => {
      for (const draft of this.tracker.onTick(clock.now())) this.publishTracking(draft);
    }, 1_000);
    this.pump = new IngestPump(this.queue, (m) => this.process(m), writer, config.ingestSliceMs);
  }

  static async start(config: Readonly<HubConfig>, opts: HubStartOptions = {}): Promise<FleetHub> {
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
        wsPort: config.wsPort,
        tls: config.tlsPort === null ? null : { port: config.tlsPort, certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, caFile: config.tlsCaFile },
        limits: { maxPayloadBytes: config.maxPayloadBytes, msgPerSec: config.droneMsgPerSec, burst: config.droneBurst, maxInflightInbound: config.maxInflightInbound },
        internal: new Map([[username, { secret: password, principal: { id: username, role: 'service' } }]]),
      });
      url = `mqtt://${config.mqttHost}:${broker.port}`;
    }
    // MQTT 5 only where shared subscriptions need it; aedes 1.x speaks 3.1.1.
    const protocolVersion = config.sharedGroup ? 5 : 4;
    const client = mqtt.connect(url, { clientId: `hub-${randomUUID().slice(0, 8)}`, username, password, protocolVersion, clean: true, reconnectPeriod: 1000 });
    client.on('error', (err) => log(`hub mqtt error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    hub = new FleetHub(config, registry, broker, client, clock, log, opts.writer ?? new MemoryTelemetryWriter(), opts.eventStream ?? null);
    for (const r of refusals) hub.refused(r);
    await hub.subscribe();
    if (config.metricsPort !== null) hub.metrics = await MetricsServer.start(config.mqttHost, config.metricsPort, hub.metricsSource());
    return hub;
  }

  /** Port of the embedded broker (0 when attached to an external one). */
  get mqttPort(): number {
    return this.broker?.port ?? 0;
  }

  /** ws URL of the embedded broker ('' when off). */
  get wsUrl(): string {
    return this.broker?.wsPort ? `ws://${this.config.mqttHost}:${this.broker.wsPort}` : '';
  }

  /** mqtts URL of the embedded broker ('' when TLS is off). */
  get mqttsUrl(): string {
    return this.broker?.tlsPort ? `mqtts://${this.config.mqttHost}:${this.broker.tlsPort}` : '';
  }

  get mqttUrl(): string {
    return this.broker ? `mqtt://${this.config.mqttHost}:${this.broker.port}` : this.config.externalUrl;
  }

  /** Revokes a device and drops its live connection at once. */
  async revoke(id: string): Promise<void> {
    await this.registry.revoke(id);
    this.broker?.disconnect(id);
  }

  /** Queue depths and shed totals of the intake. */
  ingestStats(): IngestQueueStats {
    return this.queue.stats();
  }

  /** Base URL of the metrics server (GET /metrics), '' when off. */
  get metricsUrl(): string {
    return this.metrics ? `http://${this.config.mqttHost}:${this.metrics.port}` : '';
  }

  private metricsSource(): MetricsSource {
    const c = this.counters;
    return {
      connections: () => this.broker?.connections ?? 0,
      messagesIn: () => c.messagesIn,
      messagesOut: () => ({ tracking: c.trackingPublished, command: c.commandsPublished }),
      refused: () => c.refused,
      rejected: () => c.rejected,
      shed: () => ({ status: c.shed.statuses, event: c.shed.events }),
      queueDepth: () => {
        const q = this.queue.stats();
        return { status: q.pendingStatuses, event: q.pendingEvents };
      },
      stageTransitions: () => c.transitions,
    };
  }

  async close(): Promise<void> {
    this.pump.close();
    this.clock.clearInterval(this.ticker);
    await this.metrics?.close();
    await this.client.endAsync();
    await this.broker?.close();
  }

  private async subscribe(): Promise<void> {
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    const fleet = [subscriptions.allStatus, subscriptions.allEvents, subscriptions.allOnline, subscriptions.allCommandResults];
    // Embedded: the fleet's traffic comes in-process; retained assignments still need a real subscription.
    if (this.broker) await this.broker.subscribeLocal(fleet, (topic, payload) => this.onMessage(topic, payload, false));
    const group = this.config.sharedGroup;
    // [MQTT 5.0 4.8.2] each message on a shared subscription goes to one member of the group.
    // Assignments stay unshared: every hub needs every (retained) assignment, and retained
    // messages are never sent on shared subscriptions.
    const shared = this.broker ? [] : fleet.map((f) => (group ? `$share/${group}/${f}` : f));
    await this.client.subscribeAsync([...shared, subscriptions.allAssignments], { qos: 1 });
  }

  /** Intake: cheap on purpose (topic parse, queue). Parsing and validation happen in the pump. */
  private onMessage(topic: string, payload: Buffer, _retained: boolean): void {
    const fleetTopic = parseFleetTopic(topic);
    if (fleetTopic) {
      const { droneId, channel } = fleetTopic;
      this.counters.messagesIn[channel] = (this.counters.messagesIn[channel] ?? 0) + 1;
      const shed = channel === 'status' ? this.queue.offerStatus(droneId, payload) : this.queue.offerEvent(droneId, channel, payload);
      if (shed) this.counters.shed[channel === 'status' ? 'statuses' : 'events'] += 1;
      this.pump.kick();
      return;
    }
    const svc = parseServiceTopic(topic);
    if (svc?.kind === 'assignments') return this.onAssignment(svc.deliveryId, payload);
    this.reject('HUB_ERR_UNKNOWN_TOPIC', topic, null);
  }

  /** validate → dedupe → fleet state → tracker; returns an accepted status for the telemetry writer. */
  private process(m: Pending): DroneStatus | null {
    const { droneId, channel, payload } = m;
    const now = this.clock.now();
    switch (channel) {
      case 'status': {
        const d = decodeMessage('DroneStatus', payload, this.config.maxPayloadBytes);
        if (!d.ok) return this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
        if (d.value.droneId !== droneId) return this.reject('HUB_ERR_TOPIC_MISMATCH', `payload says ${d.value.droneId}`, droneId);
        if (!this.fleet.applyStatus(d.value, now)) return this.reject('HUB_ERR_DUPLICATE', `seq ${d.value.seq}`, droneId, false);
        this.counters.statuses += 1;
        for (const draft of this.tracker.onStatus(d.value, now)) this.publishTracking(draft);
        return d.value;
      }
      case 'events': {
        const d = decodeMessage('DroneEvent', payload, this.config.maxPayloadBytes);
        if (!d.ok) return this.reject('HUB_ERR_PAYLOAD', d.message, droneId);
        this.counters.events += 1;
        if (d.value.severity <= 4) this.log(`drone ${droneId} ${d.value.kind}: ${d.value.text}`);
        return null;
      }
      case 'online':
        this.fleet.setOnline(droneId, payload.toString('utf8') === 'true', now);
        return null;
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
        return null;
      }
      default:
        return this.reject('HUB_ERR_UNKNOWN_TOPIC', channel, droneId);
    }
  }

  /** Retained assignments: an empty payload clears one (the delivery has ended). */
  private onAssignment(deliveryId: string, payload: Buffer): void {
    if (payload.length === 0) {
      this.tracker.release(deliveryId);
      return;
    }
    const d = decodeMessage('DeliveryAssignment', payload, this.config.maxPayloadBytes);
    if (!d.ok) {
      this.reject('HUB_ERR_PAYLOAD', d.message, null);
      return;
    }
    const a = d.value;
    if (a.action === 'abort') {
      if (this.tracker.release(a.deliveryId)) this.sendCommand(a, `rtl-${a.deliveryId}`, { kind: 'rtl' });
      return;
    }
    if (this.tracker.activeFor(a.droneId)?.deliveryId === a.deliveryId) return;
    for (const draft of this.tracker.assign(a, this.clock.now())) this.publishTracking(draft);
    this.sendCommand(a, missionCommandId(a.deliveryId), { kind: 'mission', steps: deliveryMission(a) });
  }

  private sendCommand(a: DeliveryAssignment, commandId: string, action: DroneCommand['action']): void {
    const cmd: DroneCommand = {
      v: 1, commandId, droneId: a.droneId, ts: this.clock.now(), action,
      ...(a.correlationId ? { correlationId: a.correlationId } : {}),
    };
    this.client.publish(topics.command(a.droneId), encodeMessage(cmd), { qos: 1 });
    this.counters.commandsPublished += 1;
  }

  private publishTracking(draft: TrackingDraft): void {
    const event: DeliveryTracking = { v: 1, eventId: randomUUID(), ...draft };
    const topic = event.type === 'DeliveryAlert' ? topics.alerts(event.deliveryId) : topics.tracking(event.deliveryId);
    this.client.publish(topic, encodeMessage(event), { qos: 1 });
    this.eventStream?.append(event).catch((err: unknown) => this.log(`event stream append failed: ${String(err)}`, { deliveryId: event.deliveryId, correlationId: event.correlationId }));
    this.counters.trackingPublished += 1;
    this.counters.transitions[event.stage] = (this.counters.transitions[event.stage] ?? 0) + 1;
    this.log(`tracking ${event.type} delivery=${event.deliveryId}`, { droneId: event.droneId, deliveryId: event.deliveryId, correlationId: event.correlationId, stage: event.stage });
  }

  private reject(code: HubErrorCode, detail: string, droneId: string | null, log = true): null {
    this.counters.rejected[code] = (this.counters.rejected[code] ?? 0) + 1;
    if (log) this.log(`hub rejected ${code} drone=${droneId ?? '-'} ${detail}`, { code, droneId });
    return null;
  }

  private refused(r: Refusal): void {
    this.counters.refused[r.code] = (this.counters.refused[r.code] ?? 0) + 1;
    if (r.log !== false) this.log(`hub refused ${r.code} client=${r.clientId} principal=${r.principal ?? '-'} topic=${r.topic ?? '-'}`, { code: r.code, clientId: r.clientId, droneId: r.principal, topic: r.topic });
  }
}

export function missionCommandId(deliveryId: string): string {
  return `mission-${deliveryId}`;
}
