import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeviceRegistry } from './device-registry.js';
import type { TwinDoc } from '../domain/iothub-twin.js';
import type { MethodResult } from './iothub-endpoint.js';

export interface IotServiceOps {
  twin(deviceId: string): TwinDoc & { connectionState: string };
  devices(): string[];
  invoke(deviceId: string, method: string, payload: unknown, timeoutMs: number): Promise<MethodResult>;
  updateDesired(deviceId: string, patch: Record<string, unknown>): Promise<number>;
}

const MAX_BODY = 64 * 1024;
const METHOD_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The back end's side of the IoT Hub endpoint, shaped after IoT Hub's service REST API
 * (GET /twins/{id}, PATCH /twins/{id}, POST /twins/{id}/methods with
 * {methodName, payload, responseTimeoutInSeconds}) plus GET /twins for the fleet's reported
 * properties. Callers authenticate with HTTP Basic as a service principal of the device registry.
 */
export class IotServiceApi {
  private constructor(private readonly server: Server, private readonly host: string) {}

  static async start(host: string, port: number, registry: DeviceRegistry, ops: IotServiceOps): Promise<IotServiceApi> {
    const server = createServer((req, res) => {
      handle(req, res, registry, ops).catch((err: unknown) => problem(res, 500, 'Internal error', String(err)));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new IotServiceApi(server, host);
  }

  get url(): string {
    return `http://${this.host}:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** RFC 9457 problem details. */
function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function authorized(req: IncomingMessage, registry: DeviceRegistry): Promise<boolean> {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const creds = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = creds.indexOf(':');
  if (colon <= 0) return false;
  const outcome = await registry.verify(creds.slice(0, colon), creds.slice(colon + 1));
  return outcome.ok && outcome.principal.role === 'service';
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RangeError(`body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

async function handle(req: IncomingMessage, res: ServerResponse, registry: DeviceRegistry, ops: IotServiceOps): Promise<void> {
  if (!(await authorized(req, registry))) {
    res.setHeader('www-authenticate', 'Basic realm="aerie-hub"');
    return problem(res, 401, 'Unauthorized', 'HTTP Basic credentials of a service principal are required');
  }
  const path = (req.url ?? '').split('?')[0]!;
  const m = /^\/twins(?:\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63}))?(\/methods)?$/.exec(path);
  if (!m) return problem(res, 404, 'Not Found', 'served: GET /twins, GET|PATCH /twins/{id}, POST /twins/{id}/methods');
  const [, id, methods] = m;
  const known = id !== undefined && ops.devices().includes(id);
  if (id !== undefined && !known) return problem(res, 404, 'Not Found', `no device ${id}`);
  if (!id) {
    if (req.method !== 'GET') return problem(res, 405, 'Method Not Allowed', 'GET /twins');
    return json(res, 200, ops.devices().map((d) => {
      const t = ops.twin(d);
      return { deviceId: d, connectionState: t.connectionState, properties: { reported: t.reported, desired: t.desired } };
    }));
  }
  if (!methods && req.method === 'GET') {
    const t = ops.twin(id);
    return json(res, 200, { deviceId: id, connectionState: t.connectionState, properties: { reported: t.reported, desired: t.desired } });
  }
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return problem(res, 400, 'Bad Request', `body must be JSON: ${(err as Error).message}`);
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (!methods && req.method === 'PATCH') {
    const desired = (b.properties as Record<string, unknown> | undefined)?.desired;
    if (typeof desired !== 'object' || desired === null || Array.isArray(desired)) return problem(res, 400, 'Bad Request', 'body must be {"properties":{"desired":{…}}}');
    try {
      return json(res, 200, { deviceId: id, properties: { desired: { $version: await ops.updateDesired(id, desired as Record<string, unknown>) } } });
    } catch (err) {
      return problem(res, 400, 'Bad Request', (err as Error).message);
    }
  }
  if (methods && req.method === 'POST') {
    const name = b.methodName;
    const timeoutS = b.responseTimeoutInSeconds ?? 30;
    if (typeof name !== 'string' || !METHOD_NAME.test(name)) return problem(res, 400, 'Bad Request', 'methodName must be 1–128 letters, digits, _ . -');
    // IoT Hub allows 5–300 s; shorter is allowed here for tests.
    if (typeof timeoutS !== 'number' || !(timeoutS > 0 && timeoutS <= 300)) return problem(res, 400, 'Bad Request', 'responseTimeoutInSeconds must be in (0, 300]');
    const r = await ops.invoke(id, name, b.payload ?? null, timeoutS * 1000);
    if (r.status === 404 || r.status === 504) return problem(res, r.status, r.status === 404 ? 'Device Not Online' : 'Gateway Timeout', JSON.stringify(r.payload));
    return json(res, 200, r);
  }
  return problem(res, 405, 'Method Not Allowed', `${req.method ?? ''} ${path}`);
}
