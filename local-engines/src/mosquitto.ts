import { pbkdf2Sync, randomBytes } from 'node:crypto';

export interface BrokerUser {
  username: string;
  password: string;
  role: 'drone' | 'service';
}

/**
 * Mosquitto 2.0's password file format ($7$: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt,
 * 64-byte hash, as mosquitto_passwd writes it): hashed here, so a 500-drone fleet does not spawn
 * mosquitto_passwd 500 times.
 */
export function passwordLine(username: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${username}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** The password file of `users`, one passwordLine each. */
export function passwordFile(users: readonly BrokerUser[]): string {
  return users.map((u) => passwordLine(u.username, u.password)).join('\n') + '\n';
}

/**
 * The Aerie ACL, as fleet-hub's embedded broker enforces it: a drone writes only its own
 * status/events/online/cmd/result and reads only its own cmd below fleet/v1/<its username>/;
 * services own fleet/v1/# and svc/v1/#.
 */
export function aclText(users: readonly BrokerUser[]): string {
  return [
    ...users.filter((u) => u.role === 'service').flatMap((u) => [`user ${u.username}`, 'topic readwrite fleet/v1/#', 'topic readwrite svc/v1/#', '']),
    'pattern write fleet/v1/%u/status',
    'pattern write fleet/v1/%u/events',
    'pattern write fleet/v1/%u/online',
    'pattern write fleet/v1/%u/cmd/result',
    'pattern read fleet/v1/%u/cmd',
    '',
  ].join('\n');
}

export interface MosquittoConfOptions {
  port: number;
  passwordFile: string;
  aclFile: string;
  /** Lines between authentication and logging: persistence, queue and packet limits. */
  settings: readonly string[];
  /** log_type lines besides error and warning (e.g. notice), and log_timestamp_format. */
  logging?: readonly string[];
}

/** mosquitto.conf: one loopback listener, no anonymous clients, the password file and ACL, logs on stderr. */
export function mosquittoConf(o: MosquittoConfOptions): string {
  return [
    `listener ${o.port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${o.passwordFile}`,
    `acl_file ${o.aclFile}`,
    ...o.settings,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    ...(o.logging ?? []),
    '',
  ].join('\n');
}
