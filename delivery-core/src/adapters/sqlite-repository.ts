import { SqlDeliveryRepository } from './sql/delivery-repository.js';
import { openSqlite } from './sql/sqlite.js';

/**
 * The embedded default: one SQLite file in WAL mode, migrated at open; every write resolves
 * once fsynced (sql/sqlite.ts: the fsync runs off the event loop, shared by the commits written
 * before it). One connection: transactions run one at a time, other calls wait for the open one.
 */
export class SqliteDeliveryRepository extends SqlDeliveryRepository {
  constructor(path: string) {
    const { db, durable } = openSqlite(path);
    super(db, 'sqlite', SqlDeliveryRepository.migrate(db, 'sqlite'), durable);
  }
}
