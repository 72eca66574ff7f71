import type { FastifyInstance } from 'fastify';
import type { Clock, DroneStatus } from '@aerie/contracts';
import { isAvailable, type AssignmentPolicy } from '../domain/assignment.js';
import type { Delivery } from '../domain/delivery.js';
import type { Airframe, DroneRegistration } from '../config.js';
import { requireRole, type Principal, type Role } from '../auth.js';
import { DeliveryError } from '../errors.js';

/**
 * The fleet is an operations view: where each drone is, its battery, what it flies. Customers
 * and businesses see their own deliveries (and a delivery's drone position through them), not
 * the fleet.
 */
export const DRONE_ROLES: readonly Role[] = ['operator', 'admin'];
const STATES = ['offline', 'available', 'busy', 'unavailable'] as const;
type DroneState = (typeof STATES)[number];

export interface DronesDeps {
  registry: readonly DroneRegistration[];
  /** What the planner assumes of a drone the registry does not list. */
  airframe: Readonly<Airframe>;
  policy: Readonly<AssignmentPolicy>;
  clock: Clock;
  /** The latest DroneStatus of each drone heard from. */
  statuses(): ReadonlyMap<string, DroneStatus>;
  /** Deliveries holding a drone (Scheduled … HeadedToDropoff). */
  active(): Promise<Delivery[]>;
  principal(req: object): Principal | null;
}

const DroneIdParams = {
  type: 'object', required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' } },
} as const;
const ListQuery = {
  type: 'object', additionalProperties: false,
  properties: { state: { type: 'string', enum: [...STATES] } },
} as const;

function view(id: string, reg: DroneRegistration | undefined, s: DroneStatus | undefined, delivery: string | null, d: DronesDeps, now: number) {
  const stale = !s || now - s.ts > d.policy.maxStatusAgeMs || !s.link.fcConnected;
  const state: DroneState = stale ? 'offline' : delivery ? 'busy' : isAvailable(s, now, d.policy) ? 'available' : 'unavailable';
  return {
    id,
    registered: reg !== undefined,
    airframe: reg?.airframe ?? null,
    limits: { maxPayloadKg: reg?.maxPayloadKg ?? d.airframe.maxPayloadKg, maxRangeM: reg?.maxRangeM ?? d.airframe.maxRangeM },
    home: reg?.home ?? null,
    state,
    currentDelivery: delivery,
    live: s ? {
      lastSeen: new Date(s.ts).toISOString(),
      position: s.position ? { lat: s.position.lat, lon: s.position.lon, altRel: s.position.altRel } : null,
      groundSpeedMs: s.groundSpeed, headingDeg: s.heading,
      batteryPct: s.battery.pct, flightMode: s.flightMode, landedState: s.landedState, armed: s.armed,
      failsafe: s.health.failsafe,
    } : null,
  };
}

/** `GET /api/v1/drones` and `/api/v1/drones/{id}`: the registry joined with each drone's live state. */
export function registerDrones(app: FastifyInstance, d: DronesDeps): void {
  const byId = new Map(d.registry.map((r) => [r.id, r]));
  const snapshot = async () => {
    const holding = new Map<string, string>();
    for (const del of await d.active()) if (del.droneId) holding.set(del.droneId, del.id);
    return { holding, statuses: d.statuses(), now: d.clock.now() };
  };

  app.get<{ Querystring: { state?: DroneState } }>('/api/v1/drones', {
    schema: { querystring: ListQuery }, config: { summary: 'The drone registry (airframe, payload and range limits, home) with live state; operators and admins' },
  }, async (req) => {
    requireRole(d.principal(req), DRONE_ROLES);
    const { holding, statuses, now } = await snapshot();
    // Registered drones, and drones heard from that the registry does not list (flown with the default airframe).
    const ids = [...new Set([...byId.keys(), ...statuses.keys()])].sort();
    const items = ids.map((id) => view(id, byId.get(id), statuses.get(id), holding.get(id) ?? null, d, now));
    return { items: req.query.state ? items.filter((i) => i.state === req.query.state) : items };
  });

  app.get<{ Params: { id: string } }>('/api/v1/drones/:id', {
    schema: { params: DroneIdParams }, config: { summary: 'One drone: registry entry and live state; operators and admins' },
  }, async (req) => {
    requireRole(d.principal(req), DRONE_ROLES);
    const { holding, statuses, now } = await snapshot();
    const id = req.params.id;
    if (!byId.has(id) && !statuses.has(id)) throw new DeliveryError('DLV_ERR_DRONE_NOT_FOUND', 404, `no drone ${id}`);
    return view(id, byId.get(id), statuses.get(id), holding.get(id) ?? null, d, now);
  });
}
