/**
 * Device twins as IoT Hub keeps them (learn.microsoft.com/azure/iot-hub/iot-hub-devguide-device-twins):
 * desired properties set by the back end, reported properties set by the device, each with a
 * `$version` that grows on every change. A patch merges: a key set to null is removed; nested
 * objects merge key by key.
 */

export type TwinProps = Record<string, unknown>;

export interface TwinDoc {
  desired: TwinProps & { $version: number };
  reported: TwinProps & { $version: number };
}

/** IoT Hub caps each section at 32 KB of JSON. */
export const MAX_TWIN_SECTION_BYTES = 32 * 1024;

export type PatchOutcome = { ok: true; version: number } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete target[k];
    else if (isObject(v)) {
      const cur = target[k];
      const next = isObject(cur) ? cur : {};
      merge(next, v);
      target[k] = next;
    } else target[k] = v;
  }
}

export class TwinStore {
  private readonly twins = new Map<string, { desired: TwinProps; reported: TwinProps; dv: number; rv: number }>();

  get(deviceId: string): TwinDoc {
    const t = this.entry(deviceId);
    return { desired: { ...structuredClone(t.desired), $version: t.dv }, reported: { ...structuredClone(t.reported), $version: t.rv } };
  }

  /** Reported properties of every device that has reported any. */
  allReported(): Map<string, TwinDoc['reported']> {
    const out = new Map<string, TwinDoc['reported']>();
    for (const [id, t] of this.twins) if (t.rv > 1) out.set(id, this.get(id).reported);
    return out;
  }

  patchReported(deviceId: string, patch: unknown): PatchOutcome {
    return this.patch(deviceId, patch, 'reported');
  }

  patchDesired(deviceId: string, patch: unknown): PatchOutcome {
    return this.patch(deviceId, patch, 'desired');
  }

  /** One section as stored (for persisting after a patch): properties and version. */
  section(deviceId: string, section: 'desired' | 'reported'): { props: TwinProps; version: number } {
    const t = this.entry(deviceId);
    return { props: structuredClone(t[section]), version: section === 'desired' ? t.dv : t.rv };
  }

  /** Puts back a section read from disk; an older version than the one held is ignored. */
  restore(deviceId: string, section: 'desired' | 'reported', props: TwinProps, version: number): void {
    const t = this.entry(deviceId);
    if (section === 'desired' && version >= t.dv) {
      t.desired = structuredClone(props);
      t.dv = version;
    } else if (section === 'reported' && version >= t.rv) {
      t.reported = structuredClone(props);
      t.rv = version;
    }
  }

  /** Devices with a twin entry. */
  devices(): string[] {
    return [...this.twins.keys()];
  }

  forget(deviceId: string): void {
    this.twins.delete(deviceId);
  }

  private patch(deviceId: string, patch: unknown, section: 'desired' | 'reported'): PatchOutcome {
    if (!isObject(patch)) return { ok: false, reason: 'a twin patch must be a JSON object' };
    const t = this.entry(deviceId);
    const next = structuredClone(t[section]);
    merge(next, patch);
    if (Buffer.byteLength(JSON.stringify(next)) > MAX_TWIN_SECTION_BYTES) return { ok: false, reason: `${section} properties would exceed ${MAX_TWIN_SECTION_BYTES} bytes` };
    t[section] = next;
    const version = section === 'desired' ? ++t.dv : ++t.rv;
    return { ok: true, version };
  }

  private entry(deviceId: string) {
    let t = this.twins.get(deviceId);
    if (!t) {
      t = { desired: {}, reported: {}, dv: 1, rv: 1 };
      this.twins.set(deviceId, t);
    }
    return t;
  }
}
