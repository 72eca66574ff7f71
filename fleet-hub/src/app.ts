import { randomUUID } from 'node:crypto';
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

/** The fleet's traffic the hub takes in. */
const FLEET = [subscriptions.allStatus, subscriptions.allEvents, subscriptions.allOnline, subscriptions.allCommandResults];

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
  /** Why the last re-read of devices.json failed, null when it did not (readiness). */
  private registryError: string | null = null;
  /** The broker granted every filter of the client's last SUBSCRIBE; false from a disconnect to the next grant. */
  private subscribed = false;
  /** Set by shutdown(): readiness answers 503 from then on. */
  private shuttingDown = false;
  /** shutdown()'s marker on its way back from the broker (barrier()). */
  private barrierWait: { token: string; arrived: () => void } | null = null;
  private readonly hasEventStream: boolean;

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
    this.hasEventStream = eventStream !== null;
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
      }, (err) => {
        hub.registryError = String(err);
        log(`hub could not re-read ${join(config.dataDir, 'devices.json')}: ${String(err)}`);
      }, () => (hub.registryError = null));
    }
    if (config.metricsPort !== null) {
      hub.metrics = await MetricsServer.start(config.mqttHost, config.metricsPort, hubMetricsSource(hub.counters, () => (broker?.connections ?? 0) + (hub.iothub?.endpoint.connections ?? 0), () => hub.ingestStats()), () => hub.readiness());
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

  /**
   * Readiness (GET /readyz): each dependency 'ok' or why not. Embedded: the listeners accept
   * connections and devices.json was read; always: the hub's MQTT client is connected and its
   * subscriptions granted (on an external broker, the shared-group ones), the event stream
   * appends (nothing held for it); cloud mode: the Event Hubs consumer runs; and no shutdown.
   */
  readiness(): { ready: boolean; checks: Record<string, string> } {
    const checks: Record<string, string> = {};
    if (this.broker) checks.listeners = this.broker.listening ? 'ok' : 'not accepting connections';
    checks.registry = this.registryError === null ? 'ok' : `devices.json unreadable: ${this.registryError}`;
    checks.mqtt = this.client.connected ? 'ok' : `not connected to ${this.broker ? 'the embedded broker' : this.config.externalUrl}`;
    checks.subscriptions = this.subscribed ? 'ok' : 'not granted';
    if (this.config.source === 'eventhubs') checks.eventHubs = this.cloud?.running ? 'ok' : 'consumer not running';
    if (this.hasEventStream) checks.eventLog = this.tracking.heldCount === 0 ? 'ok' : `${this.tracking.heldCount} events held: appends failing`;
    if (this.shuttingDown) checks.shutdown = 'in progress';
    return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
  }

  /**
   * Graceful stop (SIGTERM): readiness goes 503 at once; the hub stops taking work — in a shared
   * group it clears its presence (the others take its drones' tracking) and drops its fleet
   * subscriptions, so the broker routes new messages to the other hubs, then waits for what the
   * broker had already queued for it (barrier); embedded, it closes its listeners and the drones'
   * connections; in cloud mode it stops reading. Then everything taken in goes through the
   * pipeline and the writer, tracking events are appended and published, and the hub closes.
   * Broker steps are skipped while the broker is unreachable; the caller bounds the whole.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.registryWatch?.close();
    if (this.broker) this.broker.stopAccepting();
    else if (this.client.connected) {
      if (this.router) await this.client.publishAsync(hubTopics.presence(this.hubId), '', { qos: 1, retain: true });
      await this.client.unsubscribeAsync(this.fleetFilters());
      await this.barrier();
    }
    await this.cloud?.close();
    this.cloud = null;
    await this.pump.drain();
    await this.close();
  }

  async close(): Promise<void> {
    this.shuttingDown = true;
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
    // Embedded: the fleet's traffic comes in-process; retained assignments still need a real subscription.
    if (this.broker) await this.broker.subscribeLocal(FLEET, (topic, payload) => this.onMessage(topic, payload));
    // A clean session is gone after a reconnect (a restarted broker): subscribe and announce again.
    this.client.on('close', () => (this.subscribed = false));
    this.client.on('connect', () => void this.subscribeRemote().catch((err: unknown) => this.log(`hub could not subscribe again: ${String(err)}`)));
    await this.subscribeRemote();
  }

  /** The fleet's topics on the external broker: shared by the group's hubs when there is one. */
  private fleetFilters(): string[] {
    const group = this.config.sharedGroup;
    // [MQTT 5.0 4.8.2] each message on a shared subscription goes to one member of the group.
    return this.broker ? [] : FLEET.map((f) => (group ? `$share/${group}/${f}` : f));
  }

  private async subscribeRemote(): Promise<void> {
    if (this.shuttingDown) return;
    // Assignments stay unshared: every hub needs every (retained) assignment, and retained
    // messages are never sent on shared subscriptions.
    // Scale-out coordination is never shared: every hub needs every presence flag and stage. The
    // stages (retained) also bring a lone hub's own state back after a restart.
    const coordination = this.router ? [hubTopics.allPresence, hubTopics.inbox(this.hubId), hubTopics.allState] : [hubTopics.allState];
    const granted = await this.client.subscribeAsync([...this.fleetFilters(), subscriptions.allAssignments, ...coordination], { qos: 1 });
    // SUBACK reason codes from 0x80 are refusals (MQTT 5.0 §3.9.3; 3.1.1 answers 0x80).
    const refused = granted.filter((g) => g.qos > 2).map((g) => g.topic);
    if (refused.length > 0) this.log(`hub subscription refused by the broker: ${refused.join(', ')}`, { code: 'HUB_ERR_ACL_SUBSCRIBE' });
    this.subscribed = refused.length === 0 && this.client.connected;
    if (this.router) await this.client.publishAsync(hubTopics.presence(this.hubId), 'true', { qos: 1, retain: true });
  }

  /**
   * Resolves once a marker this hub publishes to itself comes back: the broker sends a client's
   * messages from one queue, in order (Mosquitto keeps one per client), so whatever it had
   * queued for this hub before the unsubscribe has arrived by then.
   */
  private async barrier(): Promise<void> {
    const topic = hubTopics.barrier(this.hubId);
    const token = randomUUID();
    const back = new Promise<void>((arrived) => (this.barrierWait = { token, arrived }));
    await this.client.subscribeAsync(topic, { qos: 1 });
    await this.client.publishAsync(topic, token, { qos: 1 });
    await back;
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
    if (this.barrierWait && topic === hubTopics.barrier(this.hubId)) {
      if (payload.toString('utf8') === this.barrierWait.token) this.barrierWait.arrived();
      return;
    }
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
