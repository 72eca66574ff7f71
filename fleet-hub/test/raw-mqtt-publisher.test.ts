import { once } from 'node:events';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodeConnect, encodePublishQos1, PacketFramer, RawMqttPublisher } from '../src/bench/raw-mqtt-publisher.js';

const puback = (id: number) => Buffer.from([0x40, 2, id >> 8, id & 0xff]);

describe('the bench publisher framer', () => {
  it('cuts joined PUBACKs and PUBACKs split across chunks, byte by byte', () => {
    const stream = Buffer.concat([puback(1), puback(2), puback(65_535), Buffer.from([0xd0, 0]), puback(300)]);
    const whole = new PacketFramer().push(stream);
    expect(whole.map((p) => [p.type, p.body.length === 2 ? p.body.readUInt16BE(0) : -1])).toEqual([[0x40, 1], [0x40, 2], [0x40, 65_535], [0xd0, -1], [0x40, 300]]);
    const framer = new PacketFramer();
    const ids: number[] = [];
    for (let i = 0; i < stream.length; i++) for (const p of framer.push(stream.subarray(i, i + 1))) if (p.type === 0x40) ids.push(p.body.readUInt16BE(0));
    expect(ids).toEqual([1, 2, 65_535, 300]);
  });

  it('waits for a multi-byte remaining length and its body', () => {
    const pkt = encodePublishQos1(Buffer.from('a/b'), 7, 'x'.repeat(300));
    const framer = new PacketFramer();
    expect(framer.push(pkt.subarray(0, 2))).toEqual([]);
    expect(framer.push(pkt.subarray(2, 100))).toEqual([]);
    const [p, ack, ...rest] = framer.push(Buffer.concat([pkt.subarray(100), puback(9)]));
    expect(p!.type).toBe(0x30);
    expect(p!.body.length).toBe(2 + 3 + 2 + 300);
    expect([ack!.type, ack!.body.readUInt16BE(0), rest.length]).toEqual([0x40, 9, 0]);
  });
});

describe('the bench publisher encoding', () => {
  it('writes CONNECT and PUBLISH that mqtt-packet parses as MQTT 3.1.1', () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => seen.push(p));
    parser.parse(encodeConnect({ clientId: 'drone-0001', username: 'drone-0001', password: 's3cr€t', keepAliveS: 60 }));
    parser.parse(Buffer.concat([encodePublishQos1(Buffer.from('fleet/drone-0001/status'), 65_535, '{"v":1,"ü":2}'), encodePublishQos1(Buffer.from('t'), 1, '')]));
    const [c, p1, p2] = seen as [mqttPacket.IConnectPacket, mqttPacket.IPublishPacket, mqttPacket.IPublishPacket];
    expect(c.cmd).toBe('connect');
    expect([c.protocolVersion, c.clean, c.keepalive, c.clientId, c.username, String(c.password)]).toEqual([4, true, 60, 'drone-0001', 'drone-0001', 's3cr€t']);
    expect([p1.cmd, p1.qos, p1.retain, p1.dup, p1.topic, p1.messageId, String(p1.payload)]).toEqual(['publish', 1, false, false, 'fleet/drone-0001/status', 65_535, '{"v":1,"ü":2}']);
    expect([p2.topic, p2.messageId, p2.payload.length]).toEqual(['t', 1, 0]);
  });

  it('publishes QoS 1 to a real broker in batched writes and counts every PUBACK', async () => {
    const aedes = await Aedes.createBroker({ drainTimeout: 5_000 });
    const server = createServer(aedes.handle);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const received: string[] = [];
    aedes.on('publish', (packet, client) => {
      if (client) received.push(packet.payload.toString());
    });
    try {
      const c = await RawMqttPublisher.connect('127.0.0.1', port, { clientId: 'd1', username: 'd1', password: 'p', keepAliveS: 60 });
      const topic = Buffer.from('fleet/d1/status');
      for (let i = 0; i < 500; i++) {
        c.publish(topic, JSON.stringify({ i }));
        if (i % 50 === 49) c.flush();
      }
      const end = Date.now() + 10_000;
      while (c.acked < 500 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect([c.sent, c.acked, c.inflightCount]).toEqual([500, 500, 0]);
      expect(received.map((s) => (JSON.parse(s) as { i: number }).i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
      await c.end();
    } finally {
      await new Promise<void>((r) => aedes.close(() => r()));
      server.close();
    }
  });
});
