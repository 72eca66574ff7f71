import type { IncomingSigningOptions, SigningConfig } from '@aerie/mavlink';

/** MAVLink RADIO_STATUS: injected by SiK radios that cannot sign, so ArduPilot accepts it unsigned. */
const RADIO_STATUS = 109;

/**
 * What a signing vehicle accepts, as ArduPilot does once signing is on: only packets signed with
 * its key, no replays, nothing unsigned but RADIO_STATUS (ArduPilot GCS_Common
 * `accept_unsigned_callback`). Without a key every CRC-valid packet is accepted.
 */
export function incomingPolicy(signing: SigningConfig | null): IncomingSigningOptions | null {
  return signing ? { key: signing.key, unsigned: 'reject', allowUnsignedMsgIds: [RADIO_STATUS] } : null;
}
