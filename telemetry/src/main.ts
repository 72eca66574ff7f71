#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { startTelemetry } from './app.js';
import { createStderrLogger } from './adapters/stderr-logger.js';

const logger = createStderrLogger();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'mqtt-url': { type: 'string' },
      'mqtt-username': { type: 'string' },
      'mqtt-password': { type: 'string' },
      'data-dir': { type: 'string' },
      'http-port': { type: 'string' },
      'influx-url': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const config = loadConfig({
    mqttUrl: values['mqtt-url'],
    mqttUsername: values['mqtt-username'],
    mqttPassword: values['mqtt-password'],
    dataDir: values['data-dir'],
    httpPort: values['http-port'],
    influxUrl: values['influx-url'],
  });
  const app = await startTelemetry(config, { logger });
  logger.info(`telemetry listening http://${config.httpHost}:${app.port} db=${config.dbPath} timeseries=${config.influx === undefined ? 'embedded' : `${config.influx.api} ${config.influx.url}`}`);

  const stop = (signal: NodeJS.Signals): void => {
    logger.info(`telemetry ${signal}: closing`);
    // A second signal means the operator will not wait for the flush.
    process.once(signal, () => process.exit(130));
    app.close().then(
      () => logger.info('telemetry closed'),
      (err: unknown) => {
        logger.error(`telemetry close failed error=${JSON.stringify(String(err))}`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'TEL_ERR_INTERNAL';
  logger.error(`telemetry failed to start code=${code} detail=${JSON.stringify(err instanceof Error ? err.message : String(err))}`);
  process.exitCode = 1;
});
