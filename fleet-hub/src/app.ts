import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { parseFleetTopic, parseServiceTopic, subscriptions, systemClock, type Clock } from '@aerie/contracts';
import { IngestQueue, type IngestQueueStats } from './domain/ingest-queue.js';
import { IngestPump } from './ingest.js';
import { MemoryTelemetryWriter } from './adapters/memory-telemetry-writer.js';
import type { EventStream, Outbound, TelemetryWriter } from './ports.js';
import { MetricsServer } from './adapters/metrics-http.js';
import { FleetState } from './domain/fleet-state.js';
import { DeliveryTracker } from './domain/tracker.js';
import type { EmbeddedBroker, Refusal } from './adapters/aedes-broker.js';
import { FileDeviceRegistry, type DeviceRegistry } from './adapters/device-registry.js';
import type { HubConfig } from './config.js';
import { bump, hubMetricsSource, newHubCounters, rejector, type HubCounters, type HubLogger } from './hub-counters.js';
import { TrackingPublisher } from './tracking-publisher.js';
import { CommandDispatch } from './dispatch.js';
import { HubPipeline } from './pipeline.js';
import { connectHub } from './hub-connect.js';
import { HubRouter, hubTopics, parseHubTopic, TrackerStateHandover } from './hub-sharding.js';
import { FORWARDED } from './pipeline.js';
import { EventHubsSource } from './adapters/eventhubs-source.js';
import { IotHubAttachment } from './adapters/iothub-attach.js';
import { CLOUD_MODE_COMMANDS_NOTICE, CloudCommandRoutes } from './domain/iothub-cloud.js';

export { missionCommandId } from './dispatch.js';
export type { HubCounters, HubLogger } from './hub-counters.js';

export interface HubStartOptions {
  clock?: Clock;
  log?: HubLogger;
  registry?: DeviceRegistry;
  /** Accepted statuses go here in batches; defaults to the in-memory twin. */
  writer?: TelemetryWriter;
  /** Every tracking event and alert is also appended here (the caller opens and closes it). */
  eventStream?: EventStream;
}

/**
 * fleet-hub: the broker (embedded aedes, or an external one), the fleet's state and the
 * delivery tracker. It reads the fleet as a service principal over MQTT either way. This file
 * only wires: intake (here), pipeline.ts (validate → track), dispatch.ts (assignments →
 * commands), tracking-publisher.ts (events out), hub-connect.ts (broker and client).
 */
export class FleetHub {
  readonly fleet = new FleetState();
  readonly counters: HubCounters = newHubCounters();
  private readonly tracker: DeliveryTracker;
  private readonly queue: IngestQueue;
  private readonly pump: IngestPump;
  private readonly dispatch: CommandDispatch;
  private readonly tracking: TrackingPublisher;
  private readonly ticker: unknown;
  private metrics: MetricsServer | null = null;
  /** Scale-out: which hub of the shared group owns each drone's tracking; null when alone. */
  private readonly router: HubRouter | null;
  /** Cloud mode's reader of IoT Hub's Event Hubs-compatible endpoint (config.source 'eventhubs'), null otherwise. */
  private cloud: EventHubsSource | null = null;
  /** The IoT Hub-compatible device endpoint (config.iothubPort), null when off. */
  iothub: IotHubAttachment | null = null;
  /** Cloud mode: which drones commands can reach (domain/iothub-cloud.ts); null otherwise. */
  private readonly cloudRoutes: CloudCommandRoutes | null;
  /** Follows devices.json for `aerie-hub device revoke` run while the hub runs (file registry only). */
  private registryWatch: { close(): void } | null = null;

  private constructor(
    private readonly config: Readonly<HubConfig>,
    readonly registry: DeviceRegistry,
    private readonly broker: EmbeddedBroker | null,
    private readonly client: MqttClient,
    private readonly clock: Clock,
    private readonly log: HubLogger,
    writer: TelemetryWriter,
    eventStream: EventStream | null,
    private readonly hubId: string,
  ) {
    this.tracker = new DeliveryTracker({ fenceRadiusM: config.fenceRadiusM, noFlyZones: config.noFlyZones });
    this.queue = new IngestQueue({ maxStatuses: config.maxPendingStatuses, maxDrones: config.maxPendingDrones, maxEvents: config.maxPendingEvents });
    // Commands for IoT Hub devices leave as cloud-to-device messages; in cloud mode those for
    // devices it cannot reach are refused; everything else over MQTT.
    const out: Outbound = { publish: (topic, payload, retain) => void (this.iothub?.takeCommand(topic, payload) || this.noCommandRoute(topic) || client.publish(topic, payload, { qos: 1, retain: retain ?? false })) };
    const reject = rejector(this.counters, log);
    this.cloudRoutes = config.source === 'eventhubs'
      ? new CloudCommandRoutes(broker !== null, (id) => registry.list().some((d) => d.id === id && d.role === 'drone' && !d.symmetricKey && !d.x509))
      : null;
    const router = config.sharedGroup ? new HubRouter(hubId, out) : null;
    this.router = router;
    const mine = (droneId: string) => router?.mine(droneId) ?? true;
    // Each stage reached is kept retained, alone or in a group: a restarted hub, or the drone's next owner, carries on from it.
    const handover = new TrackerStateHandover(out);
    const tracking = new TrackingPublisher(out, eventStream, this.counters, log, (id, stage) => handover.stageReached(id, stage));
    this.tracking = tracking;
    // The registry knows the fleet only when this hub runs the broker and the fleet connects to it;
    // on an external broker, or in cloud mode (IoT Hub's own registry), it cannot tell (null).
    const known = broker && config.source !== 'eventhubs' ? (id: string) => registry.list().some((r) => r.id === id && r.role === 'drone' && r.revokedAt === null) : () => null;
    this.dispatch = new CommandDispatch(this.tracker, this.fleet, tracking, out, clock, this.counters, reject, config.maxPayloadBytes, {
      mine, known, offlineLimitMs: config.dispatchOfflineLimitMs, handover,
      // IoT Hub devices (SAS or X.509) get commands as C2D messages, queued for them while offline.
      queuedForOffline: (id) => this.iothub !== null && registry.list().some((r) => r.id === id && (r.symmetricKey !== undefined || r.x509 !== undefined)),
    });
    const pipeline = new HubPipeline({
      fleet: this.fleet, tracker: this.tracker, tracking, dispatch: this.dispatch, clock, counters: this.counters, log, reject,
      maxPayloadBytes: config.maxPayloadBytes, routing: router,
    });
    // Staleness is judged on the hub's clock, once a second (by the drone's owner, when shared).
    this.ticker = clock.setInterval(() => {
      for (const draft of this.tracker.onTick(clock.now())) if (draft.droneId === null || mine(draft.droneId)) tracking.publish(draft);
      this.dispatch.onTick(clock.now());
    }, 1_000);
    this.pump = new IngestPump(this.queue, (m) => pipeline.process(m), writer, config.ingestSliceMs);
  }

  static async start(config: Readonly<HubConfig>, opts: HubStartOptions = {}): Promise<FleetHub> {
    const clock = opts.clock ?? systemClock;
    const log = opts.log ?? ((line) => console.log(line));
    const registry = opts.registry ?? (await FileDeviceRegistry.open(join(config.dataDir, 'devices.json')));
    const refusals: Refusal[] = [];
    let hub: FleetHub | null = null;
    const onRefusal = (r: Refusal) => (hub ? hub.refused(r) : refusals.push(r));
    const { broker, client, hubId } = await connectHub(config, registry, onRefusal, log);
    hub = new FleetHub(config, registry, broker, client, clock, log, opts.writer ?? new MemoryTelemetryWriter(), opts.eventStream ?? null, hubId);
    for (const r of refusals) hub.refused(r);
    if (config.iothubPort !== null) {
      const sink = { ingest: hub.ingest.bind(hub), refused: (r: Refusal) => hub.refused(r) };
      try {
        hub.iothub = await IotHubAttachment.start(config, registry, sink, log, () => clock.now());
      } catch (err) {
        await hub.close();
        throw err;
      }
    }
    await hub.subscribe();
    if (config.source === 'eventhubs') {
      const q = () => hub.ingestStats();
      log(CLOUD_MODE_COMMANDS_NOTICE, { code: 'HUB_ERR_NO_COMMAND_ROUTE' });
      const ingest = (droneId: string, channel: string, payload: Buffer) => {
        hub.cloudRoutes?.sawInCloud(droneId);
        hub.ingest(droneId, channel, payload);
      };
      const sink = { ingest, idle: () => q().pendingStatuses + q().pendingEvents === 0, reject: rejector(hub.counters, log) };
      try {
        hub.cloud = await EventHubsSource.start(config.eventHubs, sink, log);
      } catch (err) {
        await hub.close();
        throw err;
      }
    }
    if (registry instanceof FileDeviceRegistry) {
      hub.registryWatch = registry.watch((id) => {
        broker?.disconnect(id);
        hub.iothub?.disconnect(id);
        log(`hub revoked ${id} (devices.json changed): live connections dropped`, { droneId: id, code: 'HUB_ERR_REVOKED' });
      }, (err) => log(`hub could not re-read ${join(config.dataDir, 'devices.json')}: ${String(err)}`));
    }
    if (config.metricsPort !== null) {
      hub.metrics = await MetricsServer.start(config.mqttHost, config.metricsPort, hubMetricsSource(hub.counters, () => (broker?.connections ?? 0) + (hub.iothub?.endpoint.connections ?? 0), () => hub.ingestStats()));
    }
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

  /** Base URL of the metrics server (GET /metrics), '' when off. */
  get iothubUrl(): string {
    return this.iothub ? `mqtts://${this.config.mqttHost}:${this.iothub.endpoint.port}` : '';
  }

  get metricsUrl(): string {
    return this.metrics ? `http://${this.config.mqttHost}:${this.metrics.port}` : '';
  }

  /** Revokes a device and drops its live connection at once. */
  async revoke(id: string): Promise<void> {
    await this.registry.revoke(id);
    this.broker?.disconnect(id);
    this.iothub?.disconnect(id);
  }

  /** Queue depths and shed totals of the intake. */
  ingestStats(): IngestQueueStats {
    return this.queue.stats();
  }

  /**
   * Intake for one message from a drone, whatever carried it (embedded broker, external broker,
   * another endpoint): cheap on purpose (count, queue); parsing and validation happen in the pump.
   * `channel` is the fleet topic's tail: status, events, online, cmd/result.
   */
  ingest(droneId: string, channel: string, payload: Buffer): void {
    bump(this.counters.messagesIn, channel);
    const shed = channel === 'status' ? this.queue.offerStatus(droneId, payload) : this.queue.offerEvent(droneId, channel, payload);
    if (shed) this.counters.shed[channel === 'status' ? 'statuses' : 'events'] += 1;
    this.pump.kick();
  }

  async close(): Promise<void> {
    this.registryWatch?.close();
    await this.cloud?.close();
    this.pump.close();
    this.clock.clearInterval(this.ticker);
    // Tracking events still on their way (log first, then MQTT) go out before the client does.
    await this.tracking.close();
    await this.metrics?.close();
    await this.iothub?.close();
    // A clean DISCONNECT suppresses the will [MQTT-3.14.4-3]: clear the presence flag ourselves.
    if (this.router) await this.client.publishAsync(hubTopics.presence(this.hubId), '', { qos: 1, retain: true }).catch(() => undefined);
    await this.client.endAsync();
    await this.broker?.close();
  }

  private async subscribe(): Promise<void> {
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
    const fleet = [subscriptions.allStatus, subscriptions.allEvents, subscriptions.allOnline, subscriptions.allCommandResults];
    // Embedded: the fleet's traffic comes in-process; retained assignments still need a real subscription.
    if (this.broker) await this.broker.subscribeLocal(fleet, (topic, payload) => this.onMessage(topic, payload));
    const group = this.config.sharedGroup;
    // [MQTT 5.0 4.8.2] each message on a shared subscription goes to one member of the group.
    // Assignments stay unshared: every hub needs every (retained) assignment, and retained
    // messages are never sent on shared subscriptions.
    const shared = this.broker ? [] : fleet.map((f) => (group ? `$share/${group}/${f}` : f));
    // Scale-out coordination is never shared: every hub needs every presence flag and stage. The
    // stages (retained) also bring a lone hub's own state back after a restart.
    const coordination = this.router ? [hubTopics.allPresence, hubTopics.inbox(this.hubId), hubTopics.allState] : [hubTopics.allState];
    await this.client.subscribeAsync([...shared, subscriptions.allAssignments, ...coordination], { qos: 1 });
    if (this.router) await this.client.publishAsync(hubTopics.presence(this.hubId), 'true', { qos: 1, retain: true });
  }

  /** Scale-out traffic between the hubs of a shared group (hub-sharding.ts). */
  private onHubTopic(topic: string, payload: Buffer): boolean {
    const h = parseHubTopic(topic);
    if (!h) return false;
    if (h.kind === 'state') this.dispatch.restoreStage(h.deliveryId, payload.toString('utf8'));
    else if (!this.router) return false;
    else if (h.kind === 'presence') this.router.sharding.onPresence(h.hubId, payload.length > 0);
    else this.ingest(h.droneId, `${FORWARDED}${h.channel}`, payload);
    return true;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const fleetTopic = parseFleetTopic(topic);
    if (fleetTopic) return this.ingest(fleetTopic.droneId, fleetTopic.channel, payload);
    const svc = parseServiceTopic(topic);
    if (svc?.kind === 'assignments') return this.dispatch.onAssignment(svc.deliveryId, payload);
    if (this.onHubTopic(topic, payload)) return;
    bump(this.counters.rejected, 'HUB_ERR_UNKNOWN_TOPIC');
    this.log(`hub rejected HUB_ERR_UNKNOWN_TOPIC drone=- ${topic}`, { code: 'HUB_ERR_UNKNOWN_TOPIC', droneId: null });
  }

  /** Cloud mode: a command for a device the hub cannot reach is refused and counted, not published. */
  private noCommandRoute(topic: string): boolean {
    const t = this.cloudRoutes ? parseFleetTopic(topic) : null;
    if (!t || t.channel !== 'cmd' || this.cloudRoutes!.reachable(t.droneId)) return false;
    rejector(this.counters, this.log)('HUB_ERR_NO_COMMAND_ROUTE', `command for ${t.droneId} not sent: cloud mode cannot reach IoT Hub devices`, t.droneId);
    return true;
  }

  private refused(r: Refusal): void {
    bump(this.counters.refused, r.code);
    if (r.log !== false) this.log(`hub refused ${r.code} client=${r.clientId} principal=${r.principal ?? '-'} topic=${r.topic ?? '-'}`, { code: r.code, clientId: r.clientId, droneId: r.principal, topic: r.topic });
  }
}
