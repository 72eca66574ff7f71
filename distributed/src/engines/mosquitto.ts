import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aclText, mosquittoConf, passwordFile, type BrokerUser } from '@aerie/local-engines';
import { spawnChild, type OutputSinks, type Started } from '../child.js';
import { portOpen } from '../proc.js';
import { binary, chownTree, runningAsRoot, systemUser } from './system.js';

export type { BrokerUser };

export interface MosquittoOptions {
  /** The engine's own directory: config, password file, ACL, persistence database. */
  dir: string;
  port: number;
  users: readonly BrokerUser[];
  /**
   * Save the in-memory database after this many changes (autosave_on_changes): 1 writes it after
   * every change Mosquitto counts (queued messages, retained messages, subscriptions), the
   * closest Mosquitto 2.0 comes to a write-ahead log; a kill -9 loses what changed since the last save.
   */
  autosaveChanges?: number;
}

export interface MosquittoEngine {
  port: number;
  url: string;
  start(out: OutputSinks): Promise<Started>;
  probe(): Promise<boolean>;
}

/**
 * Debian's Mosquitto, production-like: MQTT 5 on loopback, passwords and ACL, persistence in its
 * directory (restarts keep sessions, their queued QoS 1 messages and retained messages), queues
 * that do not drop QoS 1. Config files are written at every launch; the database is kept.
 */
export function prepareMosquitto(o: MosquittoOptions): MosquittoEngine {
  const bin = binary('mosquitto', 'mosquitto');
  mkdirSync(o.dir, { recursive: true });
  const passwd = join(o.dir, 'passwd');
  const acl = join(o.dir, 'acl');
  const conf = join(o.dir, 'mosquitto.conf');
  writeFileSync(passwd, passwordFile(o.users), { mode: 0o600 });
  writeFileSync(acl, aclText(o.users), { mode: 0o600 });
  writeFileSync(conf, mosquittoConf({ port: o.port, passwordFile: passwd, aclFile: acl, settings: [
    'persistence true',
    `persistence_location ${o.dir}/`,
    'persistence_file mosquitto.db',
    'autosave_on_changes true',
    `autosave_interval ${o.autosaveChanges ?? 1}`,
    // 0 = no maximum (mosquitto.conf(5)): the default 1000 drops QoS 1 to a subscriber that is
    // busy or offline for a few seconds of a fleet's traffic; memory is the bound instead.
    'max_queued_messages 0',
    // Default 20: the PUBACK round trip would cap each subscriber's throughput.
    'max_inflight_messages 100',
    // The hub refuses drone payloads over 64 KiB; the broker refuses packets well past that.
    'max_packet_size 131072',
    // Persistent sessions (telemetry, core, agents) whose client has not come back for a week are dropped.
    'persistent_client_expiration 7d',
    'set_tcp_nodelay true',
  ], logging: ['log_type notice', 'log_timestamp_format %Y-%m-%dT%H:%M:%S'] }), { mode: 0o644 });
  // Started as root, Mosquitto drops to the `mosquitto` user, which must read these and write the database.
  if (runningAsRoot()) {
    chownTree(o.dir, systemUser('mosquitto'));
    chmodSync(o.dir, 0o700);
  }
  return {
    port: o.port,
    url: `mqtt://127.0.0.1:${o.port}`,
    start: (out) => spawnChild({ command: bin, args: ['-c', conf] }, out),
    probe: () => portOpen(o.port),
  };
}
