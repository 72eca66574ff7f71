import { systemClock } from '@aerie/contracts';
import type { AgentConfig } from './config.js';
import { MavlinkFcLink } from './adapters/mavlink-fc.js';
import { MqttUplink } from './adapters/mqtt-uplink.js';
import { connectIotHub } from './start.js';

/**
 * `aerie-agent --check`: the configuration already validated, try both links without flying —
 * only our HEARTBEAT goes to the FC (no stream-rate request, no command) and the MQTT session
 * connects and leaves cleanly. One JSON line per check; true when all passed.
 */
export async function runCheck(config: Readonly<AgentConfig>, print: (line: string) => void, waitMs = config.fc.linkTimeoutMs * 2): Promise<boolean> {
  print(JSON.stringify({ check: 'config', ok: true, droneId: config.droneId, fc: config.fc.link, mqtt: config.mqtt.url }));
  const fcOk = await checkFc(config, print, waitMs);
  const mqttOk = await checkMqtt(config, print, waitMs);
  return fcOk && mqttOk;
}

async function checkFc(config: Readonly<AgentConfig>, print: (line: string) => void, waitMs: number): Promise<boolean> {
  let fc: MavlinkFcLink | null = null;
  try {
    fc = await MavlinkFcLink.open({ ...config.fc, streamHz: 0, record: null }, systemClock);
    let heartbeat: { autopilot: number; vehicleType: number } | null = null;
    fc.onTelemetry((t) => {
      if (t.kind === 'heartbeat') heartbeat = { autopilot: t.autopilot, vehicleType: t.vehicleType };
    });
    const end = Date.now() + waitMs;
    while (!heartbeat && Date.now() < end) {
      fc.sendHeartbeat();
      await new Promise((r) => setTimeout(r, 250));
    }
    const ok = heartbeat !== null;
    print(JSON.stringify({ check: 'fc', ok, ...(ok ? { heartbeat } : { error: `no flight-controller HEARTBEAT within ${waitMs} ms` }), stats: fc.stats() }));
    return ok;
  } catch (err) {
    print(JSON.stringify({ check: 'fc', ok: false, error: err instanceof Error ? err.message : String(err) }));
    return false;
  } finally {
    await fc?.close();
  }
}

async function checkMqtt(config: Readonly<AgentConfig>, print: (line: string) => void, waitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`no CONNACK within ${waitMs} ms`)), waitMs)));
    const connect = config.uplink === 'iothub' ? connectIotHub(config) : MqttUplink.connect(config.droneId, config.mqtt);
    const uplink = await Promise.race([connect, timeout]);
    await uplink.close();
    print(JSON.stringify({ check: config.uplink, ok: true }));
    return true;
  } catch (err) {
    print(JSON.stringify({ check: config.uplink, ok: false, error: err instanceof Error ? err.message : String(err) }));
    return false;
  } finally {
    clearTimeout(timer);
  }
}
