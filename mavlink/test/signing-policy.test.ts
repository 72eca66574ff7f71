import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { MavEncoder, MavLink, signingKeyFromPassphrase, type ByteTransport, type IncomingSigningOptions } from '../src/index.js';

interface Vector { signed: boolean; hex: string; signing?: { key_hex: string; link_id: number; timestamp_10us: number } }
const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/data/pymavlink-vectors.json', import.meta.url)), 'utf8')) as Vector[];
const signedVector = vectors.find((v) => v.signed)!;
const SIGNING_EPOCH_MS = Date.UTC(2015, 0, 1);
/** The wall clock at which pymavlink signed the vector. */
const vectorTimeMs = SIGNING_EPOCH_MS + signedVector.signing!.timestamp_10us / 100;
const key = signingKeyFromPassphrase('fleet-test-key');

/** An in-memory datagram transport: what the test injects arrives as if from the wire. */
function wire(): { transport: ByteTransport; inject: (b: Buffer) => void; sent: Buffer[] } {
  let listener: (b: Buffer) => void = () => undefined;
  const sent: Buffer[] = [];
  return {
    transport: { framing: 'datagram', send: (b) => (sent.push(b), true), onData: (l) => void (listener = l), close: () => Promise.resolve() },
    inject: (b) => listener(b),
    sent,
  };
}

function receiver(policy: Omit<IncomingSigningOptions, 'key'> & { key?: Buffer }): { link: MavLink; got: MavLinkData[]; inject: (b: Buffer) => void } {
  const w = wire();
  const link = new MavLink(w.transport, { sysid: 1, compid: 191 }, { incomingSigning: { key, ...policy } });
  const got: MavLinkData[] = [];
  link.on('message', (m) => got.push(m));
  return { link, got, inject: w.inject };
}

const hb = (): minimal.Heartbeat => Object.assign(new minimal.Heartbeat(), { autopilot: minimal.MavAutopilot.PX4 });

describe('incoming MAVLink 2 signing policy', () => {
  it('accepts pymavlink\'s signed vector with the key of passphrase "fleet-test-key", and rejects its replay', () => {
    const r = receiver({ unsigned: 'reject', now: () => vectorTimeMs });
    r.inject(Buffer.from(signedVector.hex, 'hex'));
    expect(r.got).toHaveLength(1);
    r.inject(Buffer.from(signedVector.hex, 'hex'));
    expect(r.got).toHaveLength(1);
    expect(r.link.stats).toMatchObject({ signed: 1, replayRejected: 1 });
  });

  it('rejects the vector under another key as a bad signature', () => {
    const r = receiver({ key: signingKeyFromPassphrase('not-the-key'), unsigned: 'reject', now: () => vectorTimeMs });
    r.inject(Buffer.from(signedVector.hex, 'hex'));
    expect(r.got).toHaveLength(0);
    expect(r.link.stats.badSignature).toBe(1);
  });

  it('rejects a first packet more than a minute older than the local clock (a recorded stream played back)', () => {
    const r = receiver({ unsigned: 'reject', now: () => vectorTimeMs + 61_000 });
    r.inject(Buffer.from(signedVector.hex, 'hex'));
    expect(r.got).toHaveLength(0);
    expect(r.link.stats.replayRejected).toBe(1);
  });

  for (const unsigned of ['reject', 'accept'] as const) {
    it(`unsigned policy "${unsigned}": MAVLink 2 and MAVLink 1 unsigned packets, RADIO_STATUS always allowed`, () => {
      const r = receiver({ unsigned });
      r.inject(new MavEncoder({ sysid: 1, compid: 1, version: 2 }).encode(hb()));
      r.inject(new MavEncoder({ sysid: 1, compid: 1, version: 1 }).encode(hb()));
      r.inject(new MavEncoder({ sysid: 51, compid: 68, version: 1 }).encode(new common.RadioStatus()));
      expect(r.got.length).toBe(unsigned === 'reject' ? 1 : 3);
      expect(r.link.stats.unsignedRejected).toBe(unsigned === 'reject' ? 2 : 0);
    });
  }

  it('interoperates link to link: a thousand signed packets in one millisecond all verify (strictly increasing timestamps)', () => {
    const w = wire();
    const now = (): number => 1_700_000_000_000;
    const sender = new MavLink(w.transport, { sysid: 1, compid: 191, signing: { key, linkId: 3 }, now });
    for (let i = 0; i < 1000; i++) sender.send(hb());
    const r = receiver({ unsigned: 'reject', now });
    for (const b of w.sent) r.inject(b);
    expect(r.got).toHaveLength(1000);
    expect(r.link.stats).toMatchObject({ signed: 1000, replayRejected: 0, badSignature: 0 });
    // The same bytes again, as an attacker recording the radio would send them: all refused.
    for (const b of w.sent.slice(0, 10)) r.inject(b);
    expect(r.link.stats.replayRejected).toBe(10);
  });
});
