import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DeliveryTracking, DroneStatus } from '@aerie/contracts';
import { Authenticator, DeliveryService, MemoryDeliveryRepository, MemoryFleetLink, buildHttp, coreConfig, trackingPath, type StageChange } from '../src/index.js';
import { droneStatus } from '../../test-support/fixtures.js';

/** Debian's chromium (scripts/test.mjs installs it); playwright-core drives it over CDP. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/tracking-page.png');

// The service's clock is the real one an hour ahead (the page must count down on the core's clock,
// from each frame's serverTime, not on the browser's), moved on by each fix to pass the ETA
// refresh interval without waiting.
let skew = 3_600_000;
const clock = { now: () => Date.now() + skew, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
const pickup = { lat: 47.397, lon: 8.545 };
const dropoff = { lat: 47.404, lon: 8.556 };
const config = coreConfig({
  dbPath: ':memory:', scheduling: { holdMs: 0 },
  auth: { keys: [{ key: 'k-alice', clientId: 'alice', role: 'customer', account: 'alice' }], trackingSecret: 'tracking-test-secret' },
});

let fleet: MemoryFleetLink;
let service: DeliveryService;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let seq = 0;

beforeAll(async () => {
  fleet = new MemoryFleetLink();
  service = new DeliveryService(new MemoryDeliveryRepository(), fleet, config, clock);
  app = buildHttp(service, new Authenticator(config.auth, clock));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  // A test needing Chromium fails without it, never skips.
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (scripts/test.mjs does as root)`).toBe(true);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  // alice's key names her account; registering it lets her deliveries past the saga's check-account.
  const registered = await fetch(`${base}/api/v1/accounts/alice`, {
    method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer k-alice' }, body: JSON.stringify({ kind: 'customer', name: 'Alice' }),
  });
  expect(registered.status).toBe(201);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const put = async (id: string) => {
  const res = await fetch(`${base}/api/v1/deliveries/${id}`, {
    method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Bearer k-alice' }, body: JSON.stringify({ pickup, dropoff }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { trackingUrl: string };
};

function fly(position: { lat: number; lon: number }, landed: DroneStatus['landedState'] = 'IN_AIR'): void {
  skew += 3000;
  fleet.pushStatus(droneStatus({
    droneId: 'drone-001', seq: ++seq, ts: clock.now(), armed: landed === 'IN_AIR', landedState: landed, groundSpeed: 12,
    position: { ...position, altMsl: landed === 'IN_AIR' ? 518 : 488, altRel: landed === 'IN_AIR' ? 30 : 0 },
  }));
}

async function track(stage: DeliveryTracking['stage'], type: DeliveryTracking['type'], at: { lat: number; lon: number }): Promise<void> {
  fleet.pushTracking({ v: 1, eventId: `d1:${stage}`, type, deliveryId: 'd1', droneId: 'drone-001', stage, ts: clock.now(), location: { ...at, altRel: 0 }, eta: null });
  await service.settled();
}

const etaOf = async () => (await service.get('d1')).delivery.eta;
const attr = (page: Page, sel: string, name: string) => page.locator(sel).getAttribute(name);

describe('public tracking page', () => {
  it('refuses a missing, wrong or other delivery\'s token exactly like an unknown delivery', async () => {
    const mine = await put('r1');
    const other = await put('r2');
    expect(mine.trackingUrl).toMatch(/^\/track\/r1\?t=[A-Za-z0-9_-]{22}$/);
    const otherToken = new URL(other.trackingUrl, base).searchParams.get('t')!;
    const unknown = await fetch(`${base}/track/nope?t=${otherToken}`);
    for (const url of ['/track/r1', '/track/r1?t=', `/track/r1?t=${otherToken}`, `/track/r1?t=${'A'.repeat(22)}`, `/track/r1/events?t=${otherToken}`, '/track/r1/events']) {
      const res = await fetch(`${base}${url}`);
      expect(res.status, url).toBe(404);
      expect(await res.json(), url).toMatchObject({ code: 'DLV_ERR_NOT_FOUND', detail: 'no delivery r1' });
    }
    expect(unknown.status).toBe(404);
    // The API itself still wants a key: the tracking link is no key to /api/v1.
    expect((await fetch(`${base}/api/v1/deliveries/r1`)).status).toBe(401);
    const page = await fetch(`${base}${mine.trackingUrl}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    // Out of the way of the next test's drone.
    await service.cancel('r1');
    await service.cancel('r2');
  });

  it('follows stage, ETA and position live in headless Chromium, offline, and keeps a screenshot', async () => {
    const { trackingUrl } = await put('d1');
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, timezoneId: 'UTC', locale: 'en-GB' });
    const page = await context.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    try {
      await page.goto(`${base}${trackingUrl}`);
      await expect.poll(() => attr(page, '#stage', 'data-stage')).toBe('Requested');
      await expect.poll(() => attr(page, '#conn', 'data-state')).toBe('live');
      expect(await page.locator('#drone').count()).toBe(0);
      expect(await page.locator('#pickup').count()).toBe(1);

      // A drone at the pickup is assigned: Scheduled, with the planner's ETA.
      fly(pickup, 'ON_GROUND');
      // Proposed now; Scheduled once the saga has the hub's answer (the count schedulePending
      // returns only covers sagas that finished within the call, which under load they may not).
      await expect.poll(async () => {
        await service.schedulePending();
        return (await service.get('d1')).delivery.stage;
      }, { timeout: 20_000 }).toBe('Scheduled');
      await expect.poll(() => attr(page, '#stage', 'data-stage')).toBe('Scheduled');
      await expect.poll(() => attr(page, '#eta', 'data-eta')).toBe(new Date((await etaOf())!).toISOString());
      // A trip of ~1.2 km: minutes away on the core's clock (on the browser's it would read "1 h …").
      await expect.poll(() => page.locator('#eta').textContent()).toMatch(/^\d{1,2} min \d\d s$/);

      await track('HeadedToPickup', 'DeliveryHeadedToPickup', pickup);
      await track('PickedUp', 'PackagePickedUp', pickup);
      await track('HeadedToDropoff', 'DeliveryHeadedToDropoff', pickup);
      await expect.poll(() => page.locator('#stage').textContent()).toBe('On its way to you');
      expect(await page.locator('#stages li.done').count()).toBe(4);

      // Two telemetry fixes along the leg: the marker follows, the trail grows, the ETA moves.
      const cx: (string | null)[] = [];
      for (const f of [0.3, 0.6]) {
        const etaBefore = await etaOf();
        fly({ lat: pickup.lat + f * (dropoff.lat - pickup.lat), lon: pickup.lon + f * (dropoff.lon - pickup.lon) });
        await service.refreshEtas();
        const eta = await etaOf();
        expect(eta).not.toBe(etaBefore);
        await expect.poll(() => attr(page, '#drone', 'data-lat')).toBe(String(pickup.lat + f * (dropoff.lat - pickup.lat)));
        await expect.poll(() => attr(page, '#eta', 'data-eta')).toBe(new Date(eta!).toISOString());
        cx.push(await attr(page, '#drone', 'cx'));
      }
      expect(cx[0]).not.toBe(cx[1]);
      expect((await attr(page, '#trail', 'points'))!.split(' ').length).toBeGreaterThanOrEqual(2);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);

      await track('Completed', 'DeliveryCompleted', dropoff);
      await expect.poll(() => attr(page, '#stage', 'data-stage')).toBe('Completed');
      await expect.poll(() => attr(page, '#conn', 'data-state')).toBe('ended');
      expect(await page.locator('#eta-label').textContent()).toBe('Delivered');
      expect(await page.locator('#stages li.done').count()).toBe(6);
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('misses no change committed while the stream opens (a final stage read too late left the stream open for ever)', async () => {
    /** Reads the history, then lets a Completed land before the route gets its (now stale) read. */
    class RacingRepository extends MemoryDeliveryRepository {
      armed = false;
      override async history(id: string): Promise<StageChange[]> {
        const h = await super.history(id);
        if (this.armed) {
          this.armed = false;
          racingFleet.pushTracking({ v: 1, eventId: 'x1:done', type: 'DeliveryFailed', deliveryId: 'x1', droneId: null, stage: 'Failed', ts: clock.now(), location: null, eta: null, reason: 'test' });
          await racing.settled();
        }
        return h;
      }
    }
    const repo = new RacingRepository();
    const racingFleet = new MemoryFleetLink();
    const racing = new DeliveryService(repo, racingFleet, config, clock);
    const racingApp = buildHttp(racing, new Authenticator(config.auth, clock));
    try {
      const url = await racingApp.listen({ host: '127.0.0.1', port: 0 });
      await racing.request('x1', { pickup, dropoff, owner: 'alice' }, 'corr-x1');
      repo.armed = true;
      const res = await fetch(`${url}${trackingPath(config.auth.trackingSecret, 'x1').replace('?', '/events?')}`, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      expect(text).toContain('event: snapshot');
      expect(text).toMatch(/event: stage\nid: x1:done\ndata: \{"id":"x1","stage":"Failed"/);
    } finally {
      await racingApp.close();
    }
  });
});
