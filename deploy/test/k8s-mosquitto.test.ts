// The cluster's broker: deploy/k8s/config/mosquitto.conf and the ACL of secrets.example.yaml,
// checked against the StatefulSet that mounts them and the services that log in, then run on
// Debian's Mosquitto (ports, paths and certificate swapped for local ones): the services share a
// subscription group, a drone publishes only as itself, QoS 1 is queued.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { aclText } from '@aerie/local-engines';
import { makeTestPki } from '../../test-support/certs.js';
import { freePort, stopServer, waitForPort } from '../../test-support/servers.js';
import { K8S, ROOT, containersOf, loadManifests, loadSecretTemplates, workloads, type K8sObject } from './k8s.js';

const conf = readFileSync(join(K8S, 'config/mosquitto.conf'), 'utf8');
const directives = conf.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
const values = (name: string): string[] => directives.filter((d) => d[0] === name).map((d) => d.slice(1).join(' '));
const objs = loadManifests();
const broker = workloads(objs).find((w) => w.metadata.name === 'mosquitto')!;
const container = containersOf(broker)[0]!;
const auth = loadSecretTemplates().find((s) => s.metadata.name === 'aerie-mosquitto-auth') as K8sObject & { stringData: Record<string, string> };
const configMaps = objs.filter((o) => o.kind === 'ConfigMap') as (K8sObject & { data: Record<string, string> })[];
const serviceUsers = ['AERIE_HUB_EXTERNAL_USERNAME', 'AERIE_CORE_MQTT_USERNAME', 'AERIE_TELEMETRY_MQTT_USERNAME']
  .map((k) => configMaps.find((c) => c.data[k] !== undefined)?.data[k] ?? `<${k} unset>`);

/** Where a path in the container comes from: the volume (Secret, ConfigMap, claim) and the key or sub-path. */
function source(path: string): { kind: 'secret' | 'configMap' | 'claim'; name: string; key: string } {
  const m = container.volumeMounts?.find((x) => path.startsWith(`${x.mountPath}/`));
  if (!m) throw new Error(`${path} is on no volume`);
  const v = broker.spec.template.spec?.volumes?.find((x) => x.name === m.name);
  const key = path.slice(m.mountPath.length + 1).replace(/\/$/, '');
  if (v?.secret) return { kind: 'secret', name: v.secret.secretName!, key };
  if (v?.configMap) return { kind: 'configMap', name: v.configMap.name!, key };
  return { kind: 'claim', name: m.name, key };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const f of cleanup.reverse()) await f(); });

describe('deploy/k8s Mosquitto', () => {
  it('listens on the ports the pod declares, reads its files from the mounted Secrets and ConfigMap, persists on its claim', () => {
    expect(values('listener').map(Number).sort()).toEqual(container.ports?.map((p) => p.containerPort).sort());
    const cmdConf = (container.args ?? []).at(-1)!;
    const c = source(cmdConf);
    expect(configMaps.find((x) => x.metadata.name === c.name)?.data[c.key]).toBe(conf);
    const secretKeys = (name: string): string[] => Object.keys((loadSecretTemplates().find((s) => s.metadata.name === name) as { stringData?: object } | undefined)?.stringData ?? {});
    for (const d of ['password_file', 'acl_file', 'certfile', 'keyfile']) {
      const s = source(values(d)[0] ?? `<${d} unset>`);
      expect(s.kind, d).toBe('secret');
      expect(secretKeys(s.name), d).toContain(s.key);
    }
    expect(values('persistence')).toEqual(['true']);
    const p = source(values('persistence_location')[0]!);
    expect(p.kind).toBe('claim');
    expect((broker.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates?.map((t) => t.metadata.name)).toContain(p.name);
    expect(values('allow_anonymous')).toEqual(['false']);
  });

  it('queues QoS 1 well past Mosquitto\'s default of 1000, as the tests\' broker does', () => {
    const ours = Number(values('max_queued_messages')[0]);
    const tests = Number(/max_queued_messages (\d+)/.exec(readFileSync(join(ROOT, 'test-support/mosquitto.ts'), 'utf8'))?.[1]);
    expect(ours).toBeGreaterThan(1000);
    expect(ours).toBeGreaterThanOrEqual(tests);
  });

  it('gives every service principal the services\' topics, and drones the same patterns as the tests\' broker', () => {
    const acl = auth.stringData.acl!;
    for (const u of serviceUsers) {
      expect(acl, u).toContain(`user ${u}\ntopic readwrite fleet/v1/#\ntopic readwrite svc/v1/#\n`);
      expect(auth.stringData.passwd, u).toMatch(new RegExp(`^${u}:`, 'm'));
    }
    const patterns = (text: string): string[] => [...text.matchAll(/pattern (?:read|write|readwrite) [^\n'"]+/g)].map((m) => m[0]).sort();
    // The patterns the launcher and the tests' broker write (local-engines' aclText).
    expect(patterns(acl)).toEqual(patterns(aclText([])));
  });

  it('runs on Debian\'s Mosquitto: two hubs share the fleet, telemetry gets it all, a drone publishes only as itself, over TLS', async () => {
    const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
    const passwdBin = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd'].find((p) => existsSync(p));
    if (!bin || !passwdBin) throw new Error("mosquitto not found: install Debian's mosquitto package (npm test does this when run as root)");
    const dir = mkdtempSync(join(tmpdir(), 'aerie-k8s-mosquitto-'));
    const pki = makeTestPki();
    cleanup.push(() => pki.remove());
    for (const sub of ['auth', 'tls', 'data']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'auth/passwd'), '');
    const users = [...serviceUsers, 'drone-001', 'drone-002'];
    for (const u of users) execFileSync(passwdBin, ['-b', join(dir, 'auth/passwd'), u, `pw-${u}`]);
    writeFileSync(join(dir, 'auth/acl'), auth.stringData.acl!);
    writeFileSync(join(dir, 'tls/tls.crt'), readFileSync(pki.serverCertFile));
    writeFileSync(join(dir, 'tls/tls.key'), readFileSync(pki.serverKeyFile));
    const [plain, tls] = [await freePort(), await freePort()];
    const local = conf
      .replace(/^listener 1883$/m, `listener ${plain} 127.0.0.1`)
      .replace(/^listener 8883$/m, `listener ${tls} 127.0.0.1`)
      .replaceAll('/mosquitto/', `${dir}/`)
      .replace(/^log_dest stdout$/m, 'log_dest stderr');
    writeFileSync(join(dir, 'mosquitto.conf'), local);
    // Started as root, Mosquitto drops to its own user, which must read these and write data/.
    chmodSync(dir, 0o755);
    for (const f of ['auth', 'tls']) chmodSync(join(dir, f), 0o755);
    for (const f of ['auth/passwd', 'auth/acl', 'tls/tls.crt', 'tls/tls.key', 'mosquitto.conf']) chmodSync(join(dir, f), 0o644);
    chmodSync(join(dir, 'data'), 0o777);
    const child = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cleanup.push(() => stopServer(child, dir));
    await waitForPort(plain, child, 10_000, 'mosquitto', () => stderr);
    await waitForPort(tls, child, 10_000, 'mosquitto', () => stderr);

    const url = `mqtt://127.0.0.1:${plain}`;
    const login = async (u: string, opts: mqtt.IClientOptions = {}) => {
      const c = await mqtt.connectAsync(opts.protocol === 'mqtts' ? `mqtts://127.0.0.1:${tls}` : url, { clientId: `${u}-${opts.clientId ?? 'x'}`, username: u, password: `pw-${u}`, protocolVersion: 5, reconnectPeriod: 0, ...opts });
      cleanup.push(() => c.endAsync(true));
      return c;
    };
    const [hubUser, , telemetryUser] = serviceUsers as [string, string, string];
    const got: Record<string, string[]> = { hub1: [], hub2: [], telemetry: [] };
    for (const [name, user] of [['hub1', hubUser], ['hub2', hubUser], ['telemetry', telemetryUser]] as const) {
      const c = await login(user, { clientId: name });
      c.on('message', (topic) => got[name]!.push(topic));
      await c.subscribeAsync(name === 'telemetry' ? 'fleet/v1/+/status' : '$share/aerie-hubs/fleet/v1/+/status', { qos: 1 });
    }
    const drone = await login('drone-001', { protocol: 'mqtts', ca: readFileSync(pki.caFile), servername: 'localhost', clientId: 'drone' });
    for (let i = 0; i < 20; i++) await drone.publishAsync('fleet/v1/drone-001/status', JSON.stringify({ seq: i }), { qos: 1 });
    // Denied by the ACL: Mosquitto answers an MQTT 5 PUBACK with "not authorized" and drops it.
    await drone.publishAsync('fleet/v1/drone-002/status', 'spoofed', { qos: 1 }).catch(() => undefined);
    for (let i = 0; i < 100 && got.telemetry!.length < 20; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    expect(got.telemetry).toEqual(Array(20).fill('fleet/v1/drone-001/status'));
    // A shared subscription hands each message to one member of the group.
    expect(got.hub1!.length + got.hub2!.length).toBe(20);
    await expect(mqtt.connectAsync(url, { clientId: 'intruder', username: 'drone-001', password: 'wrong', protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
  });
});
