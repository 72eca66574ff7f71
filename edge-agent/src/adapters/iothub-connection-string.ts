/**
 * A device connection string as Azure IoT Hub hands it out (portal → device → Primary connection
 * string): `HostName=…;DeviceId=…;SharedAccessKey=…`, or `HostName=…;DeviceId=…;x509=true` for a
 * certificate-authenticated device. HostName may carry a port (`localhost:8883`) for a
 * self-hosted IoT Hub-compatible endpoint. Pure: validated by config.ts before anything connects.
 */
export interface IotConnectionString {
  hostName: string;
  deviceId: string;
  sharedAccessKey: string | null;
  x509: boolean;
}

/** Returns the parsed string, or why it is not one (the caller names the field). */
export function parseIotConnectionString(cs: string): IotConnectionString | string {
  const fields = new Map<string, string>();
  for (const part of cs.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return `"${part}" is not KEY=VALUE`;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const hostName = fields.get('HostName') ?? '';
  const deviceId = fields.get('DeviceId') ?? '';
  const key = fields.get('SharedAccessKey') ?? null;
  const x509 = fields.get('x509')?.toLowerCase() === 'true';
  if (!hostName) return 'needs HostName=';
  if (!deviceId) return 'needs DeviceId=';
  if (fields.has('ModuleId')) return 'module identities are not supported (no ModuleId=)';
  if (key !== null && x509) return 'has both SharedAccessKey= and x509=true; pick one';
  if (key === null && !x509) return 'needs SharedAccessKey= (SAS) or x509=true (certificate)';
  if (key !== null && !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return 'SharedAccessKey must be base64';
  return { hostName, deviceId, sharedAccessKey: key, x509 };
}
