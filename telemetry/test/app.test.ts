import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectAsync } from 'mqtt';
import { encodeMessage, topics } from '@aerie/contracts';
import { startTelemetry } from '../src/app.js';
import type { TelemetryApp } from '../src/app.js';
import { defineConfig } from '../src/config.js';
import { createMemoryLogger } from '../src/adapters/stderr-logger.js';
import { startBroker } from './helpers/broker.js';
import type { TestBroker } from './helpers/broker.js';
import { makeFlight } from './helpers/status.js';

describe('startTelemetry', () => {
  let broker: TestBroker;
  let dir: string;
  let app: TelemetryApp | undefined;

  beforeEach(async () => {
    broker = await startBroker();
    dir = mkdtempSync(join(tmpdir(), 'aerie-tel-app-'));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests from the broker and serves the history over HTTP on an ephemeral port, durably', async () => {
    const config = defineConfig({ mqttUrl: broker.url, dbPath: join(dir, 'telemetry.sqlite'), httpPort: 0 });
    app = await startTelemetry(config, { logger: createMemoryLogger() });
    expect(app.port).toBeGreaterThan(0);
    await app.ingest.whenSubscribed();

    const pub = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'pub-app', reconnectPeriod: 0 });
    const flight = makeFlight(5, { droneId: 'drone-7', ts: Date.now() - 60_000 });
    try {
      for (const s of flight) await pub.publishAsync(topics.status('drone-7'), encodeMessage(s), { qos: 1 });
    } finally {
      await pub.endAsync();
    }
    await vi.waitFor(() => expect(app?.ingest.stats().stored).toBe(5), { timeout: 3_000, interval: 20 });

    const base = `http://127.0.0.1:${app.port}`;
    const track = await fetch(`${base}/api/v1/drones/drone-7/track`);
    expect(track.status).toBe(200);
    expect(((await track.json()) as { points: unknown[] }).points).toHaveLength(5);
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', ingest: { received: 5, stored: 5 } });
    const bad = await fetch(`${base}/api/v1/drones/drone-7/track?from=2&to=1`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');

    await app.close();
    await app.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();

    app = await startTelemetry(config, { logger: createMemoryLogger() });
    expect(app.store.track('drone-7', 0, Number.MAX_SAFE_INTEGER, 100)).toHaveLength(5);
  });

  it('closes the store when the HTTP port is taken', async () => {
    const first = await startTelemetry(defineConfig({ mqttUrl: broker.url, dbPath: ':memory:', httpPort: 0 }), { logger: createMemoryLogger() });
    app = first;
    await expect(
      startTelemetry(defineConfig({ mqttUrl: broker.url, clientId: 'telemetry-second', dbPath: join(dir, 'second.sqlite'), httpPort: first.port }), { logger: createMemoryLogger() }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
