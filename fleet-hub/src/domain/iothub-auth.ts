import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * IoT Hub's MQTT identity scheme, as the device SDKs speak it
 * (learn.microsoft.com/azure/iot/iot-mqtt-connect-to-iot-hub, "Using the MQTT protocol directly"):
 * client id = device id; user name `{hostname}/{deviceId}/?api-version=…`; password a SAS token
 * `SharedAccessSignature sr={url-encoded hostname/devices/deviceId}&sig={url-encoded base64 HMAC}&se={expiry s}`,
 * signed with the device's symmetric key over `{sr as sent}\n{se}` (azure-iot-common authorization.stringToSign).
 */

export type IotAuthFailure =
  | 'IOTHUB_BAD_USERNAME'
  | 'IOTHUB_CLIENT_ID'
  | 'IOTHUB_BAD_TOKEN'
  | 'IOTHUB_WRONG_RESOURCE'
  | 'IOTHUB_EXPIRED'
  | 'IOTHUB_BAD_SIGNATURE';

export interface IotUsername {
  hostName: string;
  deviceId: string;
  /** The query after `/?` (api-version, DeviceClientType…), decoded. */
  params: Record<string, string>;
}

/** `{hostname}/{deviceId}/?api-version=…`; null when it is not in that shape. Modules (`{deviceId}/{moduleId}`) are not served. */
export function parseIotUsername(username: string): IotUsername | null {
  const q = username.indexOf('/?');
  const path = q === -1 ? username.replace(/\/$/, '') : username.slice(0, q);
  const parts = path.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  const params: Record<string, string> = {};
  if (q !== -1) {
    for (const [k, v] of new URLSearchParams(username.slice(q + 2))) params[k] = v;
  }
  if (!params['api-version']) return null;
  return { hostName: parts[0], deviceId: parts[1], params };
}

export interface SasToken {
  /** sr exactly as sent (still URL-encoded): it is what was signed. */
  rawSr: string;
  resource: string;
  sig: string;
  expiry: number;
  keyName: string | null;
}

/** Parses `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]`; null on any deviation. */
export function parseSasToken(token: string): SasToken | null {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return null;
  const fields = new Map<string, string>();
  for (const pair of token.slice(prefix.length).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || fields.has(pair.slice(0, eq))) return null;
    fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const rawSr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (!rawSr || !sig || !se || !/^\d{1,12}$/.test(se)) return null;
  try {
    return { rawSr, resource: decodeURIComponent(rawSr), sig: decodeURIComponent(sig), expiry: Number(se), keyName: fields.has('skn') ? decodeURIComponent(fields.get('skn')!) : null };
  } catch {
    return null;
  }
}

/** HMAC-SHA256 of the string to sign with the base64 key, base64 (azure-iot-common authorization.hmacHash). */
export function sasSignature(keyBase64: string, rawSr: string, expiry: number): string {
  return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(`${rawSr}\n${expiry}`).digest('base64');
}

/** A device SAS token, as the SDK makes one (for tests and tools). */
export function makeSasToken(hostName: string, deviceId: string, keyBase64: string, expiry: number): string {
  const sr = encodeURIComponent(`${hostName}/devices/${deviceId}`);
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sasSignature(keyBase64, sr, expiry))}&se=${expiry}`;
}

export interface SasCheck {
  username: IotUsername;
  token: string;
  /** The device's symmetric key (base64). */
  keyBase64: string;
  nowMs: number;
  /** The host name the hub answers to; '' accepts the one the user name names (a local hub on an ephemeral port). */
  hostName: string;
}

/** Checks a SAS login; returns null when it is good, else why not. */
export function verifySas(c: SasCheck): IotAuthFailure | null {
  const host = c.hostName || c.username.hostName;
  if (c.username.hostName.toLowerCase() !== host.toLowerCase()) return 'IOTHUB_BAD_USERNAME';
  const t = parseSasToken(c.token);
  if (!t) return 'IOTHUB_BAD_TOKEN';
  // A token for the hub, or for this device; another device's token is not this device's.
  if (t.resource.toLowerCase() !== `${host}/devices/${c.username.deviceId}`.toLowerCase()) return 'IOTHUB_WRONG_RESOURCE';
  if (t.expiry * 1000 <= c.nowMs) return 'IOTHUB_EXPIRED';
  const expected = Buffer.from(sasSignature(c.keyBase64, t.rawSr, t.expiry), 'base64');
  const given = Buffer.from(t.sig, 'base64');
  // timingSafeEqual needs equal lengths; a length mismatch is a wrong signature anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'IOTHUB_BAD_SIGNATURE';
  return null;
}
