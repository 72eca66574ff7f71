import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sleep } from './submitter.js';

/** How many of `ids` are not in a final stage yet (absent rows included). */
export async function notFinal(databaseUrl: string, ids: readonly string[]): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM deliveries WHERE id = ANY($1) AND stage IN ('Completed', 'Cancelled', 'Failed')", [ids]);
    return ids.length - Number(r.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Final stage changes (by the core's clock) within [from, to): a phase's delivery throughput. */
export async function finalsBetween(databaseUrl: string, from: number, to: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM stage_history WHERE stage IN ('Completed', 'Cancelled', 'Failed') AND at >= $1 AND at < $2", [from, to]);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Records still in the agents' spools, from the status file each agent rewrites every second (null: none readable). */
export function spooled(dir: string, droneIds: readonly string[]): number | null {
  let total: number | null = null;
  for (const id of droneIds) {
    const f = join(dir, 'agents', id, 'status.json');
    if (!existsSync(f)) continue;
    try {
      const s = JSON.parse(readFileSync(f, 'utf8')) as { spool?: { length: number } | null };
      total = (total ?? 0) + (s.spool?.length ?? 0);
    } catch {
      // caught between write and rename: the next poll reads it
    }
  }
  return total;
}

/** Polls `probe` until it returns true or `boundMs` passed; returns whether it did. */
export async function within(boundMs: number, probe: () => Promise<boolean> | boolean, everyMs = 1000): Promise<boolean> {
  const end = Date.now() + boundMs;
  for (;;) {
    if (await Promise.resolve(probe()).catch(() => false)) return true;
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}
