#!/usr/bin/env node
/**
 * The process bench:api loads and kills: delivery-core's real HTTP API, durable ingestion queue,
 * scheduler and delivery saga on one SQLite file (as app.ts wires them), with a simulated fleet in memory that completes each mission
 * at once (the benchmark measures ingestion and exactly-once processing, not flight). A no-op
 * PUT route on the same server is the baseline. Prints {"port":..} when listening.
 *
 * Usage: node delivery-core/dist/bench/api-server.js --data-dir DIR [--drones N]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeliveryAssignment, DroneStatus } from '@aerie/contracts';
import { MemoryFleetLink } from '../adapters/memory-fleet-link.js';
import { openCoreDatabase } from '../adapters/outbox-database.js';
import { FileLogQueue } from '../adapters/file-log-queue.js';
import { DeliveryService } from '../service.js';
import { buildHttp } from '../http.js';
import { coreConfig } from '../config.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, drones: { type: 'string' }, 'schedule-every-ms': { type: 'string' } } });
if (!values['data-dir']) throw new Error('--data-dir is required');
const drones = Number(values.drones ?? 200);

/**
 * A fleet that flies instantly: fly assignments come back Completed within 50 ms. A real fleet
 * reports a few events per drone per minute; this one reports thousands per second, in bursts
 * (the service commits each burst in one transaction).
 */
class InstantFleet extends MemoryFleetLink {
  private due: DeliveryAssignment[] = [];
  constructor() {
    super();
    setInterval(() => {
      const due = this.due;
      this.due = [];
      for (const a of due) {
        this.pushTracking({
          v: 1, eventId: `${a.deliveryId}:bench-done`, type: 'DeliveryCompleted', deliveryId: a.deliveryId, droneId: a.droneId, stage: 'Completed', ts: Date.now(), location: null, eta: null,
        });
      }
    }, 50);
  }
  override publishAssignment(deliveryId: string, a: DeliveryAssignment | null): void {
    super.publishAssignment(deliveryId, a);
    if (a?.action === 'fly') this.due.push(a);
  }
}

function status(i: number, seq: number): DroneStatus {
  return {
    v: 1, droneId: `bench-${i}`, bootId: 'bench', seq, ts: Date.now(), autopilot: 'px4',
    position: { lat: 47.39 + (i % 20) * 0.001, lon: 8.54 + Math.floor(i / 20) * 0.001, altMsl: 488, altRel: 0 },
    groundSpeed: 0, climbRate: 0, heading: 0, battery: { pct: 95, voltage: 16.4, current: 0 }, gps: { fix: 3, satellites: 14, hdop: 0.8 },
    armed: false, flightMode: 'HOLD', flightModeRaw: 'AUTO.LOITER', landedState: 'ON_GROUND', mission: { current: -1, total: 0 },
    health: { sensorsHealthy: true, failsafe: false }, link: { fcConnected: true, fcHeartbeatAgeMs: 100 },
  };
}

// The service's shipped configuration (app.ts): deliveries and the workflow's sagas, packages,
// reservations and outbox on one SQLite file, so the crash audit covers the saga state too.
const config = coreConfig({ dbPath: join(values['data-dir'], 'deliveries.sqlite'), ...(values['schedule-every-ms'] ? { scheduleEveryMs: Number(values['schedule-every-ms']) } : {}) });
const { repo, records } = await openCoreDatabase(config);
const fleet = new InstantFleet();
// The ingestion queue as main.ts ships it: the data dir's log, drained into the SQLite file.
const queue = new FileLogQueue(join(values['data-dir'], 'ingest'), { segmentBytes: config.ingest.segmentBytes });
const service = new DeliveryService(repo, fleet, config, undefined, records, {}, queue);
let seq = 0;
const beat = () => {
  seq += 1;
  for (let i = 0; i < drones; i++) fleet.pushStatus(status(i, seq));
};
beat();
setInterval(beat, 1000);
const app = buildHttp(service);
app.put('/noop/:id', (_req, reply) => reply.code(202).send());
await app.listen({ host: '127.0.0.1', port: 0 });
await service.start();
const addr = app.server.address();
console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
// A graceful stop for the throughput phase (kill -9 is the crash phase's business).
process.once('SIGTERM', () => {
  service.stop();
  void app.close().then(async () => {
    await service.workflow.stop();
    await service.settled();
    await service.ingestion?.stop();
    await queue.close();
    console.error(`bench server: queue ${JSON.stringify(queue.stats)}, drained ${JSON.stringify(service.ingestion?.stats)}, still queued ${service.ingestion?.size}`);
    await repo.close();
    process.exit(0);
  });
});
