import { DeliveryError } from './errors.js';
import type { FlightProfile } from './domain/eta.js';
import type { AssignmentPolicy } from './domain/assignment.js';

export interface CoreConfig {
  httpHost: string;
  /** 0 = ephemeral. */
  httpPort: number;
  /** SQLite file; ':memory:' for throwaway runs. */
  dbPath: string;
  mqtt: { url: string; username: string; password: string; clientId: string };
  /** How often the scheduler looks at requested deliveries (ms). */
  scheduleEveryMs: number;
  /** The fleet's flight profile, for ETAs and the missions the hub builds. */
  profile: FlightProfile;
  assignment: AssignmentPolicy;
}

export const defaultCoreConfig: Readonly<CoreConfig> = Object.freeze({
  httpHost: '127.0.0.1',
  httpPort: 8080,
  dbPath: '.aerie-data/core/deliveries.sqlite',
  mqtt: { url: 'mqtt://127.0.0.1:1883', username: '', password: '', clientId: 'aerie-core' },
  scheduleEveryMs: 500,
  // Matches the simulator's default multicopter: 12 m/s cruise, 3 m/s climb, 1.5 m/s descent.
  profile: { cruiseSpeedMs: 12, climbRateMs: 3, descentRateMs: 1.5, cruiseAltM: 30, groundDelayS: 5 },
  assignment: { minBatteryPct: 30, maxStatusAgeMs: 10_000 },
});

type Overrides = Partial<Omit<CoreConfig, 'mqtt' | 'profile' | 'assignment'>> & {
  mqtt?: Partial<CoreConfig['mqtt']>; profile?: Partial<FlightProfile>; assignment?: Partial<AssignmentPolicy>;
};

export function coreConfig(o: Overrides = {}): Readonly<CoreConfig> {
  const cfg: CoreConfig = {
    ...defaultCoreConfig, ...o,
    mqtt: { ...defaultCoreConfig.mqtt, ...o.mqtt },
    profile: { ...defaultCoreConfig.profile, ...o.profile },
    assignment: { ...defaultCoreConfig.assignment, ...o.assignment },
  };
  const p = cfg.profile;
  if (!(p.cruiseSpeedMs > 0 && p.climbRateMs > 0 && p.descentRateMs > 0)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'profile speeds must be > 0');
  if (!(p.cruiseAltM >= 5 && p.cruiseAltM <= 120)) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'cruiseAltM must be within 5–120 m');
  if (!Number.isInteger(cfg.httpPort) || cfg.httpPort < 0 || cfg.httpPort > 65535) throw new DeliveryError('DLV_ERR_CONFIG', 500, 'httpPort must be 0–65535');
  return Object.freeze(cfg);
}
