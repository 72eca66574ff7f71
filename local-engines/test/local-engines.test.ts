import { pbkdf2Sync } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { aclText, freePort, influxConf, mosquittoConf, passwordFile, passwordLine } from '../src/index.js';

// The pieces the distributed launcher, bench:telemetry and test-support share. Each is also run
// on the real engine by its users: distributed/test/mosquitto-engine.test.ts (passwords, ACL,
// persistence on Debian's Mosquitto), telemetry's InfluxDB suites, every Mosquitto test.
describe('local engines', () => {
  it('freePort hands out a loopback port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise((r) => srv.close(r));
  });

  it('writes passwords as mosquitto_passwd does ($7$, PBKDF2-SHA512, 101 iterations)', () => {
    const [user, rest] = passwordLine('drone-1', 's3cret').split(':') as [string, string];
    expect(user).toBe('drone-1');
    const [, kind, iterations, salt, hash] = rest.split('$');
    expect([kind, iterations]).toEqual(['7', '101']);
    expect(pbkdf2Sync('s3cret', Buffer.from(salt!, 'base64'), 101, 64, 'sha512').toString('base64')).toBe(hash);
    expect(passwordFile([{ username: 'a', password: 'x', role: 'drone' }, { username: 'b', password: 'y', role: 'service' }]).split('\n').map((l) => l.split(':')[0])).toEqual(['a', 'b', '']);
  });

  it('gives services fleet/ and svc/, and each drone only its own topics', () => {
    const acl = aclText([{ username: 'd1', password: 'x', role: 'drone' }, { username: 'svc', password: 'y', role: 'service' }]).split('\n');
    expect(acl.slice(0, 3)).toEqual(['user svc', 'topic readwrite fleet/v1/#', 'topic readwrite svc/v1/#']);
    expect(acl.filter((l) => l.startsWith('pattern'))).toEqual([
      'pattern write fleet/v1/%u/status', 'pattern write fleet/v1/%u/events', 'pattern write fleet/v1/%u/online',
      'pattern write fleet/v1/%u/cmd/result', 'pattern read fleet/v1/%u/cmd',
    ]);
    expect(acl.join('\n')).not.toContain('d1');
  });

  it('puts the caller\'s settings between authentication and logging', () => {
    const conf = mosquittoConf({ port: 1883, passwordFile: '/p', aclFile: '/a', settings: ['persistence false'], logging: ['log_type notice'] }).split('\n');
    expect(conf).toEqual(['listener 1883 127.0.0.1', 'allow_anonymous false', 'password_file /p', 'acl_file /a', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', '']);
  });

  it('configures InfluxDB on loopback below its directory, fsync delay only when asked', () => {
    const plain = influxConf({ dir: '/x', httpPort: 8086, rpcPort: 8088 });
    expect(plain).toContain('bind-address = "127.0.0.1:8088"');
    expect(plain).toContain('  bind-address = "127.0.0.1:8086"');
    expect(plain).toContain('  wal-dir = "/x/wal"');
    expect(plain).not.toContain('wal-fsync-delay');
    expect(influxConf({ dir: '/x', httpPort: 8086, rpcPort: 8088, walFsyncDelay: '0s' })).toContain('  wal-fsync-delay = "0s"\n  query-log-enabled = false');
  });
});
