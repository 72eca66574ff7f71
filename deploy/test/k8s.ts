// Loads deploy/k8s as `kubectl apply -k` would see it (resources plus the generated ConfigMaps) and
// deploy/docker/*.Dockerfile as Docker would read them, for the tests beside this file. No cluster
// and no Docker engine run here, so the tests check these files against the Kubernetes schemas
// and against the services' own configuration parsers and package metadata.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S = join(ROOT, 'deploy/k8s');
export const DOCKER = join(ROOT, 'deploy/docker');

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

// --- Dockerfiles ---------------------------------------------------------------------------

export interface Instruction { op: string; args: string; line: number }
export interface Stage { from: string; name: string | null; instructions: Instruction[] }

/** Instructions by stage; `\` continuations joined, comments and the parser directive dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (buf === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (buf === '') start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(buf)!;
      logical.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start });
      buf = '';
    }
  });
  const stages: Stage[] = [];
  for (const ins of logical) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: FROM ${ins.args}`);
      stages.push({ from: m[1]!, name: m[2] ?? null, instructions: [] });
    } else if (stages.length === 0) {
      throw new Error(`line ${ins.line}: ${ins.op} before the first FROM`);
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return stages;
}

export const dockerfiles = (): Map<string, Stage[]> => new Map(readdirSync(DOCKER)
  .filter((f) => f.endsWith('.Dockerfile'))
  .map((f) => [f.replace(/\.Dockerfile$/, ''), parseDockerfile(readFileSync(join(DOCKER, f), 'utf8'))]));

export const ops = (s: Stage, op: string): Instruction[] => s.instructions.filter((i) => i.op === op);

/** ENTRYPOINT/CMD in exec form (a JSON array), as Kubernetes' command/args replace them. */
export function execForm(s: Stage, op: 'ENTRYPOINT' | 'CMD'): string[] | null {
  const last = ops(s, op).at(-1);
  if (!last) return null;
  const v: unknown = JSON.parse(last.args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${op} is not in exec form: ${last.args}`);
  return v;
}

/** ENV KEY=VALUE of a stage. */
export function imageEnv(s: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of ops(s, 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

export const exposedPorts = (s: Stage): number[] =>
  ops(s, 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, ''))).sort((a, b) => a - b);

// --- the packages ----------------------------------------------------------------------------

export interface PackageJson { name: string; bin?: Record<string, string>; dependencies?: Record<string, string>; files?: string[]; workspaces?: string[] }
export const packageJson = (dir: string): PackageJson => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackageJson;
export const workspaceDirs = (): string[] => packageJson('.').workspaces ?? [];
const dirOfName = (name: string): string => {
  const dir = workspaceDirs().find((d) => packageJson(d).name === name);
  if (dir === undefined) throw new Error(`no workspace is named ${name}`);
  return dir;
};

/** The workspace itself and every workspace its production dependencies reach. */
export function productionWorkspaces(dir: string): string[] {
  const seen = new Set<string>([dir]);
  const walk = (d: string): void => {
    for (const dep of Object.keys(packageJson(d).dependencies ?? {})) {
      if (!dep.startsWith('@aerie/')) continue;
      const w = dirOfName(dep);
      if (!seen.has(w)) { seen.add(w); walk(w); }
    }
  };
  walk(dir);
  return [...seen].sort();
}

/** The workspace and every project its tsconfig references, transitively (what `tsc -b <dir>` compiles). */
export function tscProjects(dir: string): string[] {
  const seen = new Set<string>([dir]);
  const walk = (d: string): void => {
    const cfg = JSON.parse(readFileSync(join(ROOT, d, 'tsconfig.json'), 'utf8')) as { references?: { path: string }[] };
    for (const r of cfg.references ?? []) {
      const w = join(d, r.path).replace(/\\/g, '/');
      if (!seen.has(w)) { seen.add(w); walk(w); }
    }
  };
  walk(dir);
  return [...seen].sort();
}

/** npm packages (not workspaces) the production dependencies of these workspaces reach, resolved in node_modules. */
export function productionPackages(dirs: string[]): Set<string> {
  const seen = new Set<string>();
  const resolve = (name: string, from: string): string | null => {
    for (const base of [join(ROOT, from, 'node_modules'), join(ROOT, 'node_modules')]) {
      if (existsSync(join(base, name, 'package.json'))) return join(base, name);
    }
    return null;
  };
  const walk = (pkgDir: string, from: string): void => {
    const pj = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pj.dependencies ?? {})) {
      if (dep.startsWith('@aerie/') || seen.has(dep)) continue;
      const at = resolve(dep, from);
      if (at === null) continue; // an optional dependency not installed on this platform
      seen.add(dep);
      walk(at, from);
    }
  };
  for (const d of dirs) walk(join(ROOT, d), d);
  return seen;
}

/** A package that compiles a native addon at install time (node-gyp: a binding.gyp). */
export const isNative = (name: string): boolean =>
  existsSync(join(ROOT, 'node_modules', name, 'binding.gyp')) || workspaceDirs().some((d) => existsSync(join(ROOT, d, 'node_modules', name, 'binding.gyp')));
