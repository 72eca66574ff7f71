import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineConfig, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('applies defaults and freezes', () => {
    const c = defineConfig({ dbPath: ':memory:' });
    expect(c).toEqual({
      mqttUrl: 'mqtt://127.0.0.1:1883',
      mqttUsername: undefined,
      mqttPassword: undefined,
      clientId: 'aerie-telemetry',
      dbPath: ':memory:',
      httpHost: '127.0.0.1',
      httpPort: 8083,
      trustedProxies: [],
      fleet: 'default',
      influx: undefined,
      spillDir: undefined,
      walDir: undefined,
      walFsyncMs: 0,
      writeFlushMs: undefined,
      retention: { rawMs: 86_400_000, bucketMs: 60_000, keepMs: 2_592_000_000 },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('prefers flags to AERIE_TELEMETRY_* variables', () => {
    const env = {
      AERIE_TELEMETRY_MQTT_URL: 'mqtt://broker:1883',
      AERIE_TELEMETRY_MQTT_USERNAME: 'svc-telemetry',
      AERIE_TELEMETRY_MQTT_PASSWORD: 'from-env',
      AERIE_TELEMETRY_CLIENT_ID: 'telemetry-2',
      AERIE_TELEMETRY_DATA_DIR: '/var/lib/aerie',
      AERIE_TELEMETRY_HTTP_HOST: '0.0.0.0',
      AERIE_TELEMETRY_HTTP_PORT: '9000',
    };
    expect(loadConfig({}, env)).toEqual({
      mqttUrl: 'mqtt://broker:1883',
      mqttUsername: 'svc-telemetry',
      mqttPassword: 'from-env',
      clientId: 'telemetry-2',
      dbPath: join('/var/lib/aerie', 'telemetry.sqlite'),
      httpHost: '0.0.0.0',
      httpPort: 9000,
      trustedProxies: [],
      fleet: 'default',
      influx: undefined,
      spillDir: join('/var/lib/aerie', 'telemetry-spill'),
      walDir: join('/var/lib/aerie', 'telemetry-wal'),
      walFsyncMs: 0,
      writeFlushMs: undefined,
      retention: { rawMs: 86_400_000, bucketMs: 60_000, keepMs: 2_592_000_000 },
    });
    expect(loadConfig({ mqttUrl: 'mqtts://other:8883', dataDir: '/data', httpPort: '0', mqttPassword: 'from-flag' }, env)).toMatchObject({
      mqttUrl: 'mqtts://other:8883',
      mqttPassword: 'from-flag',
      dbPath: join('/data', 'telemetry.sqlite'),
      httpPort: 0,
    });
  });

  it('reads the gateway addresses it trusts from AERIE_TELEMETRY_TRUSTED_PROXIES (IPs and CIDRs)', () => {
    const env = { AERIE_TELEMETRY_DB_PATH: ':memory:', AERIE_TELEMETRY_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,fd00::/8' };
    expect(loadConfig({}, env).trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  });

  it('reads the write-ahead log settings and the writer flush interval', () => {
    const env = { AERIE_TELEMETRY_DATA_DIR: '/d', AERIE_TELEMETRY_WAL_DIR: '/wal', AERIE_TELEMETRY_WAL_FSYNC_MS: '250', AERIE_TELEMETRY_WRITE_FLUSH_MS: '60000' };
    expect(loadConfig({}, env)).toMatchObject({ walDir: '/wal', walFsyncMs: 250, writeFlushMs: 60_000 });
  });

  it("accepts AERIE_TELEMETRY_DB_PATH=':memory:' when no data dir is given", () => {
    expect(loadConfig({}, { AERIE_TELEMETRY_DB_PATH: ':memory:' }).dbPath).toBe(':memory:');
  });

  it.each([
    ['no database', {}, {}, /dbPath is required/],
    ['a bad port', { dataDir: '/d', httpPort: '80a' }, {}, /httpPort/],
    ['a port out of range', { dataDir: '/d', httpPort: '70000' }, {}, /httpPort/],
    ['an http url', { dataDir: '/d', mqttUrl: 'http://x' }, {}, /mqttUrl/],
    ['a password without user', { dataDir: '/d', mqttPassword: 'p' }, {}, /mqttPassword/],
    ['a bad client id', { dataDir: '/d' }, { AERIE_TELEMETRY_CLIENT_ID: 'a/b' }, /clientId/],
    ['a trusted proxy that is no address', { dataDir: '/d' }, { AERIE_TELEMETRY_TRUSTED_PROXIES: '10.0.0.1,gateway' }, /trustedProxies has "gateway"/],
    ['a WAL fsync interval that is no number', { dataDir: '/d' }, { AERIE_TELEMETRY_WAL_FSYNC_MS: 'often' }, /walFsyncMs/],
    ['a WAL without a spill dir', {}, { AERIE_TELEMETRY_DB_PATH: ':memory:', AERIE_TELEMETRY_WAL_DIR: '/wal' }, /walDir needs a spillDir/],
    ['a zero writer flush interval', { dataDir: '/d' }, { AERIE_TELEMETRY_WRITE_FLUSH_MS: '0' }, /writeFlushMs/],
    ['a CIDR prefix too long', { dataDir: '/d' }, { AERIE_TELEMETRY_TRUSTED_PROXIES: '10.0.0.0/33' }, /trustedProxies/],
  ])('refuses %s with TEL_ERR_CONFIG', (_name, flags, env, message) => {
    expect(() => loadConfig(flags, env)).toThrow(message);
    expect(() => loadConfig(flags, env)).toThrow(expect.objectContaining({ code: 'TEL_ERR_CONFIG' }));
  });

  it('reads the InfluxDB settings from AERIE_TELEMETRY_INFLUX_* and checks them', () => {
    const env = {
      AERIE_TELEMETRY_DB_PATH: ':memory:',
      AERIE_TELEMETRY_FLEET: 'zurich',
      AERIE_TELEMETRY_INFLUX_URL: 'http://influxdb:8086',
      AERIE_TELEMETRY_INFLUX_DB: 'fleet',
      AERIE_TELEMETRY_INFLUX_RP: 'autogen',
      AERIE_TELEMETRY_INFLUX_USERNAME: 'writer',
      AERIE_TELEMETRY_INFLUX_PASSWORD: 'secret',
    };
    expect(loadConfig({}, env)).toMatchObject({
      fleet: 'zurich',
      influx: { api: 'v1', url: 'http://influxdb:8086', database: 'fleet', retentionPolicy: 'autogen', username: 'writer', password: 'secret' },
    });
    expect(() => loadConfig({}, { ...env, AERIE_TELEMETRY_INFLUX_API: 'v2' })).toThrow(/influx.token/);
    expect(() => loadConfig({}, { ...env, AERIE_TELEMETRY_INFLUX_URL: 'influxdb:8086' })).toThrow(/influx.url/);
    expect(() => defineConfig({ dbPath: ':memory:', fleet: 'a b' })).toThrow(/fleet/);
    expect(() => defineConfig({ dbPath: ':memory:', retention: { rawMs: 10, keepMs: 5 } })).toThrow(/retention/);
  });
});
