import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '@aerie/contracts';
import { SqlWorkflowStore } from '../src/adapters/outbox-sql.js';
import type { WorkflowDatabase } from '../src/adapters/outbox-schema.js';
import { openPostgres } from '../src/adapters/sql/postgres.js';
import { begin, type SagaDefinition } from '../src/domain/saga.js';
import { SagaRunner } from '../src/workflow/saga-runner.js';
import { coreConfig } from '../src/config.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';

// Issue 8, several core instances: the saga lease on Debian's PostgreSQL — one owner at a time,
// taken over once expired, given back at shutdown — and two runners on one database: a saga's
// steps run once each, by the lease holder (without the lease both ran them).

let postgres: RunningPostgres;
const opened: SqlWorkflowStore[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await postgres?.stop();
});

async function store(url: string): Promise<SqlWorkflowStore> {
  const s = await SqlWorkflowStore.open(openPostgres(url, 5) as unknown as Kysely<WorkflowDatabase>, 'postgres', true);
  opened.push(s);
  return s;
}

describe('saga leases on PostgreSQL', () => {
  it('one owner at a time; another takes it once expired; released at shutdown', async () => {
    const s = await store(await postgres.createDatabase());
    expect(await s.claimSaga('d1', 'core-a', 1000, 3000)).toBe(true);
    expect(await s.claimSaga('d1', 'core-b', 2000, 4000)).toBe(false);
    // Renewed by its owner.
    expect(await s.claimSaga('d1', 'core-a', 2500, 4500)).toBe(true);
    expect(await s.claimSaga('d1', 'core-b', 4000, 6000)).toBe(false);
    // Expired: the other instance takes it over.
    expect(await s.claimSaga('d1', 'core-b', 4600, 6600)).toBe(true);
    expect(await s.claimSaga('d1', 'core-a', 4700, 6700)).toBe(false);
    await s.releaseSagas('core-b');
    expect(await s.claimSaga('d1', 'core-a', 4800, 6800)).toBe(true);
  });

  it('claimed at once by ten instances: exactly one gets it', async () => {
    const url = await postgres.createDatabase();
    const stores = await Promise.all(Array.from({ length: 10 }, () => store(url)));
    const won = await Promise.all(stores.map((s, k) => s.claimSaga('d2', `core-${k}`, 1000, 5000)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('two runners on one database drive a saga\'s steps once each, the lease holder\'s', async () => {
    const url = await postgres.createDatabase();
    const ran: string[] = [];
    const def: SagaDefinition<null> = {
      kind: 'lease-test',
      steps: ['one', 'two', 'three'].map((name) => ({
        name,
        execute: async () => {
          ran.push(name);
          // Long enough that the other runner comes while it runs.
          await new Promise((r) => setTimeout(r, 50));
          return {};
        },
      })),
      onFailed: () => Promise.resolve(),
      failedEvents: () => [],
      backoff: { baseMs: 100, capMs: 1000 },
    };
    const clock: Clock = systemClock;
    const lease = (owner: string) => ({ lease: { owner, ms: coreConfig().workflow.sagaLeaseMs } });
    const [sa, sb] = [await store(url), await store(url)];
    const a = new SagaRunner(def, sa, null, clock, lease('core-a'));
    const b = new SagaRunner(def, sb, null, clock, lease('core-b'));
    await sa.createSaga(begin('lease-test', 's1', {}, clock.now()));
    await Promise.all([a.run('s1', { now: true }), b.run('s1', { now: true }), a.run('s1', { now: true }), b.run('s1', { now: true })]);
    expect(ran).toEqual(['one', 'two', 'three']);
    expect((await sa.getSaga('s1'))?.status).toBe('completed');
    expect(a.stats.notOwned + b.stats.notOwned).toBeGreaterThan(0);
  });

  it('the configuration refuses a lease under a second and an instance id that is not a name', () => {
    expect(() => coreConfig({ workflow: { sagaLeaseMs: 10 } })).toThrow(/sagaLeaseMs/);
    expect(() => coreConfig({ workflow: { instanceId: 'a/b' } })).toThrow(/instanceId/);
    expect(() => coreConfig({ mqtt: { trackingShareGroup: 'a/+' } })).toThrow(/trackingShareGroup/);
    expect(coreConfig({ workflow: { instanceId: 'delivery-core-1' } }).workflow.instanceId).toBe('delivery-core-1');
  });
});
