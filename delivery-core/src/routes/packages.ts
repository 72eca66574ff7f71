import type { FastifyInstance } from 'fastify';
import type { Clock } from '@aerie/contracts';
import type { Principal } from '../auth.js';
import { DeliveryError } from '../errors.js';
import type { AccountStore, PackageStore } from '../workflow/ports.js';
import { PACKAGE_SIZES, samePackage, type Package } from '../workflow/records.js';
import { AccountIdParams, PageQuery, decodeIdCursor, encodeIdCursor, forbidUnlessSees, maySee, visibleAccounts } from './accounts-scope.js';

export interface PackagesDeps {
  store: AccountStore & PackageStore;
  clock: Clock;
  principal(req: object): Principal | null;
  /** The owner of a delivery, or undefined when there is none with this id. */
  deliveryOwner(id: string): Promise<string | null | undefined>;
}

const PackageBody = {
  type: 'object', additionalProperties: false, required: ['size', 'weightKg'],
  properties: {
    size: { type: 'string', enum: [...PACKAGE_SIZES] },
    // Above any airframe's payload is still a valid package: the saga fails it with DLV_SAGA_NO_DRONE_FITS.
    weightKg: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    tag: { type: 'string', minLength: 1, maxLength: 128 },
    owner: AccountIdParams.properties.id,
    /** The delivery that will carry it; its saga uses this package instead of a default one. */
    deliveryId: AccountIdParams.properties.id,
  },
} as const;
interface PackageBodyT { size: Package['size']; weightKg: number; tag?: string; owner?: string; deliveryId?: string }

const ListQuery = { type: 'object', additionalProperties: false, properties: { owner: AccountIdParams.properties.id, ...PageQuery } } as const;

export function packageView(p: Package) {
  return { id: p.id, owner: p.owner, size: p.size, weightKg: p.weightKg, tag: p.tag, deliveryId: p.deliveryId, createdAt: new Date(p.createdAt).toISOString() };
}

/** Packages (size, weight, tag), owned by an account and seen by whoever sees that account. */
export function registerPackages(app: FastifyInstance, d: PackagesDeps): void {
  app.put<{ Params: { id: string }; Body: PackageBodyT }>('/api/v1/packages/:id', {
    schema: { params: AccountIdParams, body: PackageBody }, config: { summary: 'Register a package (idempotent: the same id and body answer the same)' },
  }, async (req, reply) => {
    const p = d.principal(req);
    const b = req.body;
    const owner = b.owner ?? p?.account ?? null;
    await forbidUnlessSees(d.store, p, owner, `owner ${owner}`);
    if (owner !== null && !(await d.store.getAccount(owner))) throw new DeliveryError('DLV_ERR_ACCOUNT_NOT_FOUND', 422, `owner ${owner} is not registered`);
    if (b.deliveryId !== undefined) {
      const deliveryOwner = await d.deliveryOwner(b.deliveryId);
      if (deliveryOwner !== undefined && deliveryOwner !== owner) throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, `delivery ${b.deliveryId} belongs to another account`);
    }
    const pkg: Package = { id: req.params.id, owner, size: b.size, weightKg: b.weightKg, tag: b.tag ?? null, deliveryId: null, createdAt: d.clock.now() };
    const created = await d.store.insertPackage(pkg);
    const existing = created ? pkg : await d.store.getPackage(pkg.id);
    if (!existing) throw new DeliveryError('DLV_ERR_INTERNAL', 500, 'insert refused but no row');
    if (!samePackage(existing, pkg)) throw new DeliveryError('DLV_ERR_PACKAGE_CONFLICT', 409, `package ${pkg.id} exists with other details`);
    if (b.deliveryId !== undefined && existing.deliveryId !== b.deliveryId) {
      const bound = await d.store.packageOfDelivery(b.deliveryId);
      if ((bound && bound.id !== pkg.id) || !(await d.store.bindPackage(pkg.id, b.deliveryId))) {
        throw new DeliveryError('DLV_ERR_PACKAGE_CONFLICT', 409, `package ${pkg.id} or delivery ${b.deliveryId} is already bound`);
      }
    }
    const now = await d.store.getPackage(pkg.id);
    return reply.code(created ? 201 : 200).header('location', `/api/v1/packages/${pkg.id}`).send(packageView(now ?? existing));
  });

  app.get<{ Params: { id: string } }>('/api/v1/packages/:id', {
    schema: { params: AccountIdParams }, config: { summary: 'One package' },
  }, async (req) => {
    const pkg = await d.store.getPackage(req.params.id);
    if (!pkg) throw new DeliveryError('DLV_ERR_PACKAGE_NOT_FOUND', 404, `no package ${req.params.id}`);
    await forbidUnlessSees(d.store, d.principal(req), pkg.owner, `package ${pkg.id}`);
    return packageView(pkg);
  });

  app.get<{ Querystring: { owner?: string; limit?: string; cursor?: string } }>('/api/v1/packages', {
    schema: { querystring: ListQuery }, config: { summary: 'List packages by id with a cursor, of the accounts the caller sees' },
  }, async (req) => {
    const p = d.principal(req);
    const q = req.query;
    if (q.owner !== undefined && !(await maySee(d.store, p, q.owner))) throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, `packages of ${q.owner} belong to another account`);
    const owners = q.owner !== undefined ? [q.owner] : await visibleAccounts(d.store, p);
    const limit = Number(q.limit ?? 50);
    const after = decodeIdCursor(q.cursor);
    const items = await d.store.listPackages(owners ? { owners } : {}, { limit, ...(after !== undefined ? { after } : {}) });
    return { items: items.map(packageView), nextCursor: items.length === limit ? encodeIdCursor(items.at(-1)!.id) : null };
  });
}
