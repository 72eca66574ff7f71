// deploy/docker/*.Dockerfile read as Docker would (no engine here to build them), checked against
// each package's bin, its workspace dependencies and tsconfig references, the native addons it
// installs, the ports its configuration listens on and the Kubernetes manifests that run it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHubCommand } from '../../fleet-hub/src/cli.js';
import { loadConfig } from '../../telemetry/src/config.js';
import { defaultCoreConfig } from '../../delivery-core/src/config.js';
import { parseConfig as parseSimConfig } from '../../simulator/src/config.js';
import {
  ROOT, aeriePackage, containersOf, kustomization, loadManifests, workloads,
} from './k8s.js';
import { dockerfiles, execForm, exposedPorts, imageEnv, isNative, ops, packageJson, parseDockerfile, productionPackages, productionWorkspaces, tscProjects, workspaceDirs, type Stage } from './docker.js';

const images = dockerfiles();
const objs = loadManifests();
const BASE = 'node:20-bookworm-slim';
const BUILD_TOOLS = /apt-get install[^&]*\bpython3\b[^&]*\bmake\b[^&]*\bg\+\+/;

/** `-w @aerie/x` of the stage's `npm ci` run, as workspace directories. */
function npmCiWorkspaces(s: Stage): { args: string; dirs: string[] } {
  const run = ops(s, 'RUN').find((i) => /\bnpm ci\b/.test(i.args));
  if (!run) throw new Error(`stage ${s.name ?? s.from}: no npm ci`);
  const names = [...run.args.matchAll(/-w\s+(@aerie\/[a-z-]+)/g)].map((m) => m[1]!);
  return { args: run.args, dirs: names.map((n) => workspaceDirs().find((d) => packageJson(d).name === n) ?? `<${n}?>`).sort() };
}

/** Paths COPY takes from the build context (not --from a stage). */
const contextSources = (s: Stage): string[] =>
  ops(s, 'COPY').filter((i) => !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));

/** COPY --from=<stage> <path> in the runtime stage. */
const copiedFrom = (s: Stage, stage: string): string[] =>
  ops(s, 'COPY').filter((i) => i.args.includes(`--from=${stage} `)).map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--'))[0]!);

/** The ports a package's default configuration (the image's CMD and ENV) listens on. */
function listens(pkg: string, runtime: Stage): number[] {
  const argv = execForm(runtime, 'CMD') ?? [];
  const env = imageEnv(runtime);
  if (pkg === 'fleet-hub') {
    const cmd = parseHubCommand(argv, env);
    if (cmd.kind !== 'run') throw new Error('hub CMD is not a run');
    return [cmd.config.mqttPort, cmd.config.metricsPort ?? -1].filter((p) => p > 0);
  }
  if (pkg === 'telemetry') return [loadConfig({}, env).httpPort];
  if (pkg === 'delivery-core') return [defaultCoreConfig.httpPort];
  if (pkg === 'simulator') {
    const cfg = parseSimConfig(argv);
    if (cfg === 'help') throw new Error('simulator CMD asks for help');
    return cfg.portBase === 0 ? [] : [cfg.portBase];
  }
  // edge-agent: an MQTT and MAVLink client; its health port is off unless configured.
  return [];
}

describe('deploy/docker: one multi-stage, non-root image per service', () => {
  it('has a Dockerfile for every workspace with a bin that runs as a service, and each image the manifests use', () => {
    const withBin = workspaceDirs().filter((d) => packageJson(d).bin && !['demo', 'distributed'].includes(d)).sort();
    expect([...images.keys()].sort()).toEqual(withBin);
    for (const w of workloads(objs)) {
      for (const c of containersOf(w)) {
        const pkg = aeriePackage(c);
        if (pkg !== null) expect(images.has(pkg), `${c.image}`).toBe(true);
      }
    }
    for (const i of kustomization().images ?? []) expect(images.has(i.name.replace(/^aerie\//, '')), i.name).toBe(true);
  });

  for (const [pkg, stages] of images) {
    describe(pkg, () => {
      const runtime = stages.at(-1)!;
      const build = stages.find((s) => s.name === 'build');
      const deps = stages.find((s) => s.name === 'deps');

      it('builds on node:20-bookworm-slim in stages (one base: the native addons match the runtime), compiling what tsc -b needs', () => {
        expect(stages.length).toBeGreaterThanOrEqual(2);
        for (const s of stages) expect(s.from).toBe(BASE);
        expect(build && deps).toBeTruthy();
        expect(ops(build!, 'RUN').some((i) => i.args.includes(`npx tsc -b ${pkg}`))).toBe(true);
        const { args, dirs } = npmCiWorkspaces(build!);
        expect(args).toMatch(/--include-workspace-root/); // typescript is the root's devDependency
        expect(dirs).toEqual(tscProjects(pkg));
        // Every workspace's package.json as in the repository, then the sources of the compiled projects.
        const sources = contextSources(build!);
        for (const d of workspaceDirs()) expect(sources, `${d}/package.json`).toContain(`${d}/package.json`);
        for (const d of tscProjects(pkg)) expect(sources, `${d}/`).toContain(`${d}/`);
        for (const src of [...sources, ...contextSources(deps!)]) expect(existsSync(join(ROOT, src)), src).toBe(true);
      });

      it('installs production dependencies only, of exactly the workspaces it runs, with a compiler only where a native addon needs one', () => {
        const { args, dirs } = npmCiWorkspaces(deps!);
        expect(args).toMatch(/--omit=dev/);
        expect(args).not.toMatch(/--ignore-scripts/);
        expect(dirs).toEqual(productionWorkspaces(pkg));
        // npm installs the dependencies of every workspace it finds: only these, or core would get the simulator's.
        expect(contextSources(deps!).filter((p) => p.endsWith('/package.json')).sort()).toEqual(productionWorkspaces(pkg).map((d) => `${d}/package.json`));
        expect(contextSources(deps!)).toContain('package-lock.json');
        const native = [...productionPackages(productionWorkspaces(pkg))].filter(isNative);
        expect(ops(deps!, 'RUN').some((i) => BUILD_TOOLS.test(i.args)), `native: ${native.join(', ') || 'none'}`).toBe(native.length > 0);
        for (const i of ops(runtime, 'RUN')) expect(i.args, 'runtime RUN').not.toMatch(/apt-get|npm |tsc|g\+\+|python/);
      });

      it('ships dist/, production node_modules and package.json of each workspace it runs, and the files its package.json lists', () => {
        const fromBuild = copiedFrom(runtime, 'build');
        const fromDeps = copiedFrom(runtime, 'deps');
        expect(fromDeps).toContain('/app/node_modules');
        for (const d of productionWorkspaces(pkg)) {
          expect(fromBuild).toContain(`/app/${d}/dist`);
          expect(fromBuild).toContain(`/app/${d}/package.json`);
          expect(fromDeps).toContain(`/app/${d}/node_modules`);
          // e.g. delivery-core's tracking-page assets, read from src/ at run time
          for (const f of packageJson(d).files ?? []) expect(fromBuild, `${d} files: ${f}`).toContain(`/app/${d}/${f}`);
        }
        expect(contextSources(runtime), 'the runtime copies nothing from the build context').toEqual([]);
        expect(fromBuild.filter((p) => /\/src(\/|$)/.test(p) && !productionWorkspaces(pkg).some((d) => (packageJson(d).files ?? []).some((f) => p === `/app/${d}/${f}`)))).toEqual([]);
      });

      it('runs the package bin as a numeric non-root user, NODE_ENV=production, SIGTERM', () => {
        const user = ops(runtime, 'USER').at(-1)?.args ?? '';
        expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
        expect(imageEnv(runtime).NODE_ENV).toBe('production');
        expect(ops(runtime, 'STOPSIGNAL').at(-1)?.args).toBe('SIGTERM');
        const entry = execForm(runtime, 'ENTRYPOINT');
        const workdir = ops(runtime, 'WORKDIR').at(-1)?.args;
        const bins = Object.values(packageJson(pkg).bin ?? {});
        expect(bins).toHaveLength(1);
        expect(entry).toEqual(['node', join(workdir!, pkg, bins[0]!)]);
        // The bin is dist/<x>.js, compiled from src/<x>.ts (rootDir src, outDir dist).
        expect(existsSync(join(ROOT, pkg, bins[0]!.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))), bins[0]).toBe(true);
        expect(copiedFrom(runtime, 'build')).toContain(`/app/${pkg}/dist`);
      });

      it('EXPOSEs the ports its default configuration listens on; the manifests run it as the image user, on ports it exposes', () => {
        expect(exposedPorts(runtime)).toEqual(listens(pkg, runtime).sort((a, b) => a - b));
        const uid = Number((ops(runtime, 'USER').at(-1)?.args ?? '').split(':')[0]);
        for (const w of workloads(objs)) {
          for (const c of containersOf(w).filter((x) => aeriePackage(x) === pkg)) {
            const ports = (c.ports ?? []).map((p) => p.containerPort).sort((a, b) => a - b);
            expect(ports.length).toBeGreaterThan(0);
            for (const p of ports) expect(exposedPorts(runtime), `${w.metadata.name} containerPort ${p}`).toContain(p);
            expect(c.securityContext?.runAsUser ?? w.spec.template.spec?.securityContext?.runAsUser, w.metadata.name).toBe(uid);
          }
        }
      });
    });
  }

  it('keeps the host\'s node_modules, dist/ and .git out of the build context, and nothing the images copy', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const p of ['.git', '**/node_modules', '**/dist']) expect(ignore).toContain(p);
    const ignored = (path: string): boolean => ignore.some((p) => {
      const glob = p.split('**/').map((part) => part.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')).join('(?:.*/)?');
      const re = new RegExp(`^${glob}(?:/|$)`);
      return re.test(path.replace(/\/$/, ''));
    });
    expect(ignored('fleet-hub/node_modules/x')).toBe(true);
    for (const stages of images.values()) for (const s of stages) for (const src of contextSources(s)) expect(ignored(src), src).toBe(false);
  });

  it('parses Dockerfile continuations and stages as Docker does', () => {
    const s = parseDockerfile('# syntax=docker/dockerfile:1\nFROM a AS one\nRUN x \\\n  && y\n\nFROM b\nUSER 1000\n');
    expect(s.map((x) => [x.from, x.name])).toEqual([['a', 'one'], ['b', null]]);
    expect(s[0]!.instructions).toEqual([{ op: 'RUN', args: 'x && y', line: 3 }]);
    expect(() => parseDockerfile('RUN x\nFROM a\n')).toThrow(/before the first FROM/);
  });
});
