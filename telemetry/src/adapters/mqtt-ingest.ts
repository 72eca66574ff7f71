import { connect, ErrorWithSubackPacket } from 'mqtt';
import type { IConnackPacket } from 'mqtt';
import { subscriptions } from '@aerie/contracts';
import type { Clock, DroneStatus } from '@aerie/contracts';
import { TelemetryError } from '../errors.js';
import { createIngestPipeline } from '../domain/ingest.js';
import type { IngestStats } from '../domain/ingest.js';
import type { Logger, TelemetryStore } from '../ports.js';
import { createEventPoints } from '../domain/event-points.js';
import type { EventStats } from '../domain/event-points.js';
import type { Point } from '../domain/point.js';
import type { Wal, WalStats } from './wal.js';

export interface MqttIngestOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId: string;
  store: TelemetryStore;
  logger: Logger;
  clock?: Clock;
  /** 4 (MQTT 3.1.1) by default: the embedded aedes broker speaks nothing newer */
  protocolVersion?: 4 | 5;
  /** default 1000 ms */
  reconnectPeriodMs?: number;
  maxBatchPoints?: number;
  flushIntervalMs?: number;
  onStatus?: (status: DroneStatus) => void;
  /**
   * When given, drone events and delivery tracking are subscribed too and handed over as
   * drone_alert / delivery_event points (domain/event-points.ts), with `fleet` as their tag.
   */
  onEventPoint?: { fleet: string; write(point: Point): void };
  /**
   * When given, its leftover segments are replayed before connecting, and every message is
   * appended to it before mqtt.js acknowledges it (adapters/wal.ts). Closing it is the caller's,
   * after the writer has written or parked what it holds.
   */
  wal?: Wal;
}

export interface MqttIngest {
  /** statuses; `events` counts drone events and delivery tracking when onEventPoint is set */
  stats(): IngestStats & { events?: EventStats; wal?: WalStats };
  /**
   * Resolves once the broker has granted the status subscription for the first time; rejects
   * if the broker refuses the connection or the subscription, or close() comes first.
   */
  whenSubscribed(): Promise<void>;
  /** Connected to the broker with the subscription granted on this connection (readiness). */
  consuming(): boolean;
  /** Stops receiving, then writes what is buffered. Idempotent. */
  close(): Promise<void>;
}

/**
 * Feeds every `fleet/v1/+/status` message into the ingest pipeline. Starting does not wait for
 * the broker: mqtt.js keeps reconnecting, so telemetry may boot before fleet-hub.
 */
export function startMqttIngest(opts: MqttIngestOptions): MqttIngest {
  const { logger } = opts;
  const pipeline = createIngestPipeline({
    store: opts.store,
    logger,
    clock: opts.clock,
    maxBatchPoints: opts.maxBatchPoints,
    flushIntervalMs: opts.flushIntervalMs,
    onStatus: opts.onStatus,
  });

  const eventSink = opts.onEventPoint;
  const events = eventSink === undefined ? undefined : createEventPoints(eventSink.fleet);
  const eventStats: EventStats = { received: 0, accepted: 0, rejected: {} };
  const topicsWanted: string[] = [subscriptions.allStatus, ...(events === undefined ? [] : [subscriptions.allEvents, subscriptions.allTracking])];

  let settle: { resolve(): void; reject(err: Error): void } | undefined;
  const subscribed = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Nobody may be waiting; the rejection is still delivered to whoever calls whenSubscribed().
  subscribed.catch(() => undefined);
  const settled = (err?: Error): void => {
    if (settle === undefined) return;
    if (err === undefined) settle.resolve();
    else settle.reject(err);
    settle = undefined;
  };

  const take = (topic: string, payload: Buffer): void => {
    if (events === undefined || topic.endsWith('/status')) {
      pipeline.accept(topic, payload);
      return;
    }
    eventStats.received++;
    const c = events.classify(topic, payload);
    if (c.ok) {
      eventStats.accepted++;
      eventSink?.write(c.point);
      return;
    }
    eventStats.rejected[c.code] = (eventStats.rejected[c.code] ?? 0) + 1;
    logger.warn(`telemetry rejected event topic=${JSON.stringify(topic)} code=${c.code} detail=${JSON.stringify(c.detail)}`);
  };
  const { wal } = opts;
  if (wal !== undefined) {
    // What a killed predecessor took and acknowledged goes first, then what the broker still holds.
    wal.replay(take);
    wal.beforeSeal(() => pipeline.flush());
  }

  const client = connect(opts.url, {
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    protocolVersion: opts.protocolVersion ?? 4,
    // A persistent session makes the broker queue QoS 1 statuses while this service restarts,
    // so the history has no hole for the restart ([MQTT-3.1.2-4]).
    clean: false,
    // mqtt.js only resubscribes clean sessions; a broker that lost our session (aedes with
    // in-memory persistence restarted) would leave us subscribed to nothing, so 'connect' does it.
    resubscribe: false,
    reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
  });

  let connectedOnce = false;
  let quietUntilConnected = false;
  let closed = false;
  let granted = false;
  client.on('close', () => (granted = false));

  client.on('connect', (connack: IConnackPacket) => {
    quietUntilConnected = false;
    logger.info(`telemetry mqtt connected url=${redact(opts.url)} clientId=${opts.clientId} sessionPresent=${connack.sessionPresent}`);
    connectedOnce = true;
    const refused = (): void => {
      const err = new TelemetryError('TEL_ERR_MQTT_REFUSED', `broker refused the subscription ${topicsWanted.join(' ')}`);
      logger.error(`telemetry mqtt subscribe refused code=${err.code} topic=${topicsWanted.join(',')}`);
      settled(err);
    };
    client.subscribeAsync(topicsWanted, { qos: 1 }).then(
      // SUBACK return code 0x80 is a refusal ([MQTT-3.9.3]), typically the broker's ACL; mqtt.js 5
      // rejects with ErrorWithSubackPacket for it, and resolving with it is checked for safety.
      (grants) => {
        if (grants.some((g) => (g.qos & 0x80) !== 0)) return refused();
        granted = client.connected;
        settled();
      },
      (err: Error) => {
        if (err instanceof ErrorWithSubackPacket) return refused();
        // Lost the connection mid-subscribe: the next 'connect' subscribes again.
        logger.warn(`telemetry mqtt subscribe failed topic=${topicsWanted.join(',')} error=${JSON.stringify(err.message)}`);
      },
    );
  });

  // mqtt.js emits 'message' synchronously and sends the QoS 1 PUBACK only afterwards, when
  // handleMessage calls back (mqtt/build/lib/handlers/publish.js), so the synchronous append
  // here is on disk before the broker forgets the message.
  client.on('message', (topic, payload) => {
    wal?.append(topic, payload);
    take(topic, payload);
  });

  client.on('error', (err: Error & { code?: unknown }) => {
    // mqtt.js emits 'error' and then stops reconnecting when CONNACK refuses us (bad
    // credentials, not authorised); socket errors are followed by a reconnect.
    const refused = typeof err.code === 'number';
    if (refused) {
      const e = new TelemetryError('TEL_ERR_MQTT_REFUSED', `broker refused the connection: ${err.message}`);
      logger.error(`telemetry mqtt connection refused code=${e.code} url=${redact(opts.url)} reason=${JSON.stringify(err.message)}`);
      settled(e);
      return;
    }
    // One line per outage, not one per reconnect attempt.
    if (quietUntilConnected || closed) return;
    quietUntilConnected = true;
    logger.warn(`telemetry mqtt unreachable url=${redact(opts.url)} error=${JSON.stringify(err.message)} retrying`);
  });

  client.on('offline', () => {
    if (connectedOnce && !quietUntilConnected && !closed) {
      quietUntilConnected = true;
      logger.warn(`telemetry mqtt offline url=${redact(opts.url)} reconnecting`);
    }
  });

  let closing: Promise<void> | undefined;
  return {
    stats: () => ({
      ...pipeline.stats(),
      ...(events === undefined ? {} : { events: { ...eventStats, rejected: { ...eventStats.rejected } } }),
      ...(wal === undefined ? {} : { wal: wal.stats() }),
    }),
    whenSubscribed: () => subscribed,
    consuming: () => granted && client.connected && !closed,
    close() {
      closing ??= (async () => {
        settled(new TelemetryError('TEL_ERR_INGEST_CLOSED', 'ingest closed before the subscription was granted'));
        closed = true;
        // End first so nothing arrives after the last flush; without a clean session the
        // broker keeps queueing for our next start. Before CONNACK a graceful end only queues
        // DISCONNECT and leaves the socket open (the broker then waits out its connect timeout),
        // so an unconnected client is torn down instead.
        await client.endAsync(!client.connected);
        pipeline.flush();
      })();
      return closing;
    },
  };
}

/** Credentials may ride in the URL (mqtt://user:pass@host); logs must not carry them. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
