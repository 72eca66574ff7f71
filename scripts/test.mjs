#!/usr/bin/env node
// The one test gate: installs the Debian servers the tests start (when root), then lint,
// typecheck (build + tests) and every test. Each test starts and stops its own servers on loopback.
import { execFileSync, spawnSync } from 'node:child_process';
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

ensureDebianPackages();
// Build first: type-aware lint resolves each package's imports of the others through their dist/.
step('build + typecheck', 'npx', ['tsc', '-b']);
step('lint', 'npx', ['eslint', '.']);
step('typecheck tests', 'npx', ['tsc', '-p', 'tsconfig.test.json']);
step('tests', 'npx', ['vitest', 'run', ...process.argv.slice(2)]);
