// deploy/docker/*.Dockerfile read as Docker reads them, and the package metadata they are checked
// against (bins, workspace dependencies, tsconfig references, native addons).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './k8s.js';

export const DOCKER = join(ROOT, 'deploy/docker');

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
