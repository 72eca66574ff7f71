import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The run's credentials, made once and kept in DIR/secrets.json (mode 0600), so a relaunch on the
 * same directory finds the PostgreSQL cluster's password, the broker sessions' principals and the
 * API key the operator was shown. Missing entries (a bigger fleet than last time) are added.
 */
export class Secrets {
  private readonly values: Record<string, string>;
  private dirty = false;

  constructor(private readonly file: string) {
    this.values = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  }

  get(name: string, bytes = 18): string {
    let v = this.values[name];
    if (v === undefined) {
      v = randomBytes(bytes).toString('base64url');
      this.values[name] = v;
      this.dirty = true;
    }
    return v;
  }

  save(): void {
    if (this.dirty) writeFileSync(this.file, JSON.stringify(this.values, null, 2) + '\n', { mode: 0o600 });
    this.dirty = false;
  }
}
