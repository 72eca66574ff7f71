import { describe, expect, it } from 'vitest';
import { agentConfig } from '../src/index.js';
import { layeredInput } from '../src/config-file.js';
import { parseIotConnectionString } from '../src/adapters/iothub-connection-string.js';

const KEY = Buffer.alloc(32, 3).toString('base64');
const cs = (extra: string) => `HostName=aerie.azure-devices.net;DeviceId=drone-1;${extra}`;

describe('uplink selector and IoT Hub settings', () => {
  it('defaults to MQTT and accepts a SAS or an X.509 connection string for the iothub uplink', () => {
    expect(agentConfig({ droneId: 'drone-1' }).uplink).toBe('mqtt');
    expect(agentConfig({ droneId: 'drone-1', uplink: 'iothub', iothub: { connectionString: cs(`SharedAccessKey=${KEY}`) } }).iothub).toMatchObject({ ca: null });
    expect(agentConfig({ droneId: 'drone-1', uplink: 'iothub', iothub: { connectionString: cs('x509=true'), cert: '/c.pem', key: '/k.pem' } }).uplink).toBe('iothub');
  });

  it('refuses what cannot work, naming the field', () => {
    const bad = (input: Parameters<typeof agentConfig>[0]) => () => agentConfig(input);
    expect(bad({ droneId: 'drone-1', uplink: 'amqp' as 'mqtt' })).toThrow(/^uplink: must be one of/);
    expect(bad({ droneId: 'drone-1', uplink: 'iothub' })).toThrow(/^iothub\.connectionString: must be a non-empty string/);
    expect(bad({ droneId: 'drone-1', uplink: 'iothub', iothub: { connectionString: cs('') } })).toThrow(/^iothub\.connectionString: needs SharedAccessKey= \(SAS\) or x509=true/);
    expect(bad({ droneId: 'drone-2', uplink: 'iothub', iothub: { connectionString: cs(`SharedAccessKey=${KEY}`) } })).toThrow(/^iothub\.connectionString: DeviceId=drone-1 must equal droneId drone-2/);
    expect(bad({ droneId: 'drone-1', uplink: 'iothub', iothub: { connectionString: cs('x509=true') } })).toThrow(/^iothub\.cert: x509=true needs/);
    expect(bad({ droneId: 'drone-1', uplink: 'iothub', iothub: { connectionString: cs(`SharedAccessKey=${KEY};x509=true`) } })).toThrow(/pick one/);
  });

  it('takes the selector and the connection string from the environment', () => {
    const input = layeredInput({ droneId: 'drone-1' }, { AERIE_AGENT_UPLINK: 'iothub', AERIE_AGENT_IOTHUB_CONNECTION_STRING: cs(`SharedAccessKey=${KEY}`), AERIE_AGENT_IOTHUB_CA: '/ca.pem' }, {});
    expect(agentConfig(input)).toMatchObject({ uplink: 'iothub', iothub: { ca: '/ca.pem' } });
  });

  it('parses connection strings with a port in HostName (a self-hosted endpoint)', () => {
    expect(parseIotConnectionString(`HostName=localhost:8883;DeviceId=d;SharedAccessKey=${KEY}`)).toEqual({ hostName: 'localhost:8883', deviceId: 'd', sharedAccessKey: KEY, x509: false });
    expect(parseIotConnectionString('HostName=h;DeviceId=d;ModuleId=m;x509=true')).toMatch(/module/);
    expect(parseIotConnectionString('garbage')).toMatch(/KEY=VALUE/);
  });
});
