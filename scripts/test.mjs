#!/usr/bin/env node
// The one test gate: installs the Debian servers the tests start (when root), then lint,
// typecheck (build + tests) and every test. Each test starts and stops its own servers on loopback.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const DEBIAN_PACKAGES = [
  { pkg: 'mosquitto', bin: '/usr/sbin/mosquitto' },
  { pkg: 'socat', bin: '/usr/bin/socat' },
  { pkg: 'influxdb', bin: '/usr/bin/influxd' },
  { pkg: 'victoria-metrics', bin: '/usr/bin/victoria-metrics' },
  { pkg: 'openssl', bin: '/usr/bin/openssl' },
  // delivery-core's tracking-page test drives it with playwright-core (no browser download).
  { pkg: 'chromium', bin: '/usr/bin/chromium' },
  // delivery-core's repository suite runs on PostgreSQL too; its binaries live under the major version.
  { pkg: 'postgresql', bin: '/usr/lib/postgresql/*/bin/postgres' },
  // The distributed mode's public gateway (deploy/nginx) is Debian's nginx.
  { pkg: 'nginx', bin: '/usr/sbin/nginx' },
];

/** `bin` may hold one `*` path segment. */
function present(bin) {
  const [head, tail] = bin.split('/*/');
  if (tail === undefined) return existsSync(bin);
  return existsSync(head) && readdirSync(head).some((v) => existsSync(`${head}/${v}/${tail}`));
}

function ensureDebianPackages() {
  const missing = DEBIAN_PACKAGES.filter((p) => !present(p.bin)).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`test: missing Debian packages ${missing.join(' ')}; run as root or: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`test: installing ${missing.join(' ')} from Debian`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

function step(name, cmd, args) {
  console.log(`\n▶ ${name}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`✖ ${name} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

/** Runs the steps at once (each is one single-threaded process); prints each one's output whole, in order. */
async function together(steps) {
  console.log(`\n▶ ${steps.map((s) => s.name).join(' | ')} (at once)`);
  const runs = steps.map(({ name, cmd, args }) => new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => out.push(b));
    child.on('error', (err) => resolve({ name, status: 1, out: [Buffer.from(`${String(err)}\n`)] }));
    child.on('close', (status, signal) => resolve({ name, status: status ?? signal, out }));
  }));
  let failed = null;
  for (const r of await Promise.all(runs)) {
    console.log(`\n▶ ${r.name}`);
    process.stdout.write(Buffer.concat(r.out));
    if (r.status !== 0) {
      console.error(`✖ ${r.name} failed (exit ${r.status})`);
      failed ??= typeof r.status === 'number' ? r.status : 1;
    }
  }
  if (failed !== null) process.exit(failed);
}

ensureDebianPackages();
// Build first: type-aware lint resolves each package's imports of the others through their dist/.
step('build + typecheck', 'npx', ['tsc', '-b']);
// Lint and the tests' typecheck only read the build: on two cores they take one step's time.
await together([
  { name: 'lint', cmd: 'npx', args: ['eslint', '.'] },
  { name: 'typecheck tests', cmd: 'npx', args: ['tsc', '-p', 'tsconfig.test.json'] },
]);
step('tests', 'npx', ['vitest', 'run', ...process.argv.slice(2)]);
