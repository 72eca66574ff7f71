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
import type { CoreConfig } from './config.js';

export interface RunningCore {
  service: DeliveryService;
  /** Base URL of the REST API. */
  url: string;
  rejected: Record<string, number>;
  close(): Promise<void>;
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
  const http = buildHttp(service, auth);
  await http.listen({ host: config.httpHost, port: config.httpPort });
  await service.start();
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.httpPort;
  return {
    service, url: `http://${config.httpHost}:${port}`, rejected,
    async close() {
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
