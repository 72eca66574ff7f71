import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Static, TObject } from '@sinclair/typebox';
import { DroneStatus } from './messages/drone-status.js';
import { DroneEvent } from './messages/drone-event.js';
import { CommandResult, DroneCommand } from './messages/drone-command.js';
import { DeliveryAssignment, DeliveryTracking, DispatchReply } from './messages/delivery.js';
import type { ContractErrorCode } from './errors.js';

const SCHEMA_BASE = 'https://aerie.dev/schemas';

export const messageSchemas = {
  DroneStatus,
  DroneEvent,
  DroneCommand,
  CommandResult,
  DeliveryTracking,
  DeliveryAssignment,
  DispatchReply,
} as const satisfies Record<string, TObject>;
export type MessageName = keyof typeof messageSchemas;
export type MessageOf<N extends MessageName> = Static<(typeof messageSchemas)[N]>;

/** The published JSON Schema (draft 2020-12) of a message, generated from its TypeBox source. */
export function jsonSchemaOf(name: MessageName): Record<string, unknown> {
  const { $id: _ignored, ...rest } = JSON.parse(JSON.stringify(messageSchemas[name])) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE}/${name}.v1.json`,
    title: name,
    ...rest,
  };
}

const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
const compiled = new Map<MessageName, ValidateFunction>();
function validatorOf(name: MessageName): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    fn = ajv.compile(jsonSchemaOf(name));
    compiled.set(name, fn);
  }
  return fn;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; code: ContractErrorCode; message: string };

/** Validates an already-parsed value against a message schema. */
export function validateMessage<N extends MessageName>(name: N, value: unknown): Decoded<MessageOf<N>> {
  const fn = validatorOf(name);
  if (fn(value)) return { ok: true, value: value as MessageOf<N> };
  const first = fn.errors?.[0];
  const where = first?.instancePath === '' ? '(root)' : (first?.instancePath ?? '(root)');
  return { ok: false, code: 'CONTRACT_ERR_SCHEMA', message: `${name} ${where} ${first?.message ?? 'is invalid'}` };
}

/** Parses a wire payload (UTF-8 JSON) and validates it; never throws. */
export function decodeMessage<N extends MessageName>(name: N, payload: Buffer | string, maxBytes = 64 * 1024): Decoded<MessageOf<N>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return { ok: false, code: 'CONTRACT_ERR_TOO_LARGE', message: `${name} payload of ${size} bytes exceeds ${maxBytes}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, code: 'CONTRACT_ERR_NOT_JSON', message: `${name} payload is not JSON` };
  }
  return validateMessage(name, parsed);
}

/** Serialises a message; bigint values (MAVLink uint64 fields) become decimal strings so JSON never throws. */
export function encodeMessage(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
