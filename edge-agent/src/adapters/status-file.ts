import { renameSync, writeFileSync } from 'node:fs';

/**
 * The local status endpoint: a JSON file replaced atomically (write then rename), so a health
 * check or `cat` never reads half of it. Failures are counted, never thrown: a full disk must not
 * stop the agent.
 */
export class StatusFile {
  errors = 0;
  constructor(private readonly path: string) {}

  write(state: unknown): void {
    try {
      const tmp = `${this.path}.tmp`;
      writeFileSync(tmp, JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
      renameSync(tmp, this.path);
    } catch {
      this.errors += 1;
    }
  }
}
