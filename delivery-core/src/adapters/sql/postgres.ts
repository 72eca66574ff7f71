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
  return new Kysely<CoreDatabase>({ dialect: new PostgresDialect({ pool }) });
}
