import { decodeMessage, encodeMessage, parseFleetTopic, type DroneCommand } from '@aerie/contracts';
import { IotHubEndpoint, type IotRefusal, type MethodResult } from './iothub-endpoint.js';
import { IotServiceApi } from './iothub-http.js';
import type { DeviceRegistry } from './device-registry.js';
import type { HubConfig } from '../config.js';
import type { HubLogger } from '../hub-counters.js';

/** What the IoT Hub side needs from the hub: its intake and its refusal counter. */
export interface IotHubSink {
  ingest(droneId: string, channel: string, payload: Buffer): void;
  refused(r: IotRefusal & { log?: boolean }): void;
}

/**
 * The IoT Hub-compatible endpoint attached to a FleetHub: device telemetry enters the hub's
 * ingest exactly as MQTT-native messages do (same channels, same pipeline); commands for
 * IoT Hub devices leave as cloud-to-device messages; a service API (iothub-http.ts) reads twins
 * and invokes direct methods, whose CommandResults also enter the pipeline.
 */
export class IotHubAttachment {
  private constructor(readonly endpoint: IotHubEndpoint, private readonly api: IotServiceApi | null, private readonly registry: DeviceRegistry, private readonly sink: IotHubSink) {}

  static async start(config: Readonly<HubConfig>, registry: DeviceRegistry, sink: IotHubSink, log: HubLogger, now: () => number): Promise<IotHubAttachment> {
    let self: IotHubAttachment | null = null;
    const endpoint = await IotHubEndpoint.start({
      host: config.mqttHost, port: config.iothubPort ?? 0, certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, caFile: config.tlsCaFile,
      hostName: config.iothubHostName, registry, now, log,
      limits: { maxPayloadBytes: config.maxPayloadBytes, msgPerSec: config.droneMsgPerSec, burst: config.droneBurst },
      maxQueuedC2D: config.iothubMaxQueuedC2D, c2dTtlMs: config.iothubC2dTtlMs, stateDir: config.iothubStateDir,
      onTelemetry: (id, channel, payload) => sink.ingest(id, channel, payload),
      onOnline: (id, online) => sink.ingest(id, 'online', Buffer.from(String(online))),
      onRefusal: (r) => {
        sink.refused({ ...r, log: false });
        if (r.log !== false) log(`hub refused ${r.code} (${r.reason}) on iothub client=${r.clientId} principal=${r.principal ?? '-'} topic=${r.topic ?? '-'}`, { code: r.code, reason: r.reason, clientId: r.clientId, droneId: r.principal, topic: r.topic });
      },
    });
    let api: IotServiceApi | null = null;
    try {
      if (config.iothubHttpPort !== null) {
        api = await IotServiceApi.start(config.mqttHost, config.iothubHttpPort, registry, {
          twin: (id) => ({ ...endpoint.twin(id), connectionState: endpoint.isConnected(id) ? 'Connected' : 'Disconnected' }),
          devices: () => registry.list().filter((d) => d.role === 'drone').map((d) => d.id),
          invoke: (id, method, payload, timeoutMs) => self!.invoke(id, method, payload, timeoutMs),
          updateDesired: (id, patch) => endpoint.updateDesired(id, patch),
        });
      }
    } catch (err) {
      await endpoint.close();
      throw err;
    }
    self = new IotHubAttachment(endpoint, api, registry, sink);
    return self;
  }

  /** Base URL of the service API ('' when off). */
  get apiUrl(): string {
    return this.api ? this.api.url : '';
  }

  /**
   * Takes a hub publication that is a command for an IoT Hub device and queues it as a
   * cloud-to-device message; false = not ours. IoT Hub devices are those the registry marks
   * (a symmetric key, or `--auth x509`), so their commands queue before they ever connect, and
   * any device that has connected here (remembered across restarts). The command's commandId is
   * the message id: a command sent again while the first is queued or delivered is not queued twice.
   */
  takeCommand(topic: string, payload: string | Buffer): boolean {
    const t = parseFleetTopic(topic);
    if (!t || t.channel !== 'cmd') return false;
    if (!this.endpoint.knows(t.droneId) && !this.registry.list().some((d) => d.id === t.droneId && (d.symmetricKey || d.x509))) return false;
    const body = Buffer.from(payload);
    const cmd = decodeMessage('DroneCommand', body);
    this.endpoint.sendC2D(t.droneId, body, { type: 'command', '$.ct': 'application/json', '$.ce': 'utf-8' }, cmd.ok ? cmd.value.commandId : undefined);
    return true;
  }

  /** A DroneCommand as a direct method named after its kind; the CommandResult also enters the pipeline. */
  invokeCommand(cmd: DroneCommand, timeoutMs: number): Promise<MethodResult> {
    return this.invoke(cmd.droneId, cmd.action.kind, JSON.parse(encodeMessage(cmd)) as unknown, timeoutMs);
  }

  async invoke(deviceId: string, method: string, payload: unknown, timeoutMs: number): Promise<MethodResult> {
    const r = await this.endpoint.invokeMethod(deviceId, method, payload, timeoutMs);
    if (r.status === 200 && typeof r.payload === 'object' && r.payload !== null) {
      const body = JSON.stringify(r.payload);
      if (decodeMessage('CommandResult', body).ok) this.sink.ingest(deviceId, 'cmd/result', Buffer.from(body));
    }
    return r;
  }

  disconnect(deviceId: string): void {
    this.endpoint.disconnect(deviceId);
  }

  async close(): Promise<void> {
    await this.api?.close();
    await this.endpoint.close();
  }
}
