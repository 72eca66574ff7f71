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

  // SIGTERM (Kubernetes, the launcher) or SIGINT: the graceful stop (app.ts: readiness 503, the
  // MQTT session left for the broker to keep, what was taken written or spilled, HTTP closed),
  // then exit 0. A second signal of either kind means the operator will not wait for the flush.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info(`telemetry ${signal}: closing`);
    app.close().then(
      () => {
        const w = app.writer.stats();
        logger.info(`telemetry closed written=${w.written} spilled=${w.spilled} pending=${w.pending}`);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error(`telemetry close failed error=${JSON.stringify(String(err))}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'TEL_ERR_INTERNAL';
  logger.error(`telemetry failed to start code=${code} detail=${JSON.stringify(err instanceof Error ? err.message : String(err))}`);
  process.exitCode = 1;
});
