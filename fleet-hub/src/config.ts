import { HubError } from './errors.js';

export interface HubConfig {
  /** 'embedded' runs aedes in-process; 'external' attaches to another broker (Mosquitto, EMQX). */
  broker: 'embedded' | 'external';
  /** Embedded broker listen address (port 0 = ephemeral). */
  mqttHost: string;
  mqttPort: number;
  /** External broker URL and the hub's credentials there. */
  externalUrl: string;
  externalUsername: string;
  externalPassword: string;
  /** Device registry file lives here (devices.json). */
  dataDir: string;
  /** Radius of the pickup and dropoff geofences (m). */
  fenceRadiusM: number;
  /** Cap on an accepted MQTT payload (bytes). */
  maxPayloadBytes: number;
}

export const defaultHubConfig: Readonly<HubConfig> = Object.freeze({
  broker: 'embedded',
  mqttHost: '127.0.0.1',
  mqttPort: 1883,
  externalUrl: '',
  externalUsername: '',
  externalPassword: '',
  dataDir: '.aerie-data/hub',
  fenceRadiusM: 15,
  maxPayloadBytes: 64 * 1024,
});

export function hubConfig(overrides: Partial<HubConfig> = {}): Readonly<HubConfig> {
  const cfg: HubConfig = { ...defaultHubConfig, ...overrides };
  if (cfg.broker === 'external' && !cfg.externalUrl) throw new HubError('HUB_ERR_CONFIG', 'external broker needs externalUrl');
  if (!(cfg.fenceRadiusM > 0)) throw new HubError('HUB_ERR_CONFIG', 'fenceRadiusM must be > 0');
  if (!Number.isInteger(cfg.mqttPort) || cfg.mqttPort < 0 || cfg.mqttPort > 65535) throw new HubError('HUB_ERR_CONFIG', 'mqttPort must be 0–65535');
  return Object.freeze(cfg);
}
