import type { ByteTransport } from './link-base.js';
import type { UdpEndpoint } from './udp.js';

/** Adapts a UDP endpoint to the link's transport port; each datagram is framed on its own. */
export function udpTransport(endpoint: UdpEndpoint): ByteTransport {
  return {
    framing: 'datagram',
    send: (data) => endpoint.send(data),
    onData: (listener) => endpoint.on('datagram', (data) => listener(data)),
    close: () => endpoint.close(),
  };
}
