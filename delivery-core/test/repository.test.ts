import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryDeliveryRepository, SqliteDeliveryRepository } from '../src/index.js';
import { newDelivery, repositoryContract } from './repository-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'aerie-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

repositoryContract('memory', () => new MemoryDeliveryRepository());
repositoryContract('sqlite', () => new SqliteDeliveryRepository(join(dir, `c${++n}.sqlite`)));

describe('SqliteDeliveryRepository', () => {
  it('survives close and reopen: state is durable', async () => {
    const path = join(dir, 'durable.sqlite');
    const a = new SqliteDeliveryRepository(path);
    await a.insert(newDelivery('d1'), { stage: 'Requested', at: 1000, eventId: 'd1:r' });
    await a.advance('d1', { stage: 'Scheduled', at: 2000, eventId: 'd1:s' }, { droneId: 'drone-003', eta: 5000 });
    await a.close();
    const b = new SqliteDeliveryRepository(path);
    expect(await b.get('d1')).toMatchObject({ stage: 'Scheduled', droneId: 'drone-003', eta: 5000 });
    expect(await b.history('d1')).toHaveLength(2);
    await b.close();
  });
});
