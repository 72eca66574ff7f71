import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A Debian binary by absolute path; a missing one fails the launch with the package to install. */
export function binary(name: string, pkg: string, dirs: readonly string[] = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']): string {
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} not found in ${dirs.join(', ')}: install Debian's ${pkg} package (apt-get install ${pkg}; npm test does it when run as root)`);
}

/** Debian's PostgreSQL binaries, the newest major version installed. */
export function postgresBinDir(root = '/usr/lib/postgresql'): string {
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`postgres not found (no ${root}/<version>/bin/postgres): install Debian's postgresql package`);
  return join(root, versions[0], 'bin');
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** uid/gid of a system user (Debian's `postgres`, `mosquitto`). */
export function systemUser(name: string): { uid: number; gid: number } {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })),
      gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })),
    };
  } catch (err) {
    throw new Error(`system user ${name} is missing (it comes with Debian's package)`, { cause: err });
  }
}

/** chown -R, for a data dir an engine drops privileges into. */
export function chownTree(path: string, ids: { uid: number; gid: number }): void {
  chownSync(path, ids.uid, ids.gid);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) chownTree(p, ids);
    else chownSync(p, ids.uid, ids.gid);
  }
}
