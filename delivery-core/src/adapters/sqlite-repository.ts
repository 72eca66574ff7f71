import { SqlDeliveryRepository } from './sql/delivery-repository.js';
import { openSqlite } from './sql/sqlite.js';

/**
 * The embedded default: one SQLite file (WAL, synchronous=FULL: a committed write survives
 * power loss), migrated at open. One connection: transactions run one at a time, other calls
 * wait for the open one.
 */
export class SqliteDeliveryRepository extends SqlDeliveryRepository {
  constructor(path: string) {
    const db = openSqlite(path);
    super(db, 'sqlite', SqlDeliveryRepository.migrate(db, 'sqlite'));
  }
}
