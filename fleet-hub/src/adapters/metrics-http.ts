import { createServer, type Server, type ServerResponse } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Registry } from 'prom-client';

/** What the hub exposes at scrape time; read from its counters, so the hot path pays nothing. */
export interface MetricsSource {
  connections(): number;
  messagesIn(): Record<string, number>;
  messagesOut(): Record<string, number>;
  refused(): Record<string, number>;
  rejected(): Record<string, number>;
  shed(): Record<string, number>;
  queueDepth(): Record<string, number>;
  stageTransitions(): Record<string, number>;
  /** Event stream appends by result: appended, failed (tries), held, recovered, dropped. */
  eventLog(): Record<string, number>;
  /** Tracking events published on MQTT still waiting for the event stream. */
  eventLogHeld(): number;
}

function counter(reg: Registry, name: string, help: string, label: string, read: () => Record<string, number>): void {
  new Counter({
    name, help, labelNames: [label], registers: [reg],
    collect() {
      this.reset();
      for (const [k, v] of Object.entries(read())) this.inc({ [label]: k }, v);
    },
  });
}

/** The hub's readiness: each dependency 'ok' or why not (app.ts). */
export type ReadinessProbe = () => { ready: boolean; checks: Record<string, string> };

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * Prometheus text exposition (v0.0.4) at GET /metrics, and the probes every Aerie service serves
 * (README, "Fleet hub"): GET /livez 200 while the process answers at all (its event loop turns),
 * GET /readyz 200 `{status:'ready',checks}` or 503 `{status:'not_ready',checks}`. Anything else
 * is a problem+json 404.
 */
export class MetricsServer {
  private constructor(private readonly server: Server) {}

  static async start(host: string, port: number, src: MetricsSource, readiness: ReadinessProbe | null = null): Promise<MetricsServer> {
    const reg = new Registry();
    new Gauge({ name: 'aerie_hub_connections', help: 'Open MQTT connections on the embedded broker', registers: [reg], collect() { this.set(src.connections()); } });
    counter(reg, 'aerie_hub_messages_in_total', 'Messages taken in from the fleet, by channel', 'channel', () => src.messagesIn());
    counter(reg, 'aerie_hub_messages_out_total', 'Messages the hub published, by kind', 'kind', () => src.messagesOut());
    counter(reg, 'aerie_hub_refused_total', 'Connections and publishes refused at the broker, by reason code', 'reason', () => src.refused());
    counter(reg, 'aerie_hub_rejected_total', 'Messages rejected by the pipeline, by reason code', 'reason', () => src.rejected());
    counter(reg, 'aerie_hub_shed_total', 'Messages shed by the intake policy under overload', 'kind', () => src.shed());
    counter(reg, 'aerie_hub_stage_transitions_total', 'Delivery stage transitions emitted, by stage', 'stage', () => src.stageTransitions());
    counter(reg, 'aerie_hub_event_log_total', 'Event stream appends by result (appended, failed tries, held for the log, recovered, dropped)', 'result', () => src.eventLog());
    new Gauge({ name: 'aerie_hub_event_log_held', help: 'Tracking events already on MQTT still waiting for the event stream', registers: [reg], collect() { this.set(src.eventLogHeld()); } });
    new Gauge({
      name: 'aerie_hub_queue_depth', help: 'Messages waiting in the intake queue', labelNames: ['queue'], registers: [reg],
      collect() {
        for (const [k, v] of Object.entries(src.queueDepth())) this.set({ queue: k }, v);
      },
    });
    // The process's own memory, under prom-client's default names, so a soak or a dashboard can tell
    // the JS heap levelling off from the resident set (which also holds freed pages V8 keeps).
    new Gauge({ name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use (process.memoryUsage().heapUsed)', registers: [reg], collect() { this.set(process.memoryUsage().heapUsed); } });
    new Gauge({ name: 'nodejs_heap_size_total_bytes', help: 'V8 heap reserved', registers: [reg], collect() { this.set(getHeapStatistics().total_heap_size); } });
    new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident set size', registers: [reg], collect() { this.set(process.memoryUsage.rss()); } });
    const server = createServer((req, res) => {
      const path = req.url?.split('?')[0];
      if (req.method === 'GET' && path === '/livez') return json(res, 200, { status: 'alive' });
      if (req.method === 'GET' && path === '/readyz' && readiness) {
        const r = readiness();
        return json(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
      }
      if (req.method === 'GET' && path === '/metrics') {
        reg.metrics().then((body) => {
          res.writeHead(200, { 'content-type': reg.contentType });
          res.end(body);
        }, (err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ type: 'about:blank', title: 'Metrics collection failed', status: 500, detail: String(err) }));
        });
        return;
      }
      // RFC 9457 problem details.
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'only GET /metrics, /livez and /readyz are served here' }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server);
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
