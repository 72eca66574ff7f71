import type { FastifyInstance } from 'fastify';
import type { Clock } from '@aerie/contracts';
import { requireRole, type Principal } from '../auth.js';
import { DeliveryError } from '../errors.js';
import type { AccountStore } from '../workflow/ports.js';
import { sameAccount, type Account } from '../workflow/records.js';
import { AccountIdParams, PageQuery, decodeIdCursor, encodeIdCursor, forbidUnlessSees } from './accounts-scope.js';

export interface AccountsDeps {
  store: AccountStore;
  clock: Clock;
  principal(req: object): Principal | null;
}

const AccountBody = {
  type: 'object', additionalProperties: false, required: ['kind', 'name'],
  properties: {
    kind: { type: 'string', enum: ['business', 'customer'] },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    businessId: AccountIdParams.properties.id,
    status: { type: 'string', enum: ['active', 'suspended'] },
  },
} as const;
interface AccountBodyT { kind: Account['kind']; name: string; businessId?: string; status?: Account['status'] }

const ListQuery = { type: 'object', additionalProperties: false, properties: { business: AccountIdParams.properties.id, ...PageQuery } } as const;

export function accountView(a: Account) {
  return { id: a.id, kind: a.kind, name: a.name, businessId: a.businessId, status: a.status, createdAt: new Date(a.createdAt).toISOString() };
}

/**
 * Accounts: businesses registering with Aerie and their customers. A business key registers its
 * own account and its customers; a customer key its own account; operators and admins any, and
 * only they suspend. The saga's first step checks the delivery owner's account here.
 */
export function registerAccounts(app: FastifyInstance, d: AccountsDeps): void {
  app.put<{ Params: { id: string }; Body: AccountBodyT }>('/api/v1/accounts/:id', {
    schema: { params: AccountIdParams, body: AccountBody }, config: { summary: 'Register an account (idempotent: the same id and body answer the same)' },
  }, async (req, reply) => {
    const p = d.principal(req);
    const id = req.params.id;
    const b = req.body;
    const businessId = b.kind === 'customer' ? (b.businessId ?? (p?.role === 'business' ? p.account : null)) : null;
    if (b.kind === 'business' && b.businessId !== undefined) throw new DeliveryError('DLV_ERR_VALIDATION', 400, 'a business account has no businessId');
    if (p?.account) {
      const own = id === p.account && b.kind === (p.role === 'business' ? 'business' : 'customer');
      const ownCustomer = p.role === 'business' && b.kind === 'customer' && businessId === p.account;
      if (!own && !ownCustomer) throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, `a ${p.role} key may not register account ${id}`);
      if (b.status === 'suspended') throw new DeliveryError('DLV_ERR_ROLE_FORBIDDEN', 403, 'only operators and admins suspend accounts');
    }
    if (businessId !== null) {
      const business = await d.store.getAccount(businessId);
      if (business?.kind !== 'business') throw new DeliveryError('DLV_ERR_ACCOUNT_NOT_FOUND', 422, `business ${businessId} is not registered`);
    }
    const account: Account = { id, kind: b.kind, name: b.name, businessId, status: b.status ?? 'active', createdAt: d.clock.now() };
    if (await d.store.insertAccount(account)) return reply.code(201).header('location', `/api/v1/accounts/${id}`).send(accountView(account));
    const existing = await d.store.getAccount(id);
    if (!existing) throw new DeliveryError('DLV_ERR_INTERNAL', 500, 'insert refused but no row');
    if (!sameAccount(existing, account)) throw new DeliveryError('DLV_ERR_ACCOUNT_CONFLICT', 409, `account ${id} exists with other details`);
    return reply.code(200).header('location', `/api/v1/accounts/${id}`).send(accountView(existing));
  });

  app.get<{ Params: { id: string } }>('/api/v1/accounts/:id', {
    schema: { params: AccountIdParams }, config: { summary: 'One account: its own holder, its business, operators and admins' },
  }, async (req) => {
    const a = await d.store.getAccount(req.params.id);
    if (!a) throw new DeliveryError('DLV_ERR_ACCOUNT_NOT_FOUND', 404, `no account ${req.params.id}`);
    await forbidUnlessSees(d.store, d.principal(req), a.id, `account ${a.id}`);
    return accountView(a);
  });

  app.get<{ Querystring: { business?: string; limit?: string; cursor?: string } }>('/api/v1/accounts', {
    schema: { querystring: ListQuery }, config: { summary: 'List accounts by id with a cursor: a business its customers; operators and admins all' },
  }, async (req) => {
    const p = d.principal(req);
    requireRole(p, ['business', 'operator', 'admin']);
    let business = req.query.business;
    if (p?.role === 'business') {
      if (business !== undefined && business !== p.account) throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, `customers of ${business} belong to another account`);
      business = p.account ?? undefined;
    }
    const limit = Number(req.query.limit ?? 50);
    const after = decodeIdCursor(req.query.cursor);
    const items = await d.store.listAccounts(business !== undefined ? { businessId: business } : {}, { limit, ...(after !== undefined ? { after } : {}) });
    return { items: items.map(accountView), nextCursor: items.length === limit ? encodeIdCursor(items.at(-1)!.id) : null };
  });
}
