import type { FastifyInstance } from 'fastify';
import type { Delivery, StageChange } from '../domain/delivery.js';
import type { AssignmentView } from '../domain/scheduler.js';
import type { Principal } from '../auth.js';

export interface AssignmentDeps {
  explanation(id: string): AssignmentView | null;
  find(req: { params: { id: string } }): Promise<{ delivery: Delivery; history: StageChange[] }>;
  principal(req: object): Principal | null;
}

/**
 * GET /api/v1/deliveries/{id}/assignment: why the scheduler's latest pass chose this drone (or
 * none) — the chosen trip's cost in parts, the constraints that ruled drones out, and for the
 * top alternatives why each lost. A customer or business sees which drone lost and why, but not
 * which other delivery took it (another tenant's id).
 */
export function registerAssignment(app: FastifyInstance, idParams: object, d: AssignmentDeps): void {
  app.get<{ Params: { id: string } }>('/api/v1/deliveries/:id/assignment', {
    schema: { params: idParams }, config: { summary: 'Why this drone: the assignment, its cost breakdown, and why the alternatives lost' },
  }, async (req) => {
    const { delivery } = await d.find(req);
    const e = d.explanation(delivery.id);
    const tenant = d.principal(req)?.account !== undefined && d.principal(req)?.account !== null;
    const explanation = e && tenant ? { ...e, alternatives: e.alternatives.map(({ takenBy: _hidden, ...a }) => a) } : e;
    return { deliveryId: delivery.id, stage: delivery.stage, droneId: delivery.droneId, explanation };
  });
}
