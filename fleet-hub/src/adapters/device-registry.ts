import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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
}

/** 'password': MQTT user name and a hashed secret; 'sas': an IoT Hub symmetric key (iothub-endpoint.ts). */
export type DeviceAuth = 'password' | 'sas';

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
    // A SAS device gets a 256-bit key, as IoT Hub generates them; it has no MQTT password.
    const secret = auth === 'sas' ? randomBytes(32).toString('base64') : randomBytes(24).toString('base64url');
    const record: DeviceRecord = {
      id, role, secretHash: auth === 'sas' ? 'none' : await hashSecret(secret), createdAt: new Date().toISOString(), revokedAt: null,
      ...(auth === 'sas' ? { symmetricKey: secret } : {}),
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

/** Durable registry: one JSON file, replaced atomically (write to a temp file, then rename). */
export class FileDeviceRegistry extends MemoryDeviceRegistry {
  private constructor(private readonly path: string) {
    super();
  }

  static async open(path: string): Promise<FileDeviceRegistry> {
    const reg = new FileDeviceRegistry(path);
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { devices: DeviceRecord[] };
      for (const d of parsed.devices) reg.records.set(d.id, d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return reg;
  }

  protected override async persist(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ devices: this.list() }, null, 2), { mode: 0o600 });
    await rename(tmp, this.path);
  }
}
