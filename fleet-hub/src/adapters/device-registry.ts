import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { HubError } from '../errors.js';
import type { Principal, Role } from '../domain/acl.js';

const scrypt = promisify(scryptCb) as (secret: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface DeviceRecord {
  id: string;
  role: Role;
  /** scrypt$<salt hex>$<hash hex>; the secret itself is never stored. */
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
  /** IoT Hub SAS devices: the base64 symmetric key tokens are signed with (kept, as IoT Hub keeps it: HMAC needs the key). */
  symmetricKey?: string;
  /** IoT Hub X.509 devices: no secret; the certificate signed by the hub's CA whose subject CN is the id. Their commands go out as C2D. */
  x509?: true;
}

/**
 * 'password': MQTT user name and a hashed secret; 'sas': an IoT Hub symmetric key; 'x509': an IoT
 * Hub device with a CA-signed certificate and no secret (iothub-endpoint.ts).
 */
export type DeviceAuth = 'password' | 'sas' | 'x509';

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; code: 'HUB_ERR_BAD_CREDENTIALS' | 'HUB_ERR_REVOKED' };

/** Port: who may connect, with what secret and role. */
export interface DeviceRegistry {
  add(id: string, role: Role, auth?: DeviceAuth): Promise<{ record: DeviceRecord; secret: string }>;
  list(): DeviceRecord[];
  revoke(id: string): Promise<DeviceRecord>;
  verify(id: string, secret: string): Promise<AuthOutcome>;
}

async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, 32);
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

async function secretMatches(secret: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scrypt(secret, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

/** In-memory registry; the file registry persists the same records. */
export class MemoryDeviceRegistry implements DeviceRegistry {
  protected readonly records = new Map<string, DeviceRecord>();

  async add(id: string, role: Role, auth: DeviceAuth = 'password'): Promise<{ record: DeviceRecord; secret: string }> {
    if (!ID.test(id)) throw new HubError('HUB_ERR_BAD_ID', `"${id}" is not a valid device id`);
    if (this.records.has(id)) throw new HubError('HUB_ERR_DEVICE_EXISTS', `device ${id} already exists`);
    // A SAS device gets a 256-bit key, as IoT Hub generates them; it has no MQTT password, nor has an X.509 one.
    const secret = auth === 'sas' ? randomBytes(32).toString('base64') : auth === 'x509' ? '' : randomBytes(24).toString('base64url');
    const record: DeviceRecord = {
      id, role, secretHash: auth === 'password' ? await hashSecret(secret) : 'none', createdAt: new Date().toISOString(), revokedAt: null,
      ...(auth === 'sas' ? { symmetricKey: secret } : {}), ...(auth === 'x509' ? { x509: true as const } : {}),
    };
    this.records.set(id, record);
    await this.persist();
    return { record, secret };
  }

  list(): DeviceRecord[] {
    return [...this.records.values()];
  }

  async revoke(id: string): Promise<DeviceRecord> {
    const record = this.records.get(id);
    if (!record) throw new HubError('HUB_ERR_NO_DEVICE', `no device ${id}`);
    record.revokedAt ??= new Date().toISOString();
    await this.persist();
    return record;
  }

  async verify(id: string, secret: string): Promise<AuthOutcome> {
    const record = this.records.get(id);
    if (!record || !(await secretMatches(secret, record.secretHash))) return { ok: false, code: 'HUB_ERR_BAD_CREDENTIALS' };
    if (record.revokedAt) return { ok: false, code: 'HUB_ERR_REVOKED' };
    return { ok: true, principal: { id: record.id, role: record.role } };
  }

  protected persist(): Promise<void> {
    return Promise.resolve();
  }
}

/** Durable registry: one JSON file, replaced atomically (write and fdatasync a temp file, rename, fsync the directory). */
export class FileDeviceRegistry extends MemoryDeviceRegistry {
  private constructor(private readonly path: string) {
    super();
  }

  static async open(path: string): Promise<FileDeviceRegistry> {
    const reg = new FileDeviceRegistry(path);
    await reg.reload();
    return reg;
  }

  /** Re-reads the file; returns the ids it shows revoked that were not before. */
  async reload(): Promise<string[]> {
    let devices: DeviceRecord[];
    try {
      devices = (JSON.parse(await readFile(this.path, 'utf8')) as { devices: DeviceRecord[] }).devices;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const revoked = devices.filter((d) => d.revokedAt && !this.records.get(d.id)?.revokedAt).map((d) => d.id);
    this.records.clear();
    for (const d of devices) this.records.set(d.id, d);
    return revoked;
  }

  /**
   * Follows changes other processes make (`aerie-hub device add|revoke` while the hub runs): the
   * file is replaced by rename, which inotify reports on the directory at once; a 5 s poll backs
   * it up. `onRevoked` gets each id newly revoked, so the hub drops its live connections;
   * `onChecked` follows each look at the file that did not fail (the hub's readiness).
   */
  watch(onRevoked: (id: string) => void, onError: (err: unknown) => void = () => undefined, onChecked: () => void = () => undefined): { close(): void } {
    let running: Promise<void> = Promise.resolve();
    let seen = '';
    const check = () => {
      running = running.then(async () => {
        // The poll re-reads only a file that changed (a fleet's registry is megabytes of hashes).
        const s = await stat(this.path).catch(() => null);
        const version = s ? `${s.ino}/${s.mtimeMs}/${s.size}` : '';
        if (version === seen) return;
        seen = version;
        for (const id of await this.reload()) onRevoked(id);
      }).then(onChecked, onError);
    };
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(dirname(this.path), (_event, name) => {
        if (name === basename(this.path)) check();
      });
      watcher.on('error', onError);
    } catch (err) {
      onError(err);
    }
    const poll = setInterval(check, 5_000);
    poll.unref();
    return {
      close: () => {
        watcher?.close();
        clearInterval(poll);
      },
    };
  }

  protected override async persist(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    // Data on disk before the rename, and the rename itself (the directory) after it: a revocation
    // acknowledged to the operator must not come back undone after a power cut.
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify({ devices: this.list() }, null, 2));
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
