import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '@aerie/contracts';
import { DeliveryService } from './service.js';
import { buildHttp } from './http.js';
import { Authenticator } from './auth.js';
import { SqliteDeliveryRepository } from './adapters/sqlite-repository.js';
import { PostgresDeliveryRepository } from './adapters/postgres-repository.js';
import { MqttFleetLink } from './adapters/mqtt-fleet-link.js';
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
  const repo = config.databaseUrl ? new PostgresDeliveryRepository(config.databaseUrl) : new SqliteDeliveryRepository(config.dbPath);
  try {
    // Migrations run at open: a store that cannot be brought up to date stops the start here.
    await repo.opened();
  } catch (err) {
    await repo.close();
    throw err;
  }
  const rejected: Record<string, number> = {};
  let fleet: MqttFleetLink;
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
  const service = new DeliveryService(repo, fleet, config, clock);
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
      await fleet.close();
      await service.settled();
      await repo.close();
    },
  };
}
