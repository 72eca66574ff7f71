import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentErrorCodes, agentConfig } from '../src/index.js';
import { envName, layeredInput, readConfigFile } from '../src/config-file.js';
import { startFakeFc, type FakeFc } from './fake-fc.js';
import { startMosquitto } from '../../test-support/mosquitto.js';

const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const file = (name: string, text: string): string => {
  const d = mkdtempSync(join(tmpdir(), 'aerie-cfg-'));
  dirs.push(d);
  writeFileSync(join(d, name), text);
  return join(d, name);
};

describe('agent configuration', () => {
  it('pins the error catalogue', () => {
    expect(Object.keys(AgentErrorCodes)).toEqual([
      'AGENT_OK', 'AGENT_ERR_BAD_COMMAND', 'AGENT_ERR_WRONG_DRONE', 'AGENT_ERR_NO_LINK', 'AGENT_ERR_FC_TIMEOUT',
      'AGENT_ERR_FC_REJECTED', 'AGENT_ERR_MISSION_REJECTED', 'AGENT_ERR_CONFIG', 'AGENT_ERR_UNAUTHENTICATED',
    ]);
  });

  it.each([
    [{ fc: { port: 70000 } }, /^fc\.port: must be an integer in 0–65535/],
    [{ fc: { link: 'usb' } }, /^fc\.link: must be one of "udp", "tcp", "serial"/],
    [{ fc: { baudRate: 12345 } }, /^fc\.baudRate: must be one of/],
    [{ fc: { signing: { key: 'abc' } } }, /^fc\.signing\.key: must be 64 hex digits/],
    [{ fc: { signing: { key: 'a'.repeat(64) }, mavlinkVersion: 1 } }, /^fc\.mavlinkVersion: must be 2 when fc\.signing is set/],
    [{ mqtt: { url: 'http://x' } }, /^mqtt\.url: must be mqtt:\/\/HOST:PORT/],
    [{ mqtt: { cert: '/c.pem' } }, /^mqtt\.key: mqtt\.cert and mqtt\.key go together/],
    [{ publishHz: 0 }, /^publishHz: must be a number in 0\.1–50/],
    [{ spool: { dir: '' } }, /^spool\.dir: must be a non-empty string/],
    [{ healthPort: 70000 }, /^healthPort: must be an integer in 0–65535/],
    [{ healthHost: '' }, /^healthHost: must be a non-empty string/],
  ])('names the field: %j', (input, message) => {
    expect(() => agentConfig({ droneId: 'd1', ...input } as never)).toThrow(message);
  });

  it('reads YAML and JSON files, environment overrides the file, flags override both; the result is frozen', () => {
    const yaml = file('agent.yaml', 'droneId: drone-9\nfc:\n  link: tcp\n  host: 10.0.0.2\n  port: 5760\n  peer: null\nmqtt:\n  url: mqtts://hub:8883\npublishHz: 4\nspool:\n  dir: /var/lib/aerie/spool\n');
    const json = file('agent.json', JSON.stringify({ droneId: 'drone-9', fc: { link: 'udp', peer: '192.168.1.5:14555' } }));
    expect(agentConfig(layeredInput(readConfigFile(json), {}, {})).fc.peer).toEqual({ address: '192.168.1.5', port: 14555 });
    const cfg = agentConfig(layeredInput(readConfigFile(yaml), { [envName('mqtt.password')]: 'pw', AERIE_AGENT_PUBLISH_HZ: '3', AERIE_AGENT_FC_SIGNING_KEY: 'ab'.repeat(32) }, { publishHz: 5 }));
    expect(cfg).toMatchObject({ droneId: 'drone-9', fc: { link: 'tcp', host: '10.0.0.2', port: 5760, signing: { linkId: 0, unsigned: 'reject' } }, mqtt: { password: 'pw' }, publishHz: 5, spool: { maxMb: 64 } });
    expect(Object.isFrozen(cfg.fc.signing)).toBe(true);
    expect(envName('publishHzInFlight')).toBe('AERIE_AGENT_PUBLISH_HZ_IN_FLIGHT');
    // The health server: off unless set; the file's key, then the environment, then --health-port.
    expect(cfg).toMatchObject({ healthPort: null, healthHost: '127.0.0.1' });
    const health = file('health.json', JSON.stringify({ droneId: 'drone-9', healthPort: 9101 }));
    expect(agentConfig(layeredInput(readConfigFile(health), {}, {})).healthPort).toBe(9101);
    expect(agentConfig(layeredInput(readConfigFile(health), { AERIE_AGENT_HEALTH_PORT: '9102', AERIE_AGENT_HEALTH_HOST: '0.0.0.0' }, {}))).toMatchObject({ healthPort: 9102, healthHost: '0.0.0.0' });
    expect(agentConfig(layeredInput(readConfigFile(health), { AERIE_AGENT_HEALTH_PORT: '9102' }, { healthPort: 9103 })).healthPort).toBe(9103);
    expect(() => layeredInput({}, { AERIE_AGENT_FC_PORT: 'x' }, {})).toThrow(/fc\.port \(from AERIE_AGENT_FC_PORT\): must be a number/);
    expect(() => readConfigFile(file('bad.yaml', 'fc: [1, 2'))).toThrow(/config file .*bad\.yaml/);
  });
});

describe('aerie-agent --check', () => {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const run = async (args: string[]): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], { env: { PATH: process.env.PATH } });
      return { code: 0, lines: stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>), stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, lines: e.stdout.trim() ? e.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [], stderr: e.stderr };
    }
  };

  it('passes with a live FC and broker, and fails naming what is missing', async () => {
    const broker = await startMosquitto([{ username: 'drone-c', password: 'pw', role: 'drone' }]);
    cleanups.push(() => broker.stop());
    // The FC sends to a fixed agent port; find a free one by letting the fake FC choose its own first.
    const probe = await startFakeFc({ agentPort: 9 });
    const agentPort = probe.port;
    await probe.stop();
    const fc: FakeFc = await startFakeFc({ agentPort });
    cleanups.push(() => fc.stop());
    const beat = setInterval(() => fc.heartbeat(), 100);
    cleanups.push(() => Promise.resolve(clearInterval(beat)));
    const cfg = file('agent.yaml', `droneId: drone-c\nfc:\n  port: ${agentPort}\n  linkTimeoutMs: 1000\nmqtt:\n  url: ${broker.url}\n  password: pw\n`);
    const ok = await run(['--config', cfg, '--check']);
    expect(ok.code).toBe(0);
    expect(ok.lines.map((l) => [l.check, l.ok])).toEqual([['config', true], ['fc', true], ['mqtt', true]]);

    const bad = await run(['--config', cfg, '--check', '--mqtt-password', 'wrong']);
    expect(bad.code).toBe(1);
    expect(bad.lines.find((l) => l.check === 'mqtt')).toMatchObject({ ok: false });

    const invalid = await run(['--config', cfg, '--check', '--publish-hz', '99']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/AGENT_ERR_CONFIG: publishHz: must be a number in 0\.1–50, got 99/);
  });
});
