import { createHmac, timingSafeEqual } from 'node:crypto';

/** JSON with object keys sorted at every level and no whitespace: the bytes the hub signs. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** DroneCommand.hmac: HMAC-SHA256 over the canonical JSON of the command without `hmac` (contracts/drone-command.ts). */
export function commandHmac(keyHex: string, command: Record<string, unknown>): string {
  const { hmac: _ignored, ...rest } = command;
  return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(canonicalJson(rest)).digest('hex');
}

/** How far a signed command's `ts` may be from the agent's clock: a captured command cannot be replayed later. */
export const COMMAND_MAX_SKEW_MS = 5 * 60_000;

export type CommandAuth = 'ok' | 'missing' | 'bad' | 'stale';

export function verifyCommand(keyHex: string, command: Record<string, unknown> & { ts: number; hmac?: string }, now: number): CommandAuth {
  if (typeof command.hmac !== 'string') return 'missing';
  const expected = Buffer.from(commandHmac(keyHex, command), 'hex');
  const given = Buffer.from(command.hmac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad';
  return Math.abs(now - command.ts) > COMMAND_MAX_SKEW_MS ? 'stale' : 'ok';
}
