import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDeviceRegistry } from '../src/index.js';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aerie-hub-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hub = (...args: string[]) => execFileSync(process.execPath, [bin, ...args, '--data-dir', dir], { encoding: 'utf8' });

describe('aerie-hub device add|list|revoke', () => {
  it('adds a device, prints its secret once, stores only a hash, lists and revokes it', async () => {
    const out = hub('device', 'add', 'drone-042');
    const secret = /secret \(shown once\): (\S+)/.exec(out)?.[1];
    expect(secret).toBeDefined();
    const file = readFileSync(join(dir, 'devices.json'), 'utf8');
    expect(file).not.toContain(secret!);
    expect(file).toContain('scrypt$');
    expect(hub('device', 'list')).toMatch(/drone-042\tdrone\tactive/);

    const registry = await FileDeviceRegistry.open(join(dir, 'devices.json'));
    expect(await registry.verify('drone-042', secret!)).toMatchObject({ ok: true, principal: { id: 'drone-042', role: 'drone' } });
    expect(await registry.verify('drone-042', 'guess')).toEqual({ ok: false, code: 'HUB_ERR_BAD_CREDENTIALS' });

    hub('device', 'revoke', 'drone-042');
    expect(hub('device', 'list')).toMatch(/drone-042\tdrone\trevoked/);
    const after = await FileDeviceRegistry.open(join(dir, 'devices.json'));
    expect(await after.verify('drone-042', secret!)).toEqual({ ok: false, code: 'HUB_ERR_REVOKED' });
  });

  it('refuses a duplicate id and a bad id with a code and a non-zero exit', () => {
    hub('device', 'add', 'drone-043');
    const dup = spawnSync(process.execPath, [bin, 'device', 'add', 'drone-043', '--data-dir', dir], { encoding: 'utf8' });
    expect(dup.status).not.toBe(0);
    expect(dup.stderr).toContain('HUB_ERR_DEVICE_EXISTS');
    const bad = spawnSync(process.execPath, [bin, 'device', 'add', 'no/slash', '--data-dir', dir], { encoding: 'utf8' });
    expect(bad.stderr).toContain('HUB_ERR_BAD_ID');
  });
});
