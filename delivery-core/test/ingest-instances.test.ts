import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, DeliveryService, FileLogQueue, MemoryFleetLink, PostgresDeliveryRepository, buildHttp, coreConfig } from '../src/index.js';
import { startPostgres, type RunningPostgres } from '../../test-support/postgres.js';

// Issue 7: idempotent creates with two core instances on one PostgreSQL table, each with its own
// ingestion log (as README "Scaling out" runs them). A retry that lands on the other instance
// answers the same delivery or its conflict; a conflicting pair accepted by both in the same
// moment is reported at the drain (DLV_ERR_ID_CONFLICT_LATE, counted), never dropped silently.
const dir = mkdtempSync(join(tmpdir(), 'aerie-instances-'));
let postgres: RunningPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const body = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const other = { pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.402, lon: 8.551 } };

async function instance(url: string, name: string, drainEveryMs: number) {
  const config = coreConfig({ databaseUrl: url, ingest: { dir: join(dir, name), drainEveryMs } });
  const repo = new PostgresDeliveryRepository(url);
  const queue = new FileLogQueue(join(dir, name));
  const service = new DeliveryService(repo, new MemoryFleetLink(), config, undefined, undefined, {}, queue);
  const errors: unknown[] = [];
  service.onError = (err) => errors.push(err);
  const app = buildHttp(service);
  await service.start();
  const put = (id: string, payload: object) => app.inject({ method: 'PUT', url: `/api/v1/deliveries/${id}`, payload });
  return {
    service, repo, put, errors,
    async close() {
      service.stop();
      await app.close();
      await service.ingestion!.stop();
      await service.workflow.stop();
      await queue.close();
      await repo.close();
    },
  };
}

describe('two core instances on one PostgreSQL table', () => {
  it('a retry on the other instance is the same delivery, another body there a 409', async () => {
    const url = await postgres.createDatabase();
    const a = await instance(url, 'a1', 20);
    const b = await instance(url, 'b1', 20);
    try {
      expect(a.service.config.ingest.sharedTable).toBe(true);
      expect((await a.put('x1', body)).statusCode).toBe(202);
      await expect.poll(async () => (await a.repo.get('x1')) !== null, { timeout: 10_000 }).toBe(true);
      const again = await b.put('x1', body);
      expect(again.statusCode).toBe(202);
      expect(again.json()).toMatchObject({ id: 'x1', correlationId: (await a.repo.get('x1'))!.correlationId });
      // Answered from the table: nothing was queued on b.
      expect(b.service.ingestion!.size).toBe(0);
      const conflict = await b.put('x1', other);
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json()).toMatchObject({ code: 'DLV_ERR_ID_CONFLICT' });
      expect(a.errors.concat(b.errors)).toEqual([]);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a conflicting pair both accepted before either drained is reported at the drain, and the same pair is one delivery', async () => {
    const url = await postgres.createDatabase();
    // Drainers that wait: both requests are on the instances' logs before either reaches the table.
    const a = await instance(url, 'a2', 60_000);
    const b = await instance(url, 'b2', 60_000);
    try {
      expect((await a.put('x2', body)).statusCode).toBe(202);
      expect((await b.put('x2', other)).statusCode).toBe(202);
      expect((await a.put('x3', body)).statusCode).toBe(202);
      expect((await b.put('x3', body)).statusCode).toBe(202);
      await a.service.materialize('x2');
      await a.service.materialize('x3');
      await b.service.materialize('x2');
      await b.service.materialize('x3');
      expect((await a.repo.get('x2'))?.dropoff).toEqual(body.dropoff);
      expect(b.service.ingestion!.stats.lateConflicts).toBe(1);
      expect(b.errors).toHaveLength(1);
      expect(b.errors[0]).toBeInstanceOf(DeliveryError);
      expect(b.errors[0]).toMatchObject({ code: 'DLV_ERR_ID_CONFLICT_LATE' });
      expect(String((b.errors[0] as Error).message)).toContain('x2');
      // The same request from both: one delivery, no report.
      expect(a.service.ingestion!.stats.lateConflicts).toBe(0);
      expect(a.errors).toEqual([]);
      expect((await a.service.get('x3')).history.filter((h) => h.stage === 'Requested')).toHaveLength(1);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
