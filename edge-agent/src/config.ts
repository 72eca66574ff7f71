import { AgentError } from './errors.js';

export interface AgentConfig {
  droneId: string;
  fc: {
    /** Local UDP address the agent listens on for the flight controller. */
    host: string;
    port: number;
    /** Fixed flight-controller address; null learns it from the first datagram and replies there. */
    peer: { address: string; port: number } | null;
    /** Our own MAVLink identity: companion computer (MAV_COMP_ID_ONBOARD_COMPUTER = 191). */
    sysid: number;
    compid: number;
    /** Link declared lost after this long without an FC heartbeat (ms). */
    linkTimeoutMs: number;
    /** Per-attempt wait for COMMAND_ACK / mission requests (ms). */
    ackTimeoutMs: number;
  };
  mqtt: { url: string; username: string; password: string };
  /** DroneStatus publications per second. */
  publishHz: number;
}

export const defaultAgentConfig = {
  fc: { host: '127.0.0.1', port: 14550, peer: null, sysid: 1, compid: 191, linkTimeoutMs: 3000, ackTimeoutMs: 1000 },
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: '', password: '' },
  publishHz: 2,
} as const;

type Overrides = { droneId: string } & { fc?: Partial<AgentConfig['fc']>; mqtt?: Partial<AgentConfig['mqtt']>; publishHz?: number };

/** Merges overrides onto the defaults, validates once and freezes. */
export function agentConfig(overrides: Overrides): Readonly<AgentConfig> {
  const cfg: AgentConfig = {
    droneId: overrides.droneId,
    fc: { ...defaultAgentConfig.fc, ...overrides.fc },
    mqtt: { ...defaultAgentConfig.mqtt, ...overrides.mqtt },
    publishHz: overrides.publishHz ?? defaultAgentConfig.publishHz,
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(cfg.droneId)) throw new AgentError('AGENT_ERR_CONFIG', `droneId "${cfg.droneId}" is not a valid id`);
  if (!(cfg.publishHz > 0 && cfg.publishHz <= 50)) throw new AgentError('AGENT_ERR_CONFIG', 'publishHz must be in (0, 50]');
  if (!Number.isInteger(cfg.fc.port) || cfg.fc.port < 0 || cfg.fc.port > 65535) throw new AgentError('AGENT_ERR_CONFIG', 'fc.port must be 0–65535');
  return Object.freeze({ ...cfg, fc: Object.freeze(cfg.fc), mqtt: Object.freeze(cfg.mqtt) });
}
