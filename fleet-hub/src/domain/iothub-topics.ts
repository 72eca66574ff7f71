/**
 * IoT Hub's MQTT topic scheme for devices (learn.microsoft.com/azure/iot/iot-mqtt-connect-to-iot-hub):
 * what a device may publish and subscribe to, and the topics the hub answers on. Pure parsing;
 * the `$iothub/…` topics are per session (a response goes only to the connection that asked).
 */

export type DeviceTopic =
  | { kind: 'telemetry'; properties: Record<string, string> }
  | { kind: 'twin-get'; rid: string }
  | { kind: 'twin-reported'; rid: string }
  | { kind: 'method-response'; rid: string; status: number };

/** The topics a device may subscribe to; anything else is refused (SUBACK 0x80). */
export function deviceSubscriptions(deviceId: string): string[] {
  return [`devices/${deviceId}/messages/devicebound/#`, '$iothub/methods/POST/#', '$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#'];
}

export function mayDeviceSubscribe(deviceId: string, filter: string): boolean {
  return deviceSubscriptions(deviceId).includes(filter);
}

function query(topic: string): URLSearchParams | null {
  const q = topic.indexOf('/?');
  return q === -1 ? null : new URLSearchParams(topic.slice(q + 2));
}

/** Property bag of a telemetry topic: `k=v&k2=v2`, URL-encoded (querystring.stringify in the SDK). */
export function parsePropertyBag(bag: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  if (bag === '') return out;
  for (const pair of bag.split('&')) {
    const eq = pair.indexOf('=');
    try {
      const k = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
      if (!k) return null;
      out[k] = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return null;
    }
  }
  return out;
}

/** A device's PUBLISH topic, or null when the device may not publish there (another device's, unknown). */
export function parseDeviceTopic(deviceId: string, topic: string): DeviceTopic | null {
  const events = `devices/${deviceId}/messages/events/`;
  if (topic.startsWith(events) || topic === events.slice(0, -1)) {
    const bag = topic.slice(events.length);
    if (bag.includes('/')) return null;
    const properties = parsePropertyBag(bag);
    return properties ? { kind: 'telemetry', properties } : null;
  }
  const q = query(topic);
  const rid = q?.get('$rid');
  if (!rid || rid.length > 128) return null;
  const path = topic.slice(0, topic.indexOf('/?'));
  if (path === '$iothub/twin/GET') return { kind: 'twin-get', rid };
  if (path === '$iothub/twin/PATCH/properties/reported') return { kind: 'twin-reported', rid };
  const m = /^\$iothub\/methods\/res\/(\d{3})$/.exec(path);
  if (m) return { kind: 'method-response', rid, status: Number(m[1]) };
  return null;
}

export function c2dTopic(deviceId: string, properties: Record<string, string>): string {
  const bag = Object.entries(properties).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `devices/${deviceId}/messages/devicebound/${bag}`;
}

export function methodRequestTopic(method: string, rid: string): string {
  return `$iothub/methods/POST/${method}/?$rid=${encodeURIComponent(rid)}`;
}

export function twinResponseTopic(status: number, rid: string, version: number | null): string {
  return `$iothub/twin/res/${status}/?$rid=${encodeURIComponent(rid)}${version === null ? '' : `&$version=${version}`}`;
}

export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

/** [MQTT-4.7] filter matching with `+` and `#`; `$` topics are matched only by filters that name them. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
