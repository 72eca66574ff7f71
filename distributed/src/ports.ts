import { createSocket } from 'node:dgram';

export { freePort } from '@aerie/local-engines';

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive loopback UDP ports free right now: the simulator sends drone n's MAVLink
 * to gcs-port-base + n − 1 (aerie-sim), so the agents' listen ports must be one block.
 */
export async function freeUdpBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768–60999), where the kernel does not hand ports out.
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await udpFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free UDP ports found`);
}
