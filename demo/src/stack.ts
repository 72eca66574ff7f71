import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '@aerie/contracts';
import { FleetHub, MemoryDeviceRegistry, hubConfig, type DeviceRegistry } from '@aerie/fleet-hub';
import { startEdgeAgent, agentConfig, type RunningAgent } from '@aerie/edge-agent';
import { startDeliveryCore, coreConfig, type CoreConfig, type RunningCore } from '@aerie/delivery-core';
import { defineConfig as telemetryConfig, startTelemetry, type TelemetryApp } from '@aerie/telemetry';
import { startSimVehicle, WarpClock, type SimVehicle } from '@aerie/simulator';

export interface Credentials {
  username: string;
  password: string;
}

/** Where the fleet's MQTT lives: fleet-hub's own aedes, or a broker we did not write. */
export type BrokerChoice =
  | { kind: 'embedded'; port?: number }
  | { kind: 'external'; url: string; hub: Credentials; core: Credentials; telemetry: Credentials; drone: (droneId: string) => Credentials };

export interface StackOptions {
  drones: number;
  /** Virtual-time factor for the simulated fleet and every service's timers (1 = real time). */
  speedup: number;
  home: { lat: number; lon: number; altMsl: number };
  broker: BrokerChoice;
  /** Durable state (deliveries, telemetry history); null keeps everything in memory. */
  dataDir: string | null;
  httpPort?: number;
  telemetryPort?: number;
  log?: (line: string) => void;
  /** delivery-core's scheduling settings (no-fly zones and their margin, …); its defaults otherwise. */
  scheduling?: Partial<CoreConfig['scheduling']>;
}

export interface RunningStack {
  clock: Clock;
  hub: FleetHub;
  core: RunningCore;
  telemetry: TelemetryApp;
  telemetryUrl: string;
  agents: RunningAgent[];
  vehicles: SimVehicle[];
  droneIds: string[];
  mqttUrl: string;
  stop(): Promise<void>;
}

/** Drone homes on a grid 20 m apart around the depot, as a real launch pad row would be. */
function homeOf(i: number, home: StackOptions['home']): StackOptions['home'] {
  const dLat = ((i % 5) * 20) / 111_320;
  const dLon = (Math.floor(i / 5) * 20) / (111_320 * Math.cos((home.lat * Math.PI) / 180));
  return { lat: home.lat + dLat, lon: home.lon + dLon, altMsl: home.altMsl };
}

/**
 * Boots the whole loop in one process, every hop real: fleet-hub with its broker, telemetry,
 * delivery-core, and per drone a simulated flight controller on UDP MAVLink with its own edge
 * agent on MQTT.
 */
export async function startStack(o: StackOptions): Promise<RunningStack> {
  const log = o.log ?? ((line: string) => console.log(line));
  const clock: Clock = o.speedup === 1 ? systemClock : new WarpClock({ speedup: o.speedup });
  if (o.dataDir) mkdirSync(o.dataDir, { recursive: true });
  const droneIds = Array.from({ length: o.drones }, (_, i) => `drone-${String(i + 1).padStart(3, '0')}`);
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };

  try {
    let droneCreds: (id: string) => Credentials;
    let coreCreds: Credentials;
    let telemetryCreds: Credentials;
    let hub: FleetHub;
    if (o.broker.kind === 'embedded') {
      // The simulated drones and the services are enrolled afresh on every start, so their
      // credentials live in memory; an operator's fleet uses `aerie-hub device add` and a file.
      const registry: DeviceRegistry = new MemoryDeviceRegistry();
      const secrets = new Map<string, string>();
      const enrol = async (id: string, role: 'drone' | 'service') => {
        const { secret } = await registry.add(id, role);
        secrets.set(id, secret);
      };
      for (const id of droneIds) await enrol(id, 'drone');
      await enrol('svc-core', 'service');
      await enrol('svc-telemetry', 'service');
      droneCreds = (id) => ({ username: id, password: secrets.get(id) ?? '' });
      coreCreds = { username: 'svc-core', password: secrets.get('svc-core') ?? '' };
      telemetryCreds = { username: 'svc-telemetry', password: secrets.get('svc-telemetry') ?? '' };
      hub = await FleetHub.start(hubConfig({ broker: 'embedded', mqttPort: o.broker.port ?? 0, dataDir: o.dataDir ?? '.' }), { clock, log, registry });
    } else {
      const b = o.broker;
      droneCreds = b.drone;
      coreCreds = b.core;
      telemetryCreds = b.telemetry;
      hub = await FleetHub.start(
        hubConfig({ broker: 'external', externalUrl: b.url, externalUsername: b.hub.username, externalPassword: b.hub.password }),
        { clock, log, registry: new MemoryDeviceRegistry() },
      );
    }
    stoppers.push(() => hub.close());
    const mqttUrl = hub.mqttUrl;

    const telemetry = await startTelemetry(
      telemetryConfig({
        mqttUrl, mqttUsername: telemetryCreds.username, mqttPassword: telemetryCreds.password, clientId: `svc-telemetry-${randomBytes(3).toString('hex')}`,
        dbPath: o.dataDir ? join(o.dataDir, 'telemetry.sqlite') : ':memory:', httpHost: '127.0.0.1', httpPort: o.telemetryPort ?? 0,
      }),
      { clock },
    );
    stoppers.push(() => telemetry.close());

    const agents: RunningAgent[] = [];
    const vehicles: SimVehicle[] = [];
    for (const [i, droneId] of droneIds.entries()) {
      const creds = droneCreds(droneId);
      const agent = await startEdgeAgent(
        agentConfig({ droneId, fc: { port: 0 }, mqtt: { url: mqttUrl, username: creds.username, password: creds.password } }),
        { clock },
      );
      stoppers.push(() => agent.stop());
      agents.push(agent);
      const vehicle = await startSimVehicle({
        sysid: i + 1, home: homeOf(i, o.home), clock, host: '127.0.0.1', port: 0, peer: { address: '127.0.0.1', port: agent.fcPort },
      });
      stoppers.push(() => vehicle.stop());
      vehicles.push(vehicle);
    }

    // The core comes last: on start it re-publishes the assignments of deliveries still under way
    // (from the data dir of an earlier run), and the hub's mission commands must find the drones
    // connected, since a new broker holds no queued messages for them.
    const core = await startDeliveryCore(
      coreConfig({
        httpPort: o.httpPort ?? 0,
        dbPath: o.dataDir ? join(o.dataDir, 'deliveries.sqlite') : ':memory:',
        mqtt: { url: mqttUrl, username: coreCreds.username, password: coreCreds.password, clientId: 'svc-core' },
        ...(o.scheduling ? { scheduling: o.scheduling } : {}),
      }),
      { clock, log },
    );
    stoppers.push(() => core.close());
    return { clock, hub, core, telemetry, telemetryUrl: `http://127.0.0.1:${telemetry.port}`, agents, vehicles, droneIds, mqttUrl, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
