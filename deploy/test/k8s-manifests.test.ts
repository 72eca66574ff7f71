import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import {
  K8S, ROOT, aeriePackage, containersOf, generatedConfigMaps, kustomization, loadManifests, loadSecretTemplates, matches,
  podLabels, portNumber, workloads, type K8sObject, type Workload,
} from './k8s.js';

const objs = loadManifests();
const secrets = loadSecretTemplates();
const services = objs.filter((o): o is K8sObject & IService => o.kind === 'Service');
const pdbs = objs.filter((o): o is K8sObject & IPodDisruptionBudget => o.kind === 'PodDisruptionBudget');

// The upstream OpenAPI-derived JSON schemas, one model per kind (kubernetes-models 5.1.0).
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace, 'v1/Service': Service, 'v1/ConfigMap': ConfigMap, 'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment, 'apps/v1/StatefulSet': StatefulSet, 'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** Throws with the schema's complaints, or for a kind this test has no schema for (never a silent pass). */
function validateObject(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`${o.apiVersion} ${o.kind} ${o.metadata?.name}: no schema in this test; add its kubernetes-models class`);
  new Model(structuredClone(o) as never).validate();
}

const hub = (): Workload => workloads(objs).find((w) => w.metadata.name === 'fleet-hub')!;

describe('deploy/k8s against the Kubernetes JSON schemas', () => {
  it('lists only files that exist, and every object and Secret template validates', () => {
    const k = kustomization();
    for (const f of [...k.resources, ...(k.configMapGenerator ?? []).flatMap((g) => [...(g.envs ?? []), ...(g.files ?? [])])]) {
      expect(existsSync(join(K8S, f)), f).toBe(true);
    }
    for (const o of [...objs, ...secrets]) expect(() => validateObject(o), `${o.kind} ${o.metadata.name}`).not.toThrow();
    expect(generatedConfigMaps(k).length).toBeGreaterThan(0);
    expect(new Set(objs.map((o) => o.kind))).toEqual(new Set(['Namespace', 'Service', 'ConfigMap', 'Deployment', 'StatefulSet', 'PodDisruptionBudget']));
  });

  it('rejects a broken manifest: a probe port that is an object, a container without a name, an unknown kind', () => {
    const probe = structuredClone(hub()) as unknown as { spec: { template: { spec: { containers: { livenessProbe: { httpGet: { port: unknown } }; name?: string }[] } } } };
    probe.spec.template.spec.containers[0]!.livenessProbe.httpGet.port = { number: 9464 };
    expect(() => validateObject(probe as unknown as K8sObject)).toThrow(/httpGet\/port must be/);
    const unnamed = structuredClone(probe);
    unnamed.spec.template.spec.containers[0]!.livenessProbe.httpGet.port = 9464;
    delete unnamed.spec.template.spec.containers[0]!.name;
    expect(() => validateObject(unnamed as unknown as K8sObject)).toThrow(/containers\/0 must have required property name/);
    expect(() => validateObject({ ...hub(), kind: 'DaemonSet' })).toThrow(/no schema/);
  });
});

describe('deploy/k8s is wired together', () => {
  it('every Service selects the pods of one workload, on ports those containers declare', () => {
    for (const s of services) {
      const sel = s.spec?.selector ?? {};
      const targets = workloads(objs).filter((w) => matches(sel, podLabels(w)));
      expect(targets.map((w) => w.metadata.name), `Service ${s.metadata.name}`).toHaveLength(1);
      for (const p of s.spec?.ports ?? []) {
        const port = containersOf(targets[0]!).map((c) => portNumber(c, p.targetPort ?? p.port)).find((n) => n !== undefined);
        expect(port, `Service ${s.metadata.name} targetPort ${String(p.targetPort)}`).toBeDefined();
      }
    }
  });

  it('every workload selects its own pods, a StatefulSet names a headless Service that selects them, and PDBs cover hub, core, telemetry and gateway', () => {
    for (const w of workloads(objs)) {
      expect(matches(w.spec.selector.matchLabels, podLabels(w)), w.metadata.name).toBe(true);
      if (w.kind === 'StatefulSet') {
        const gov = services.find((s) => s.metadata.name === w.spec.serviceName);
        expect(gov?.spec?.clusterIP, `${w.metadata.name} serviceName`).toBe('None');
        expect(matches(gov!.spec!.selector!, podLabels(w))).toBe(true);
      }
    }
    for (const p of pdbs) {
      const sel = p.spec?.selector?.matchLabels ?? {};
      expect(workloads(objs).filter((w) => matches(sel, podLabels(w))).map((w) => w.metadata.name), `PDB ${p.metadata.name}`).toHaveLength(1);
      // A budget that can never be met blocks every node drain.
      const target = workloads(objs).find((w) => matches(sel, podLabels(w)))!;
      if (p.spec?.minAvailable !== undefined) expect(Number(p.spec.minAvailable), `PDB ${p.metadata.name}`).toBeLessThan(target.spec.replicas ?? 1);
    }
    const covered = workloads(objs).filter((w) => pdbs.some((p) => matches(p.spec?.selector?.matchLabels ?? {}, podLabels(w)))).map((w) => w.metadata.name);
    expect(covered.sort()).toEqual(['delivery-core', 'fleet-hub', 'gateway', 'telemetry']);
  });

  it('every ConfigMap and Secret a workload refers to exists, with the keys it names', () => {
    const configMaps = objs.filter((o) => o.kind === 'ConfigMap') as (K8sObject & { data?: Record<string, string> })[];
    const keysOf = (kind: 'ConfigMap' | 'Secret', name: string): string[] | undefined => {
      const o: (K8sObject & { data?: object; stringData?: object }) | undefined = (kind === 'ConfigMap' ? configMaps : secrets).find((x) => x.metadata.name === name);
      return o === undefined ? undefined : Object.keys(o.data ?? o.stringData ?? {});
    };
    const refs: { kind: 'ConfigMap' | 'Secret'; name: string; key?: string; where: string }[] = [];
    for (const w of workloads(objs)) {
      const pod = w.spec.template.spec!;
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const where = `${w.metadata.name}/${c.name}`;
        for (const f of c.envFrom ?? []) {
          if (f.configMapRef) refs.push({ kind: 'ConfigMap', name: f.configMapRef.name!, where });
          if (f.secretRef) refs.push({ kind: 'Secret', name: f.secretRef.name!, where });
        }
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef;
          const sk = e.valueFrom?.secretKeyRef;
          if (cm) refs.push({ kind: 'ConfigMap', name: cm.name!, key: cm.key, where: `${where} env ${e.name}` });
          if (sk) refs.push({ kind: 'Secret', name: sk.name!, key: sk.key, where: `${where} env ${e.name}` });
        }
      }
      for (const v of pod.volumes ?? []) {
        if (v.configMap) for (const it of v.configMap.items ?? [{ key: undefined }]) refs.push({ kind: 'ConfigMap', name: v.configMap.name!, ...(it.key ? { key: it.key } : {}), where: `${w.metadata.name} volume ${v.name}` });
        if (v.secret) for (const it of v.secret.items ?? [{ key: undefined }]) refs.push({ kind: 'Secret', name: v.secret.secretName!, ...(it.key ? { key: it.key } : {}), where: `${w.metadata.name} volume ${v.name}` });
      }
    }
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) {
      const keys = keysOf(r.kind, r.name);
      expect(keys, `${r.where}: ${r.kind} ${r.name}`).toBeDefined();
      if (r.key !== undefined) expect(keys, `${r.where}: ${r.kind} ${r.name} key ${r.key}`).toContain(r.key);
    }
    // Secret templates only: every value says it is a placeholder (the ACL is the real one: no secret in it).
    for (const s of secrets) {
      for (const [k, v] of Object.entries((s as { stringData?: Record<string, string> }).stringData ?? {})) if (k !== 'acl') expect(v, `${s.metadata.name}/${k}`).toMatch(/CHANGE-ME/);
    }
  });
});

describe('deploy/k8s runs the Aerie services as the brief for clusters asks', () => {
  it('every Aerie container: /livez and /readyz probes on its port, requests and limits, non-root, read-only root, a preStop pause, 30 s grace', () => {
    const aerie = workloads(objs).flatMap((w) => containersOf(w).filter((c) => aeriePackage(c) !== null).map((c) => ({ w, c })));
    expect(aerie.map(({ c }) => aeriePackage(c)).sort()).toEqual(['delivery-core', 'fleet-hub', 'telemetry']);
    for (const { w, c } of aerie) {
      const at = `${w.metadata.name}/${c.name}`;
      expect(c.livenessProbe?.httpGet?.path, at).toBe('/livez');
      expect(c.readinessProbe?.httpGet?.path, at).toBe('/readyz');
      for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        if (p) expect(portNumber(c, p.httpGet?.port), `${at} probe port`).toBeDefined();
      }
      expect(c.lifecycle?.preStop?.exec?.command?.[0], at).toBe('sleep');
      expect(c.securityContext?.readOnlyRootFilesystem, at).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation, at).toBe(false);
      expect(w.spec.template.spec?.securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot, at).toBe(true);
      expect(w.spec.template.spec?.terminationGracePeriodSeconds, at).toBe(30);
      // The rolling-update story relies on replicas > 1 being safe; see the config test for which are.
    }
    for (const w of workloads(objs)) {
      for (const c of containersOf(w)) {
        const at = `${w.metadata.name}/${c.name}`;
        expect(c.livenessProbe, at).toBeDefined();
        expect(c.readinessProbe, at).toBeDefined();
        for (const r of ['cpu', 'memory']) {
          expect(c.resources?.requests?.[r], `${at} requests.${r}`).toBeDefined();
          expect(c.resources?.limits?.[r], `${at} limits.${r}`).toBeDefined();
        }
      }
    }
  });

  it('probes only paths the service serves (a route literal in its src/)', () => {
    const sources = (dir: string): string => readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const w of workloads(objs)) {
      for (const c of containersOf(w)) {
        const pkg = aeriePackage(c);
        if (pkg === null) continue;
        const src = sources(join(ROOT, pkg, 'src'));
        for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          const path = p?.httpGet?.path;
          if (path !== undefined) expect(src, `${pkg} serves ${path}`).toContain(`'${path}'`);
        }
      }
    }
  });

  it('the per-instance state of core, telemetry and the engines is on a volume claimed per replica (StatefulSet), the hub is a Deployment of two', () => {
    const kind = Object.fromEntries(workloads(objs).map((w) => [w.metadata.name, w.kind]));
    expect(kind).toEqual({
      'fleet-hub': 'Deployment', gateway: 'Deployment',
      'delivery-core': 'StatefulSet', telemetry: 'StatefulSet', mosquitto: 'StatefulSet', postgres: 'StatefulSet', influxdb: 'StatefulSet',
    });
    expect(hub().spec.replicas).toBe(2);
    for (const w of workloads(objs).filter((x) => x.kind === 'StatefulSet')) {
      const claims = ((w.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map((t) => t.metadata.name);
      const mounted = containersOf(w).flatMap((c) => c.volumeMounts ?? []).map((m) => m.name);
      expect(claims.length, w.metadata.name).toBeGreaterThan(0);
      for (const n of claims) expect(mounted, `${w.metadata.name} mounts ${n}`).toContain(n);
    }
  });
});
