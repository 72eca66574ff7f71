import { SqlDeliveryRepository } from './sql/delivery-repository.js';
import { openPostgres } from './sql/postgres.js';

/**
 * PostgreSQL (DATABASE_URL): a connection pool, migrated at open (under kysely's migration lock,
 * so instances starting together migrate once). Concurrent transactions are real here; the
 * schema's unique indexes keep the guarantees and a batch's reads lock their rows.
 */
export class PostgresDeliveryRepository extends SqlDeliveryRepository {
  constructor(url: string, maxConnections?: number) {
    const db = openPostgres(url, maxConnections);
    super(db, 'postgres', SqlDeliveryRepository.migrate(db, 'postgres'));
  }
}
