// The cluster's gateway configuration (deploy/k8s/config/nginx.conf) is deploy/nginx's template
// rendered with deploy/k8s/config/nginx.values.yaml: it must stay equal to a fresh rendering, point
// at the Services and mounts the gateway pod has, and pass Debian's `nginx -t`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { IService } from 'kubernetes-models/v1/Service';
import { makeTestPki } from '../../test-support/certs.js';
import { K8S, ROOT, containersOf, loadManifests, loadSecretTemplates, workloads, type K8sObject } from './k8s.js';

const TEMPLATE = join(ROOT, 'deploy/nginx/aerie.conf.template');
const CONF = join(K8S, 'config/nginx.conf');
const HEADER = '# GENERATED from deploy/nginx/aerie.conf.template with deploy/k8s/config/nginx.values.yaml; do not edit\n'
  + '# (deploy/test/k8s-gateway.test.ts fails when it differs from a fresh rendering).\n';

const values = parse(readFileSync(join(K8S, 'config/nginx.values.yaml'), 'utf8')) as Record<string, string>;
const placeholders = (t: string): string[] => [...new Set([...t.matchAll(/\{\{([A-Z_]+)\}\}/g)].map((m) => m[1]!))].sort();
const render = (template: string, v: Record<string, string>): string =>
  HEADER + template.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const value = v[name];
    if (value === undefined) throw new Error(`{{${name}}} has no value in nginx.values.yaml`);
    return value;
  });

const objs = loadManifests();
const gateway = workloads(objs).find((w) => w.metadata.name === 'gateway')!;
const container = containersOf(gateway)[0]!;
const start = (container.args ?? []).join(' ');
const mountOf = (path: string) => container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
const volume = (name: string | undefined) => gateway.spec.template.spec?.volumes?.find((v) => v.name === name);

const tmp: string[] = [];
afterAll(() => { for (const d of tmp) rmSync(d, { recursive: true, force: true }); });

describe('the gateway in the cluster runs deploy/nginx\'s configuration', () => {
  it('config/nginx.conf is the template rendered with nginx.values.yaml, every placeholder given', () => {
    const template = readFileSync(TEMPLATE, 'utf8');
    expect(Object.keys(values).sort()).toEqual(placeholders(template));
    const fresh = render(template, values);
    if (readFileSync(CONF, 'utf8') !== fresh) {
      const out = join(tmpdir(), 'aerie-k8s-nginx.conf');
      writeFileSync(out, fresh);
      expect.fail(`deploy/k8s/config/nginx.conf is stale: the template or nginx.values.yaml changed. Review and copy the fresh rendering: cp ${out} ${CONF}`);
    }
  });

  it('listens on the container port, reads its TLS pair from the mounted Secret, writes under an emptyDir, is started with that file', () => {
    expect(container.ports?.map((p) => p.containerPort)).toEqual([Number(values.LISTEN)]);
    const tls = [values.TLS_CERT!, values.TLS_KEY!].map((p) => ({ p, m: mountOf(p) }));
    for (const { p, m } of tls) {
      const secretName = volume(m?.name)?.secret?.secretName;
      const secret = loadSecretTemplates().find((s) => s.metadata.name === secretName) as (K8sObject & { stringData: Record<string, string> }) | undefined;
      expect(Object.keys(secret?.stringData ?? {}), p).toContain(p.slice(m!.mountPath.length + 1));
    }
    expect(volume(mountOf(`${values.PREFIX!}/x`)?.name)?.emptyDir, 'PREFIX on an emptyDir').toBeDefined();
    expect(start).toContain(`-p ${values.PREFIX!}/`);
    // Logs to the container's stdout/stderr, where kubectl logs finds them.
    expect(start).toContain(`ln -sf /dev/stdout ${values.PREFIX!}/logs/access.log`);
    const conf = /-c (\S+)/.exec(start)?.[1];
    const m = mountOf(conf ?? '');
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume(m?.name)?.configMap?.name) as (K8sObject & { data: Record<string, string> }) | undefined;
    expect(cm?.data[conf!.slice(m!.mountPath.length + 1)]).toBe(readFileSync(CONF, 'utf8'));
  });

  it('sends core and telemetry traffic to their Services\' ports', () => {
    const services = objs.filter((o): o is K8sObject & IService => o.kind === 'Service');
    const upstreams = { CORE_SERVERS: 'delivery-core', TELEMETRY_SERVERS: 'telemetry' } as const;
    for (const [key, service] of Object.entries(upstreams)) {
      const servers = [...values[key]!.matchAll(/server ([a-z0-9-]+):(\d+)/g)];
      expect(servers.length, key).toBeGreaterThan(0);
      for (const [, host, port] of servers) {
        expect(host, key).toBe(service);
        expect(services.find((s) => s.metadata.name === host)?.spec?.ports?.map((p) => p.port), key).toContain(Number(port));
      }
    }
  });

  it('passes Debian\'s nginx -t (upstream names, certificate and prefix swapped for local ones)', () => {
    const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
    if (!nginx) throw new Error("nginx not found: install Debian's nginx (npm test does this when run as root)");
    const dir = mkdtempSync(join(tmpdir(), 'aerie-k8s-nginx-'));
    tmp.push(dir);
    const pki = makeTestPki();
    tmp.push(pki.dir);
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'temp'));
    const local = render(readFileSync(TEMPLATE, 'utf8'), {
      ...values,
      PREFIX: dir,
      TLS_CERT: pki.serverCertFile,
      TLS_KEY: pki.serverKeyFile,
      // Cluster DNS names do not resolve here; nginx -t resolves every upstream server.
      CORE_SERVERS: values.CORE_SERVERS!.replace(/server [a-z0-9-]+:/g, 'server 127.0.0.1:'),
      TELEMETRY_SERVERS: values.TELEMETRY_SERVERS!.replace(/server [a-z0-9-]+:/g, 'server 127.0.0.1:'),
    });
    writeFileSync(join(dir, 'nginx.conf'), local);
    const r = spawnSync(nginx, ['-t', '-e', 'stderr', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(r.status, `nginx -t: ${r.stderr}`).toBe(0);
    expect(r.stderr).toMatch(/test is successful/);
  });
});
