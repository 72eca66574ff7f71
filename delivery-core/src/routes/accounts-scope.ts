import type { Principal } from '../auth.js';
import { DeliveryError } from '../errors.js';
import type { AccountStore } from '../workflow/ports.js';
import type { Account } from '../workflow/records.js';

export const AccountIdParams = {
  type: 'object', required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' } },
} as const;

export const PageQuery = {
  limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
  cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' },
} as const;

/** Opaque keyset cursor over ids. */
export const encodeIdCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
export function decodeIdCursor(c: string | undefined): string | undefined {
  return c === undefined ? undefined : Buffer.from(c, 'base64url').toString('utf8');
}

/**
 * Who may see what belongs to `accountId`: operators and admins (and everyone with auth off)
 * all; a customer its own account; a business its own and its customers'.
 */
export async function maySee(store: AccountStore, p: Principal | null, accountId: string | null): Promise<boolean> {
  if (p === null || p.account === null) return true;
  if (accountId === null) return false;
  if (p.account === accountId) return true;
  if (p.role !== 'business') return false;
  return (await store.getAccount(accountId))?.businessId === p.account;
}

export async function forbidUnlessSees(store: AccountStore, p: Principal | null, accountId: string | null, what: string): Promise<void> {
  if (!(await maySee(store, p, accountId))) throw new DeliveryError('DLV_ERR_FORBIDDEN', 403, `${what} belongs to another account`);
}

/** The accounts a scoped principal sees (its own, and a business's customers); null: all. */
export async function visibleAccounts(store: AccountStore, p: Principal | null): Promise<string[] | null> {
  if (p === null || p.account === null) return null;
  if (p.role !== 'business') return [p.account];
  const customers: Account[] = [];
  for (let after: string | undefined; ;) {
    const page = await store.listAccounts({ businessId: p.account }, { limit: 500, ...(after !== undefined ? { after } : {}) });
    customers.push(...page);
    if (page.length < 500) break;
    after = page.at(-1)!.id;
  }
  return [p.account, ...customers.map((a) => a.id)];
}
