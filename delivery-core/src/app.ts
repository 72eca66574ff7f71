import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '@aerie/contracts';
import { DeliveryService } from './service.js';
import { buildHttp } from './http.js';
import { Authenticator } from './auth.js';
import { openCoreDatabase } from './adapters/outbox-database.js';
import { MqttOutboxPublisher } from './adapters/outbox-mqtt.js';
import { MqttFleetLink } from './adapters/mqtt-fleet-link.js';
import { FileLogQueue } from './adapters/file-log-queue.js';
import type { Ingestion } from './ingestion.js';
import type { CoreConfig } from './config.js';
import { Readiness, registerReadiness } from './health.js';

export interface RunningCore {
  service: DeliveryService;
  /** Base URL of the REST API. */
  url: string;
  rejected: Record<string, number>;
  readiness: Readiness;
  /** Stops at once (tests, a failed start): nothing in flight is waited for; all of it resumes at the next start. */
  close(): Promise<void>;
  /**
   * SIGTERM (issue 8): readiness 503 at once; the API stops accepting (requests in flight are
   * answered, keep-alive connections closed after them, event streams ended); the scheduler
   * stops and in-flight saga steps finish; the ingestion log is drained into the table while the
   * database answers, else left on disk for the next start; MQTT disconnects cleanly. Each step
   * waits at most what is left of `graceMs` (config.shutdownGraceMs); whatever a step did not
   * finish is durable and resumes at the next start (the log, the saga's crash resume).
   */
  shutdown(graceMs?: number): Promise<ShutdownReport>;
}

export interface ShutdownReport {
  /** Requests moved from the ingestion log into the table, and those left in the log. */
  drained: number;
  handedBack: number;
  /** Steps cut short by the grace. */
  late: string[];
}

/** Wires SQLite, the MQTT fleet link, the workflow and the HTTP API, and starts them. */
export async function startDeliveryCore(config: Readonly<CoreConfig>, opts: { clock?: Clock; log?: (line: string) => void } = {}): Promise<RunningCore> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? ((line) => console.log(line));
  const auth = new Authenticator(config.auth, clock);
  if (!config.databaseUrl && config.dbPath !== ':memory:') mkdirSync(dirname(config.dbPath), { recursive: true });
  // One database (one SQLite connection, or one PostgreSQL pool) holds the deliveries and the
  // workflow's tables (accounts, packages, sagas, outbox, drone reservations); migrated at open.
  const { repo, records } = await openCoreDatabase(config);
  const rejected: Record<string, number> = {};
  let fleet: MqttFleetLink;
  let outbox: MqttOutboxPublisher;
  try {
    fleet = await MqttFleetLink.connect({
      ...config.mqtt,
      onReject: (code, detail) => {
        rejected[code] = (rejected[code] ?? 0) + 1;
        log(`core rejected ${code} ${detail}`);
      },
    });
  } catch (err) {
    await repo.close();
    throw err;
  }
  try {
    // The workflow's events leave through the outbox onto the bus (svc/v1/notifications/{deliveryId}).
    outbox = await MqttOutboxPublisher.connect({ ...config.mqtt, clientId: `${config.mqtt.clientId}-outbox` });
  } catch (err) {
    await fleet.close();
    await repo.close();
    throw err;
  }
  // Accepted requests wait in this instance's log until drained into the database (issue 7).
  const queue = config.ingest.dir ? new FileLogQueue(config.ingest.dir, { segmentBytes: config.ingest.segmentBytes }) : null;
  const service = new DeliveryService(repo, fleet, config, clock, records, config.workflow, queue);
  service.workflow.onEvent((e) => outbox.publish(e));
  // Only now, with the service's listeners in place, can the fleet link's SUBACK arrive (connect).
  await fleet.subscribed;
  const http = buildHttp(service, auth);
  let shuttingDown = false;
  let started = false;
  const readiness = new Readiness({
    // A trivial query through the same pool or connection the service uses (LIMIT 1 on an index).
    database: () => repo.countByStage(['Requested'], 1),
    mqtt: () => (fleet.connected && outbox.connected ? null : `not connected to ${redact(config.mqtt.url)}`),
    // No queue (dir null): creates go to the table itself, which the database check covers.
    ingest: () => (!started ? 'starting' : !queue ? null : queue.isOpen ? null : 'log closed'),
    shuttingDown: () => shuttingDown,
  });
  registerReadiness(http, readiness);
  await http.listen({ host: config.httpHost, port: config.httpPort });
  await service.start();
  started = true;
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.httpPort;
  let stopping: Promise<ShutdownReport> | null = null;
  return {
    service, url: `http://${config.httpHost}:${port}`, rejected, readiness,
    shutdown(graceMs = config.shutdownGraceMs) {
      shuttingDown = true;
      stopping ??= (async () => {
        // The grace is wall-clock time (a manual test clock does not move it).
        const deadline = Date.now() + graceMs;
        const late: string[] = [];
        const within = async (what: string, p: Promise<unknown>): Promise<boolean> => {
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()))));
          const r = await Promise.race([p.then(() => 'done' as const, (err: unknown) => {
            log(`aerie-core: shutdown: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
            return 'done' as const;
          }), timedOut]);
          clearTimeout(timer);
          if (r === 'late') {
            late.push(what);
            log(`aerie-core: shutdown: ${what} not finished within the grace (${graceMs} ms); left to the next start`);
          }
          return r === 'done';
        };
        log('aerie-core: shutdown: not ready; closing the API');
        // No new connections; requests in flight answered (a 202 means the log has it).
        if (!await within('requests in flight', http.close())) http.server.closeAllConnections();
        // The scheduler stops planning; the Supervisor stops and the saga steps under way finish.
        service.stop();
        await within('saga steps in flight', service.workflow.stop());
        // Every 202 is in the ingestion log already: into the table while the database answers.
        let drained = 0;
        let handedBack = 0;
        if (service.ingestion) {
          const got: { r?: Awaited<ReturnType<Ingestion['handOver']>> } = {};
          await within('draining the ingestion log', service.ingestion.handOver(() => Date.now() >= deadline).then((r) => (got.r = r)));
          const r = got.r;
          drained = r?.drained ?? 0;
          handedBack = r ? r.left : service.ingestion.size;
          const why = r?.error ? `the database did not take them (${r.error instanceof Error ? r.error.message : 'error'})` : 'the grace ran out';
          log(handedBack === 0
            ? `aerie-core: shutdown: ingestion log drained into the table (${drained} requests)`
            : `aerie-core: shutdown: ${handedBack} accepted requests left in the ingestion log ${config.ingest.dir ?? ''} for the next start: ${why} (${drained} drained)`);
        }
        await within('tracking events and drone releases', service.settled());
        const force = Date.now() >= deadline;
        await within('MQTT disconnect', Promise.all([outbox.close(force), fleet.close(force)]));
        await queue?.close();
        await within('closing the database', repo.close());
        return { drained, handedBack, late };
      })();
      return stopping;
    },
    async close() {
      shuttingDown = true;
      service.stop();
      await http.close();
      await service.workflow.stop();
      await outbox.close();
      await fleet.close();
      await service.settled();
      await service.ingestion?.stop();
      await queue?.close();
      await repo.close();
    },
  };
}

/** A broker URL without its password, for the readiness report. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the broker';
  }
}
