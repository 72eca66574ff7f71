import { readFileSync } from 'node:fs';
import deviceSdk from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { encodeMessage, type CommandResult, type DroneEvent, type DroneStatus } from '@aerie/contracts';
import type { Uplink, UplinkKind } from '../ports.js';
import type { AgentConfig } from '../config.js';

const { Client, Message, SharedAccessKeyAuthenticationProvider } = deviceSdk;
type DeviceClient = InstanceType<typeof Client>;
type DeviceMessage = InstanceType<typeof Message>;

export interface IotHubUplinkOptions {
  /** `HostName=…;DeviceId=…;SharedAccessKey=…` or `…;x509=true` (config.ts has validated it). */
  connectionString: string;
  /** PEM file paths: a CA to trust (a self-hosted endpoint), and the device certificate and key for X.509. */
  ca: string | null;
  cert: string | null;
  key: string | null;
  /** Reported twin properties set on every connect (agent version, configuration). */
  reported: Record<string, unknown>;
  /**
   * SAS token lifetime and the margin before expiry at which the SDK renews it (s; SDK defaults
   * 3600 and 900). Renewal reconnects with CleanSession 0, so subscriptions carry over.
   */
  tokenValidS?: number;
  tokenRenewalMarginS?: number;
  /** Reconnect backoff bounds (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** DroneCommand kinds, each also a direct method name (contracts DroneCommand.action.kind). */
const COMMAND_METHODS = ['mission', 'rtl', 'land', 'pause', 'continue', 'set_stream_rate'] as const;
/** A direct method the agent never answered (undecodable command) is dropped after this. */
const METHOD_ABANDON_MS = 5 * 60_000;

// The SDK's default policy retries quietly and keeps `disconnect` to itself while it does; this
// uplink owns reconnection instead, so the spool sees every outage at once.
const NO_RETRY = { shouldRetry: () => false, nextRetryTimeout: () => 0 } as unknown as Parameters<DeviceClient['setRetryPolicy']>[0];

/**
 * Azure IoT Hub uplink on the azure-iot-device SDK over MQTT: DroneStatus, DroneEvent and
 * CommandResult as device-to-cloud messages with a `type` property (status, event, result) and
 * JSON content type; commands by cloud-to-device message or by direct method (method name = the
 * command's kind; the response carries the CommandResult); agent version and configuration as
 * reported twin properties. Each connection is a fresh SDK client: after a drop it reconnects
 * with capped exponential backoff and sets up subscriptions and the twin again.
 */
export class IotHubUplink implements Uplink {
  private client: DeviceClient | null = null;
  private up = false;
  private closed = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly commandListeners: ((payload: Buffer) => void)[] = [];
  private readonly connectionListeners: ((up: boolean) => void)[] = [];
  /** Direct methods waiting for their CommandResult, by commandId. */
  private readonly pendingMethods = new Map<string, { respond: (status: number, body: unknown) => void; timer: NodeJS.Timeout }>();
  /** C2D messages not meant as commands (wrong type property), counted. */
  ignoredMessages = 0;
  /**
   * Fire-and-forget publishes that did not reach the hub (down, or the send failed). With a spool
   * configured the SpoolingUplink sends only while connected and keeps the rest; without one,
   * an outage loses what it covers (there is no in-memory queue as with mqtt.js).
   */
  dropped = 0;

  private constructor(private readonly opts: IotHubUplinkOptions) {
    this.retryMs = opts.retryMinMs ?? 1000;
  }

  /** Connects once and resolves; rejects with the SDK's error when the first connection fails (bad key, refused, unreachable). */
  static async connect(opts: IotHubUplinkOptions): Promise<IotHubUplink> {
    const uplink = new IotHubUplink(opts);
    await uplink.open();
    return uplink;
  }

  get connected(): boolean {
    return this.up;
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.connectionListeners.push(listener);
  }

  onCommand(listener: (payload: Buffer) => void): void {
    this.commandListeners.push(listener);
  }

  publishStatus(status: DroneStatus): void {
    this.send('status', Buffer.from(encodeMessage(status)));
  }

  publishEvent(event: DroneEvent): void {
    this.send('event', Buffer.from(encodeMessage(event)));
  }

  publishResult(result: CommandResult): void {
    // A result a direct method is waiting for goes back as its response, not as telemetry.
    const pending = this.pendingMethods.get(result.commandId);
    if (pending) {
      this.pendingMethods.delete(result.commandId);
      clearTimeout(pending.timer);
      pending.respond(200, result);
      return;
    }
    this.send('result', Buffer.from(encodeMessage(result)));
  }

  private send(kind: UplinkKind, body: Buffer): void {
    void this.publishConfirmed(kind, body).then((ok) => {
      if (!ok) this.dropped += 1;
    });
  }

  /** Resolves true on the hub's PUBACK; false when down or the send failed. */
  async publishConfirmed(kind: UplinkKind, body: Buffer): Promise<boolean> {
    const client = this.client;
    if (!this.up || !client) return false;
    const msg = new Message(body);
    msg.properties.add('type', kind);
    msg.contentType = 'application/json';
    msg.contentEncoding = 'utf-8';
    try {
      await client.sendEvent(msg);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const p of this.pendingMethods.values()) clearTimeout(p.timer);
    this.pendingMethods.clear();
    const client = this.client;
    this.client = null;
    this.setUp(false);
    if (client) {
      client.removeAllListeners();
      await client.close().catch(() => undefined);
    }
  }

  private async open(): Promise<void> {
    const { connectionString: cs, tokenValidS, tokenRenewalMarginS } = this.opts;
    const client = tokenValidS && !/;x509=true/i.test(cs)
      ? Client.fromAuthenticationProvider(SharedAccessKeyAuthenticationProvider.fromConnectionString(cs, tokenValidS, tokenRenewalMarginS), Mqtt)
      : Client.fromConnectionString(cs, Mqtt);
    client.setRetryPolicy(NO_RETRY);
    const { ca, cert, key } = this.opts;
    await client.setOptions({
      ...(ca ? { ca: readFileSync(ca, 'utf8') } : {}),
      ...(cert && key ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : {}),
    });
    client.on('error', () => undefined);
    client.on('disconnect', () => this.onDrop(client));
    try {
      await client.open();
      client.on('message', (msg: DeviceMessage) => this.onC2D(client, msg));
      for (const m of COMMAND_METHODS) client.onDeviceMethod(m, (req, res) => this.onMethod(m, req.payload, (status, body) => void res.send(status, body).catch(() => undefined)));
      const twin = await client.getTwin();
      const reported = twin.properties.reported as { update(patch: unknown, done: (err?: Error) => void): void };
      await new Promise<void>((resolve, reject) => reported.update(this.opts.reported, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      client.removeAllListeners();
      await client.close().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      client.removeAllListeners();
      await client.close().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = this.opts.retryMinMs ?? 1000;
    this.setUp(true);
  }

  private onDrop(client: DeviceClient): void {
    if (client !== this.client) return;
    this.client = null;
    client.removeAllListeners();
    client.close().catch(() => undefined);
    this.setUp(false);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    // Full jitter over [retryMs/2, retryMs], so a fleet that lost the hub together does not return in step.
    const delay = this.retryMs / 2 + Math.random() * (this.retryMs / 2);
    this.retryMs = Math.min(this.retryMs * 2, this.opts.retryMaxMs ?? 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open().catch(() => this.scheduleReconnect());
    }, delay);
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    for (const l of this.connectionListeners) l(up);
  }

  private onC2D(client: DeviceClient, msg: DeviceMessage): void {
    // MQTT completes on PUBACK; complete() keeps the SDK's bookkeeping and other transports right.
    void client.complete(msg).catch(() => undefined);
    const type: unknown = msg.properties.getValue('type');
    if (type !== undefined && type !== 'command') {
      this.ignoredMessages += 1;
      return;
    }
    const data: unknown = msg.data;
    const payload = Buffer.isBuffer(data) ? data : Buffer.from(String(data));
    for (const l of this.commandListeners) l(payload);
  }

  /** A direct method: its payload is the DroneCommand; the response waits for the agent's CommandResult. */
  private onMethod(method: string, payload: unknown, respond: (status: number, body: unknown) => void): void {
    const cmd = payload as { commandId?: unknown; action?: { kind?: unknown } } | null;
    if (!cmd || typeof cmd !== 'object' || typeof cmd.commandId !== 'string' || cmd.action?.kind !== method) {
      respond(400, { code: 'AGENT_ERR_BAD_COMMAND', message: `method ${method} needs a DroneCommand whose action.kind is "${method}"` });
      return;
    }
    const commandId = cmd.commandId;
    // The same command invoked again while running: the newer call gets the result.
    const earlier = this.pendingMethods.get(commandId);
    if (earlier) {
      clearTimeout(earlier.timer);
      earlier.respond(409, { code: 'AGENT_ERR_BAD_COMMAND', message: `command ${commandId} was invoked again; the newer call answers` });
    }
    const timer = setTimeout(() => this.pendingMethods.delete(commandId), METHOD_ABANDON_MS);
    this.pendingMethods.set(commandId, { respond, timer });
    const body = Buffer.from(JSON.stringify(payload));
    for (const l of this.commandListeners) l(body);
  }
}

/** The agent's version, from its package.json (dist/adapters/ or the bundle's dist/bundle/adapters/ in the package); 'unknown' if not there. */
function agentVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@aerie/edge-agent' && pkg.version) return pkg.version;
    } catch {
      // not there: try the next place
    }
  }
  return 'unknown';
}

/** Uplink options from the agent's configuration; the reported configuration leaves every secret out. */
export function iothubUplinkOptions(config: Readonly<AgentConfig>): IotHubUplinkOptions {
  const { fc } = config;
  return {
    connectionString: config.iothub.connectionString, ca: config.iothub.ca, cert: config.iothub.cert, key: config.iothub.key,
    reported: {
      agentVersion: agentVersion(),
      config: {
        droneId: config.droneId,
        fc: { link: fc.link, ...(fc.link === 'serial' ? { device: fc.device, baudRate: fc.baudRate } : { host: fc.host, port: fc.port }), mavlinkVersion: fc.mavlinkVersion, streamHz: fc.streamHz, signing: fc.signing !== null, record: fc.record !== null },
        publishHz: config.publishHz, publishHzInFlight: config.publishHzInFlight,
        spool: config.spool ? { maxMb: config.spool.maxMb, statusMaxAgeS: config.spool.statusMaxAgeS, eventMaxAgeS: config.spool.eventMaxAgeS } : null,
        commandHmac: config.commandHmacKey !== null,
      },
    },
  };
}
