import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { Aedes } from 'aedes';
import type { AedesOptions } from 'aedes';

export interface TestBroker {
  readonly broker: Aedes;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A real aedes 1.x broker on a real socket (127.0.0.1, ephemeral port unless given one).
 * aedes speaks MQTT 3.1.1 only, so clients must connect with protocolVersion 4.
 */
export async function startBroker(opts: Partial<AedesOptions> & { port?: number } = {}): Promise<TestBroker> {
  const { port: wanted = 0, ...aedesOpts } = opts;
  const broker = await Aedes.createBroker({ drainTimeout: 1000, ...aedesOpts });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    broker,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
