import { describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import { makeSasToken, parseIotUsername, parseSasToken, verifySas } from '../src/domain/iothub-auth.js';
import { mayDeviceSubscribe, parseDeviceTopic, topicMatches } from '../src/domain/iothub-topics.js';
import { TwinStore } from '../src/domain/iothub-twin.js';

const KEY = Buffer.alloc(32, 1).toString('base64');
const HOST = 'aerie.azure-devices.net';
const user = parseIotUsername(`${HOST}/drone-1/?api-version=2021-04-12&DeviceClientType=azure-iot-device%2F1.18.4`)!;
const soon = Math.floor(Date.UTC(2030, 0, 1) / 1000);
const now = Date.UTC(2029, 0, 1);

describe('IoT Hub SAS tokens', () => {
  it('verifies a token made by the azure-iot-device SDK itself', () => {
    const token = deviceSdk.SharedAccessSignature.create(HOST, 'drone-1', KEY, soon).toString();
    expect(verifySas({ username: user, token, keyBase64: KEY, nowMs: now, hostName: HOST })).toBeNull();
    expect(makeSasToken(HOST, 'drone-1', KEY, soon)).toBe(token);
  });

  it('refuses a wrong key, an expired token, another device and another hub, each with its reason', () => {
    const other = Buffer.alloc(32, 2).toString('base64');
    expect(verifySas({ username: user, token: makeSasToken(HOST, 'drone-1', other, soon), keyBase64: KEY, nowMs: now, hostName: HOST })).toBe('IOTHUB_BAD_SIGNATURE');
    expect(verifySas({ username: user, token: makeSasToken(HOST, 'drone-1', KEY, soon), keyBase64: KEY, nowMs: soon * 1000, hostName: HOST })).toBe('IOTHUB_EXPIRED');
    expect(verifySas({ username: user, token: makeSasToken(HOST, 'drone-2', KEY, soon), keyBase64: KEY, nowMs: now, hostName: HOST })).toBe('IOTHUB_WRONG_RESOURCE');
    expect(verifySas({ username: user, token: makeSasToken(HOST, 'drone-1', KEY, soon), keyBase64: KEY, nowMs: now, hostName: 'other.example' })).toBe('IOTHUB_BAD_USERNAME');
    expect(verifySas({ username: user, token: 'Bearer x', keyBase64: KEY, nowMs: now, hostName: HOST })).toBe('IOTHUB_BAD_TOKEN');
    // A truncated signature is a wrong one, not a crash (timingSafeEqual needs equal lengths).
    const cut = makeSasToken(HOST, 'drone-1', KEY, soon).replace(/sig=[^&]+/, 'sig=AAAA');
    expect(verifySas({ username: user, token: cut, keyBase64: KEY, nowMs: now, hostName: HOST })).toBe('IOTHUB_BAD_SIGNATURE');
  });

  it('parses user names and refuses malformed tokens', () => {
    expect(user).toMatchObject({ hostName: HOST, deviceId: 'drone-1', params: { 'api-version': '2021-04-12' } });
    expect(parseIotUsername(`${HOST}/drone-1`)).toBeNull();
    expect(parseIotUsername(`${HOST}/drone-1/module/?api-version=1`)).toBeNull();
    expect(parseSasToken('SharedAccessSignature sr=a&sig=b&se=notanumber')).toBeNull();
    expect(parseSasToken('SharedAccessSignature sr=a&sr=b&sig=b&se=1')).toBeNull();
    expect(parseSasToken('SharedAccessSignature sr=%E0%A4%A&sig=b&se=1')).toBeNull();
  });
});

describe('IoT Hub topics and twins', () => {
  it('lets a device publish only its own telemetry and its session’s $iothub requests', () => {
    expect(parseDeviceTopic('d1', 'devices/d1/messages/events/type=status&%24.ct=application%2Fjson')).toEqual({ kind: 'telemetry', properties: { type: 'status', '$.ct': 'application/json' } });
    expect(parseDeviceTopic('d1', 'devices/d1/messages/events/')).toEqual({ kind: 'telemetry', properties: {} });
    expect(parseDeviceTopic('d1', 'devices/d2/messages/events/type=status')).toBeNull();
    expect(parseDeviceTopic('d1', 'devices/d1/messages/devicebound/x')).toBeNull();
    expect(parseDeviceTopic('d1', '$iothub/twin/GET/?$rid=7')).toEqual({ kind: 'twin-get', rid: '7' });
    expect(parseDeviceTopic('d1', '$iothub/twin/PATCH/properties/reported/?$rid=8')).toEqual({ kind: 'twin-reported', rid: '8' });
    expect(parseDeviceTopic('d1', '$iothub/methods/res/200/?$rid=9')).toEqual({ kind: 'method-response', rid: '9', status: 200 });
    expect(parseDeviceTopic('d1', '$iothub/twin/GET/')).toBeNull();
    expect(mayDeviceSubscribe('d1', 'devices/d1/messages/devicebound/#')).toBe(true);
    expect(mayDeviceSubscribe('d1', 'devices/+/messages/devicebound/#')).toBe(false);
    expect(mayDeviceSubscribe('d1', '#')).toBe(false);
    expect(topicMatches('$iothub/twin/res/#', '$iothub/twin/res/200/?$rid=1')).toBe(true);
    expect(topicMatches('#', '$iothub/twin/res/200')).toBe(false);
  });

  it('merges twin patches with versions; null deletes; non-objects and oversize are refused', () => {
    const t = new TwinStore();
    expect(t.patchReported('d1', { agentVersion: '1', config: { hz: 2, fc: 'udp' } })).toEqual({ ok: true, version: 2 });
    expect(t.patchReported('d1', { config: { hz: null, fc: 'tcp' } })).toEqual({ ok: true, version: 3 });
    expect(t.get('d1').reported).toEqual({ agentVersion: '1', config: { fc: 'tcp' }, $version: 3 });
    expect(t.patchReported('d1', [1])).toMatchObject({ ok: false });
    expect(t.patchReported('d1', { big: 'x'.repeat(40_000) })).toMatchObject({ ok: false });
    expect(t.get('d1').reported.$version).toBe(3);
  });
});
