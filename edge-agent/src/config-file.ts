import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AgentError } from './errors.js';
import type { AgentConfigInput } from './config.js';

type Kind = 'string' | 'int' | 'number' | 'hostport' | 'nullable';

/**
 * Every setting an environment variable may override: AERIE_AGENT_ + the path in SNAKE_CASE,
 * e.g. fc.signing.key → AERIE_AGENT_FC_SIGNING_KEY, publishHzInFlight → AERIE_AGENT_PUBLISH_HZ_IN_FLIGHT.
 */
const ENV_FIELDS: [string, Kind][] = [
  ['droneId', 'string'], ['fc.link', 'string'], ['fc.host', 'string'], ['fc.port', 'int'], ['fc.peer', 'hostport'],
  ['fc.device', 'string'], ['fc.baudRate', 'int'], ['fc.sysid', 'int'], ['fc.compid', 'int'], ['fc.mavlinkVersion', 'int'],
  ['fc.linkTimeoutMs', 'int'], ['fc.ackTimeoutMs', 'int'], ['fc.streamHz', 'number'],
  ['fc.signing.key', 'string'], ['fc.signing.linkId', 'int'], ['fc.signing.unsigned', 'string'],
  ['fc.record.dir', 'string'], ['fc.record.maxFileMb', 'number'], ['fc.record.maxFiles', 'int'],
  ['mqtt.url', 'string'], ['mqtt.username', 'string'], ['mqtt.password', 'string'],
  ['mqtt.ca', 'nullable'], ['mqtt.cert', 'nullable'], ['mqtt.key', 'nullable'],
  ['uplink', 'string'], ['iothub.connectionString', 'string'], ['iothub.ca', 'nullable'], ['iothub.cert', 'nullable'], ['iothub.key', 'nullable'],
  ['publishHz', 'number'], ['publishHzInFlight', 'number'],
  ['spool.dir', 'string'], ['spool.maxMb', 'number'], ['spool.statusMaxAgeS', 'number'], ['spool.eventMaxAgeS', 'number'],
  ['statusFile', 'nullable'], ['commandHmacKey', 'nullable'], ['publishJournal', 'nullable'],
  ['healthPort', 'int'], ['healthHost', 'string'],
];

export const envName = (path: string): string => `AERIE_AGENT_${path.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase()}`;

/** "HOST:PORT" → { address, port }; null when empty. */
export function parseHostPort(raw: string, field: string): { address: string; port: number } | null {
  if (raw === '' || raw === 'null') return null;
  const i = raw.lastIndexOf(':');
  const port = Number(raw.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new AgentError('AGENT_ERR_CONFIG', `${field}: must be HOST:PORT, got "${raw}"`);
  return { address: raw.slice(0, i), port };
}

function convert(raw: string, kind: Kind, field: string): unknown {
  if (kind === 'string') return raw;
  if (kind === 'nullable') return raw === '' || raw === 'null' ? null : raw;
  if (kind === 'hostport') return parseHostPort(raw, field);
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new AgentError('AGENT_ERR_CONFIG', `${field}: must be a number, got "${raw}"`);
  return n;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== 'object') o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys.at(-1)!] = value;
}

/** Reads a JSON or YAML file (by extension; YAML is a superset, so anything else parses as YAML). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentError('AGENT_ERR_CONFIG', `config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new AgentError('AGENT_ERR_CONFIG', `config file ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new AgentError('AGENT_ERR_CONFIG', `config file ${path}: must be an object of settings`);
  const cfg = doc as Record<string, unknown>;
  const fc = cfg.fc as Record<string, unknown> | undefined;
  if (fc && typeof fc.peer === 'string') fc.peer = parseHostPort(fc.peer, 'fc.peer');
  return cfg;
}

/** Layers: file, then environment, then `flags` (already path-keyed). The result still goes through agentConfig(). */
export function layeredInput(file: Record<string, unknown>, env: NodeJS.ProcessEnv, flags: Record<string, unknown>): AgentConfigInput {
  const out = structuredClone(file);
  for (const [path, kind] of ENV_FIELDS) {
    const name = envName(path);
    const raw = env[name];
    if (raw !== undefined) setPath(out, path, convert(raw, kind, `${path} (from ${name})`));
  }
  for (const [path, value] of Object.entries(flags)) if (value !== undefined) setPath(out, path, value);
  return out as AgentConfigInput;
}
