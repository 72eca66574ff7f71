#!/usr/bin/env node
import { join } from 'node:path';
import { pino } from 'pino';
import { parseHubCommand, USAGE } from './cli.js';
import { FleetHub } from './app.js';
import { FileDeviceRegistry } from './adapters/device-registry.js';
import { FileEventLog } from './adapters/file-event-log.js';
import { EventHubsEventStream } from './adapters/eventhubs-event-stream.js';
import { StatusJournal } from './adapters/status-journal.js';
import { HubError } from './errors.js';

async function main(): Promise<void> {
  const cmd = parseHubCommand(process.argv.slice(2), process.env);
  if (cmd.kind === 'run') {
    // JSON lines on stdout; each carries droneId / correlationId / code where the hub knows them.
    const logger = pino({ base: { service: 'aerie-hub', pid: process.pid } });
    const eventStream = cmd.config.eventStream === 'eventhubs'
      ? await EventHubsEventStream.open(cmd.config.eventStreamHub)
      : await FileEventLog.open(join(cmd.config.dataDir, 'events'));
    const journal = cmd.config.statusJournal ? new StatusJournal(cmd.config.statusJournal) : null;
    const hub = await FleetHub.start(cmd.config, { log: (msg, fields) => logger.info(fields ?? {}, msg), eventStream, ...(journal ? { writer: journal } : {}) });
    logger.info({ mqttUrl: hub.mqttUrl, broker: cmd.config.broker, dataDir: cmd.config.dataDir, metricsUrl: hub.metricsUrl, iothubUrl: hub.iothubUrl, iothubApiUrl: hub.iothub?.apiUrl ?? '', sharedGroup: cmd.config.sharedGroup }, 'aerie-hub started');
    // SIGTERM: hand over and finish what is held within the grace, then exit 0; past the grace,
    // or on a second signal, exit 1 at once (what is still queued is lost, as with a kill).
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'aerie-hub: second signal, exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal, graceMs: cmd.config.shutdownGraceMs }, 'aerie-hub stopping');
      setTimeout(() => {
        logger.error({ graceMs: cmd.config.shutdownGraceMs }, 'aerie-hub: shutdown grace expired, exiting');
        process.exit(1);
      }, cmd.config.shutdownGraceMs).unref();
      hub.shutdown().then(() => eventStream.close()).then(() => journal?.close()).then(() => {
        logger.info({ statuses: hub.counters.statuses }, 'aerie-hub stopped');
        process.exit(0);
      }, (err: unknown) => {
        logger.error({ err: String(err) }, 'aerie-hub: shutdown failed');
        process.exit(1);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  const registry = await FileDeviceRegistry.open(join(cmd.dataDir, 'devices.json'));
  if (cmd.kind === 'device-add') {
    const { secret } = await registry.add(cmd.id, cmd.role, cmd.auth);
    console.log(cmd.auth === 'sas'
      ? `added ${cmd.role} ${cmd.id}; IoT Hub symmetric key (shown once; the agent's SharedAccessKey): ${secret}`
      : cmd.auth === 'x509'
        ? `added ${cmd.role} ${cmd.id}; IoT Hub X.509 device: no secret, it presents a certificate signed by --tls-ca with CN=${cmd.id}`
        : `added ${cmd.role} ${cmd.id}; secret (shown once): ${secret}`);
  } else if (cmd.kind === 'device-list') {
    for (const d of registry.list()) console.log(`${d.id}\t${d.role}${d.symmetricKey ? ' sas' : d.x509 ? ' x509' : ''}\t${d.revokedAt ? `revoked ${d.revokedAt}` : 'active'}\tcreated ${d.createdAt}`);
  } else {
    await registry.revoke(cmd.id);
    console.log(`revoked ${cmd.id}`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof HubError) {
    console.error(`aerie-hub: ${err.code}: ${err.message}`);
    if (err.code === 'HUB_ERR_CONFIG') console.error(USAGE);
    process.exit(err.code === 'HUB_ERR_CONFIG' ? 2 : 1);
  }
  console.error(err);
  process.exit(1);
});
