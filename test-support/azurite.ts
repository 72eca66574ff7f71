import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, stopServer, waitForPort } from './servers.js';

export interface RunningAzurite {
  port: number;
  /** Storage connection string for @azure/storage-blob (the well-known development account). */
  connectionString: string;
  stop(): Promise<void>;
}

// Azurite's fixed development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key).
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Starts Azurite's blob service (npm `azurite`) on a free loopback port, its data in a temp dir. */
export async function startAzurite(): Promise<RunningAzurite> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('azurite/package.json')), 'dist/src/blob/main.js');
  const dir = mkdtempSync(join(tmpdir(), 'aerie-azurite-'));
  const port = await freePort();
  const child = spawn(process.execPath, [bin, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--skipApiVersionCheck', '--loose', '--silent'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // Azurite is a large Node app: loading it took 13.6 s alone at load 15 (2026-12-03), more than 20 s
  // with test files beside it (both Event Hubs suites failed their beforeAll at 20.4 s). A failed
  // start is its exit, reported at once; this bound only stops a hang, inside the 60 s hook timeout.
  await waitForPort(port, child, 50_000, 'azurite-blob', () => stderr);
  return {
    port,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
    // SIGKILL: on SIGTERM Azurite waits ~20 s for keep-alive sockets; its data is a temp dir anyway.
    stop: () => {
      child.kill('SIGKILL');
      return stopServer(child, dir);
    },
  };
}
