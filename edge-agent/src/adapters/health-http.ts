import { createServer, type Server, type ServerResponse } from 'node:http';

/** Each dependency 'ok' or what is wrong, in a few words. */
export type ReadinessChecks = () => Record<string, string>;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * The agent's probes, as every Aerie service serves them (launcher contract): GET /livez 200
 * while the process answers at all (its event loop turns), GET /readyz 200
 * `{status:'ready',checks}` or 503 `{status:'not_ready',checks}`. Not ready is information for
 * the operator's supervisor, not a reason to stop: the agent keeps flying and spooling offline.
 */
export class HealthServer {
  private constructor(private readonly server: Server) {}

  static async start(host: string, port: number, checks: ReadinessChecks): Promise<HealthServer> {
    const server = createServer((req, res) => {
      const path = req.url?.split('?')[0];
      if (req.method === 'GET' && path === '/livez') return json(res, 200, { status: 'alive' });
      if (req.method === 'GET' && path === '/readyz') {
        const c = checks();
        const ready = Object.values(c).every((v) => v === 'ok');
        return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks: c });
      }
      // RFC 9457 problem details.
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'only GET /livez and /readyz are served here' }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new HealthServer(server);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
