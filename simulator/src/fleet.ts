import type { Clock } from '@aerie/contracts';
import type { UdpPeer } from '@aerie/mavlink';
import { displace } from './domain/geo.js';
import type { HomePosition } from './domain/types.js';
import { startSimVehicle, type SimVehicle, type SimVehicleOptions } from './app.js';
import { SimError } from './errors.js';
import type { SimScheduler } from './domain/scheduler.js';

export interface SimFleetOptions {
  /**
   * Number of vehicles, up to 5000. Vehicle i gets sysid i+1 (wrapping after 254: every vehicle
   * has its own socket, so sysids need only be unique per link).
   */
  count: number;
  /** Centre of the grid of homes. */
  home: HomePosition;
  /** Distance between neighbouring homes, m (5). */
  spacingM?: number;
  clock?: Clock;
  host?: string;
  /** Local port for vehicle `index` (0-based); ephemeral ports when absent. */
  portFor?: (index: number) => number;
  /** 'udp' (default) or 'tcp' (a server per vehicle). */
  transport?: 'udp' | 'tcp';
  /** MAVLink 2 signing of everything the vehicles send. */
  signing?: { key: Buffer; linkId?: number } | null;
  /** Fixed ground-station peer for vehicle `index` (UDP); null replies to whoever sent last. */
  peerFor?: (index: number) => UdpPeer | null;
  cruiseSpeedMs?: number;
  streamHz?: number;
  rtlAltM?: number;
  /** Shared by the fleet; the clock's default scheduler when absent. */
  scheduler?: SimScheduler;
}

/** Vehicles one fleet may hold; each is a socket, so the process's file limit applies too. */
export const MAX_FLEET = 5000;

export interface SimFleet {
  readonly vehicles: readonly SimVehicle[];
  stop(): Promise<void>;
}

/** Homes on a square grid centred on `home`, filled row by row from the south-west. */
export function gridHomes(count: number, home: HomePosition, spacingM: number): HomePosition[] {
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  return Array.from({ length: count }, (_, i) => {
    const northM = (Math.floor(i / cols) - (rows - 1) / 2) * spacingM;
    const eastM = ((i % cols) - (cols - 1) / 2) * spacingM;
    return { ...displace(home, { northM, eastM }), altMsl: home.altMsl };
  });
}

/** Starts `count` vehicles; if one fails to start, the ones already running are stopped. */
export async function startSimFleet(opts: SimFleetOptions): Promise<SimFleet> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > MAX_FLEET) {
    throw new SimError('SIM_ERR_OPTIONS', `fleet count must be an integer 1–${MAX_FLEET}, got ${opts.count}`);
  }
  const homes = gridHomes(opts.count, opts.home, opts.spacingM ?? 5);
  const vehicles: SimVehicle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(vehicles.map((v) => v.stop()));
  };
  try {
    for (const [i, home] of homes.entries()) {
      const vehicleOpts: SimVehicleOptions = {
        sysid: (i % 254) + 1,
        home,
        clock: opts.clock,
        host: opts.host,
        port: opts.portFor?.(i) ?? 0,
        peer: opts.peerFor?.(i) ?? null,
        transport: opts.transport,
        signing: opts.signing,
        cruiseSpeedMs: opts.cruiseSpeedMs,
        streamHz: opts.streamHz,
        rtlAltM: opts.rtlAltM,
        scheduler: opts.scheduler,
      };
      vehicles.push(await startSimVehicle(vehicleOpts));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { vehicles, stop };
}
