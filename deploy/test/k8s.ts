// Loads deploy/k8s as `kubectl apply -k` would see it (resources plus the generated ConfigMaps) and
// deploy/docker/*.Dockerfile as Docker would read them, for the tests beside this file. No cluster
// and no Docker engine run here, so the tests check these files against the Kubernetes schemas
// and against the services' own configuration parsers and package metadata.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S = join(ROOT, 'deploy/k8s');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export function parseYamlDocs(text: string, where: string): K8sObject[] {
  return parseAllDocuments(text).map((d, i) => {
    if (d.errors.length > 0) throw new Error(`${where} document ${i}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as K8sObject;
  }).filter((o) => o !== null);
}

interface Generator { name: string; envs?: string[]; files?: string[]; literals?: string[] }
export interface Kustomization {
  namespace: string;
  resources: string[];
  configMapGenerator?: Generator[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

export const kustomization = (): Kustomization =>
  parseYamlDocs(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'), 'kustomization.yaml')[0] as unknown as Kustomization;

/** KEY=VALUE lines as kustomize reads an `envs` file: blank lines and # comments skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    out[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return out;
}

/** The ConfigMaps configMapGenerator makes (names before kustomize's hash suffix, which it also writes into every reference). */
export function generatedConfigMaps(k: Kustomization): K8sObject[] {
  return (k.configMapGenerator ?? []).map((g) => {
    const data: Record<string, string> = {};
    for (const f of g.envs ?? []) Object.assign(data, parseEnvFile(readFileSync(join(K8S, f), 'utf8')));
    for (const f of g.files ?? []) data[basename(f)] = readFileSync(join(K8S, f), 'utf8');
    for (const l of g.literals ?? []) Object.assign(data, parseEnvFile(l));
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data };
  });
}

/** Everything `kubectl apply -k deploy/k8s` creates, in the kustomization's namespace. */
export function loadManifests(): K8sObject[] {
  const k = kustomization();
  const objs = [
    ...k.resources.flatMap((r) => parseYamlDocs(readFileSync(join(K8S, r), 'utf8'), r)),
    ...generatedConfigMaps(k),
  ];
  for (const o of objs) if (o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
  return objs;
}

/** The Secret templates (not applied by the kustomization; the real ones are created by hand). */
export const loadSecretTemplates = (): K8sObject[] =>
  parseYamlDocs(readFileSync(join(K8S, 'secrets.example.yaml'), 'utf8'), 'secrets.example.yaml');

export interface Workload extends K8sObject {
  spec: { replicas?: number; serviceName?: string; selector: { matchLabels: Record<string, string> }; template: IPodTemplateSpec };
}
export const workloads = (objs: K8sObject[]): Workload[] =>
  objs.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet');
export const containersOf = (w: Workload): IContainer[] => w.spec.template.spec?.containers ?? [];
export const podLabels = (w: Workload): Record<string, string> => w.spec.template.metadata?.labels ?? {};
export const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The Aerie image a container runs (aerie/<package>), or null for the engines' images. */
export const aeriePackage = (c: IContainer): string | null => /^aerie\/([a-z-]+)(?::.*)?$/.exec(c.image ?? '')?.[1] ?? null;

/** A container port by number or by name. */
export function portNumber(c: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** The environment a container starts with: the image's ENV, then envFrom ConfigMaps, then env (Secrets as placeholders). */
export function containerEnv(c: IContainer, objs: K8sObject[], imageEnv: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv };
  for (const f of c.envFrom ?? []) {
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === f.configMapRef?.name) as { data?: Record<string, string> } | undefined;
    if (f.configMapRef && !cm) throw new Error(`envFrom: no ConfigMap ${f.configMapRef.name}`);
    Object.assign(env, cm?.data ?? {});
  }
  for (const e of c.env ?? []) {
    env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? `<secret ${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}>` : e.valueFrom?.fieldRef ? `<field ${e.valueFrom.fieldRef.fieldPath}>` : '');
  }
  return env;
}
