import { httpsRequest } from '../https-client.js';
import { randomRequest, seededRandom } from '@aerie/simulator';
import type { LatLon } from '@aerie/contracts';

export interface SubmitterOptions {
  gatewayUrl: string;
  caFile: string;
  apiKey: string;
  depot: LatLon;
  /** Delivery ids are `<prefix>-<n>`. */
  prefix: string;
  /** New deliveries per second. */
  ratePerS: number;
  seed?: number;
  log?: (line: string) => void;
}

/**
 * The bench's customer: new delivery requests through the gateway at a steady rate, each PUT
 * retried with the same id and body (idempotent: the same request is the same delivery) until a
 * 2xx comes back — while the gateway or the core is down, through 502s, refused connections and
 * timeouts. Only an answer received counts as accepted: a 202 lost with a dying core is asked
 * again, and a request never answered is not owed.
 */
export class Submitter {
  readonly accepted: string[] = [];
  /** Requests refused for good (a 4xx other than 408/429): a bench bug, reported. */
  readonly refused: { id: string; status: number; body: string }[] = [];
  retries = 0;
  private n = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private readonly rnd: () => number;

  constructor(private readonly o: SubmitterOptions) {
    this.rnd = seededRandom(o.seed ?? 8);
  }

  start(): void {
    this.timer = setInterval(() => this.submitNext(), 1000 / this.o.ratePerS);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Stops making new requests; resolves when every request under way has its answer (or `boundMs` passed). */
  async stop(boundMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const end = Date.now() + boundMs;
    while (this.inFlight.size > 0 && Date.now() < end) await Promise.race([...this.inFlight, sleep(1000)]);
    this.stopping = true;
  }

  private submitNext(): void {
    this.n += 1;
    const id = `${this.o.prefix}-${this.n}`;
    const body = JSON.stringify(randomRequest(this.o.depot, this.rnd));
    const p = this.submit(id, body).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async submit(id: string, body: string): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        const res = await httpsRequest(`${this.o.gatewayUrl}/api/v1/deliveries/${id}`, {
          caFile: this.o.caFile, method: 'PUT', body, timeoutMs: 10_000,
          headers: { authorization: `Bearer ${this.o.apiKey}`, 'content-type': 'application/json' },
        });
        if (res.status >= 200 && res.status < 300) {
          this.accepted.push(id);
          return;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          this.refused.push({ id, status: res.status, body: res.body.slice(0, 300) });
          this.o.log?.(`submit ${id}: refused ${res.status} ${res.body.slice(0, 200)}`);
          return;
        }
      } catch {
        // No answer (gateway down, reset, timeout): ask again with the same id.
      }
      this.retries += 1;
      await sleep(Math.min(2000, 200 * 2 ** Math.min(attempt, 4)));
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
