#!/usr/bin/env node
/**
 * The process test/ingest-crash.test.ts kills with SIGKILL in the middle of appends: delivery-core's
 * service with its ingestion queue (the data dir's log) drained into a SQLite file, taking creates
 * from `--clients` concurrent callers as fast as it can. Prints each id once its create has
 * resolved (durable: the API would have answered 202), one per line.
 *
 * Usage: node delivery-core/dist/bench/ingest-writer.js --data-dir DIR [--clients N]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileLogQueue } from '../adapters/file-log-queue.js';
import { MemoryFleetLink } from '../adapters/memory-fleet-link.js';
import { SqliteDeliveryRepository } from '../adapters/sqlite-repository.js';
import { coreConfig } from '../config.js';
import { DeliveryService } from '../service.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, clients: { type: 'string' } } });
const dir = values['data-dir'];
if (!dir) throw new Error('--data-dir is required');
// Small batches, drained often: the kill lands between appends, drains and segment rolls alike.
const config = coreConfig({ dbPath: join(dir, 'deliveries.sqlite'), ingest: { dir: join(dir, 'ingest'), drainBatchMax: 50, drainEveryMs: 5, segmentBytes: 16 * 1024 } });
const repo = new SqliteDeliveryRepository(config.dbPath);
const service = new DeliveryService(repo, new MemoryFleetLink(), config, undefined, undefined, {}, new FileLogQueue(config.ingest.dir!, { segmentBytes: config.ingest.segmentBytes }));
await service.start();
const body = { owner: null, pickup: { lat: 47.399, lon: 8.547 }, dropoff: { lat: 47.401, lon: 8.55 } };
const client = async (c: number) => {
  for (let i = 0; ; i++) {
    const id = `w${c}-${i}`;
    await service.requestDurable(id, body, `corr-${id}`);
    process.stdout.write(`${id}\n`);
  }
};
await Promise.all(Array.from({ length: Number(values.clients ?? 20) }, (_, c) => client(c)));
