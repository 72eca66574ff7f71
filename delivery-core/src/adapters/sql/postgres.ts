import pg, { type CustomTypesConfig } from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { CoreDatabase } from './schema.js';

/** BIGINT columns (epoch ms) come back as numbers, not pg's default strings: every value stored is below 2^53. */
const int8AsNumber: CustomTypesConfig['getTypeParser'] = (oid, format) => (oid === pg.types.builtins.INT8 ? Number : (pg.types.getTypeParser(oid, format) as unknown));

/** PostgreSQL through a pg pool behind kysely. */
export function openPostgres(connectionString: string, maxConnections = 10): Kysely<CoreDatabase> {
  const pool = new pg.Pool({
    connectionString, max: maxConnections,
    types: { getTypeParser: int8AsNumber },
  });
  // node-postgres emits a connection's error (the server stopped or restarted: 57P01, a reset)
  // on the pool for an idle client and on the client itself while one is checked out between
  // queries (a transaction); an 'error' nobody listens to ends the process. The query under way
  // rejects anyway; the broken client is dropped when released (pg-pool: not queryable), and
  // the next query connects again; until then queries fail (and readiness says so).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<CoreDatabase>({ dialect: new PostgresDialect({ pool }) });
}
