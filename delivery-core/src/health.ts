import type { FastifyInstance } from 'fastify';

/**
 * Liveness and readiness (issue 8, the launcher contract): Kubernetes' two probes, kept apart on
 * purpose. Liveness checks nothing outside the process — a liveness probe that checks the
 * database restarts every healthy pod when the database blips — and answers while the event loop
 * turns (a handler that runs proves it). Readiness is what takes the instance out of the
 * gateway's and the Service's rotation: its dependencies, and not while it shuts down. Neither is
 * authenticated nor rate limited (only /api/v1 is), and the service logs no access lines.
 */

/** A check's outcome: 'ok', or what is wrong in a few words. */
export type Check = string;
export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, Check>;
}

export interface ReadinessDeps {
  /** A trivial query of the database; resolves once it answered. */
  database(): Promise<unknown>;
  /** null when the MQTT connection to the broker is up, else why not. */
  mqtt(): string | null;
  /** null when the ingestion log is open (recovered, taking appends), else why not. */
  ingest(): string | null;
  shuttingDown(): boolean;
  /** How long the database may take to answer (ms; default 2000). */
  databaseTimeoutMs?: number;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200);

export class Readiness {
  /** The query under way: a database that hangs gets one probe query at a time, not one per probe. */
  private pending: Promise<string> | null = null;

  constructor(private readonly deps: ReadinessDeps) {}

  async report(): Promise<ReadinessReport> {
    const checks: Record<string, Check> = {
      database: await this.database(),
      mqtt: this.deps.mqtt() ?? 'ok',
      ingest: this.deps.ingest() ?? 'ok',
    };
    if (this.deps.shuttingDown()) checks.shutdown = 'in progress';
    return { status: Object.values(checks).every((c) => c === 'ok') ? 'ready' : 'not_ready', checks };
  }

  private database(): Promise<string> {
    if (!this.pending) {
      const p: Promise<string> = this.deps.database().then(() => 'ok', (err: unknown) => `unreachable: ${errText(err)}`);
      this.pending = p;
      void p.finally(() => {
        if (this.pending === p) this.pending = null;
      });
    }
    const ms = this.deps.databaseTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
      timer.unref();
    });
    return Promise.race([this.pending, late]).finally(() => clearTimeout(timer));
  }
}

/** GET /livez, and /healthz as its alias (its body unchanged for existing users). */
export function registerLiveness(app: FastifyInstance): void {
  app.get('/livez', { config: { summary: 'Liveness: 200 while the process runs (no dependency is checked)' } }, () => ({ status: 'alive' }));
  app.get('/healthz', { config: { summary: 'Liveness, as /livez (kept for existing users)' } }, () => ({ ok: true }));
}

/** GET /readyz: 200 `{ status: 'ready', checks }` only when every check is 'ok', else 503 naming what failed. */
export function registerReadiness(app: FastifyInstance, readiness: Readiness): void {
  app.get('/readyz', {
    config: { summary: 'Readiness: 200 when the database answers, MQTT is connected, the ingestion log is open and the service is not shutting down; else 503 naming the failed checks' },
  }, async (_req, reply) => {
    const r = await readiness.report();
    return reply.code(r.status === 'ready' ? 200 : 503).header('cache-control', 'no-store').send(r);
  });
}
