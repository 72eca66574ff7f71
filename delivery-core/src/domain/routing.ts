import { buffer } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import type { LatLon } from '@aerie/contracts';

/**
 * Routes around no-fly zones on a local tangent plane (equirectangular at the origin's latitude:
 * under 0.1 % off within 50 km). Each zone is grown by a safety margin (turf buffer), and a
 * route is a shortest path in the visibility graph of the grown polygons' vertices — the
 * classical construction for shortest paths among polygonal obstacles (Lozano-Pérez & Wesley,
 * CACM 22(10), 1979). Edge weights are flight times, not lengths: with wind the fastest way
 * round an obstacle may be the longer one. Straight legs stay straight: with a convex set of
 * reachable ground velocities (a disk of airspeeds shifted by the wind) a straight line is the
 * fastest path wherever it is clear.
 *
 * All-pairs times between vertices are precomputed (Floyd–Warshall: a few dozen vertices), so
 * a blocked leg a → b costs one pass over the vertices once each end point has been prepared.
 */
export type ZoneFeature = Feature<Polygon | MultiPolygon>;

/** Seconds to fly a straight segment of (dx, dy) metres; Infinity when the wind forbids it. */
export type SegmentTime = (dx: number, dy: number) => number;

const EARTH_M = 6_371_008.8;
const RAD = Math.PI / 180;

export interface PreparedPoint {
  x: number;
  y: number;
  /** Inside a grown zone: nothing can be routed to or from it. */
  inside: boolean;
  /** Per vertex: time / length of the shortest way from this point to it, and from it to this point. */
  outT: Float64Array; outM: Float64Array; inT: Float64Array; inM: Float64Array;
}

export interface RoutedLeg { s: number; m: number }

export class NoFlyRouter {
  readonly lat0: number;
  readonly lon0: number;
  private readonly kx: number;
  private readonly ky = RAD * EARTH_M;
  /** Polygon rings (closed, as x0,y0,x1,y1,…) of the grown zones, and their bounding boxes. */
  private readonly rings: Float64Array[] = [];
  private readonly boxes: number[][] = [];
  private readonly vx: number[] = [];
  private readonly vy: number[] = [];
  private dT = new Float64Array(0);
  private dM = new Float64Array(0);

  constructor(zones: readonly ZoneFeature[], readonly marginM: number, origin: LatLon, private readonly time: SegmentTime) {
    this.lat0 = origin.lat;
    this.lon0 = origin.lon;
    this.kx = RAD * EARTH_M * Math.cos(origin.lat * RAD);
    for (const z of zones) {
      const grown = marginM > 0 ? buffer(z, marginM, { units: 'meters', steps: 2 }) : z;
      if (!grown) continue;
      const g = grown.geometry;
      const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      // Outer rings only: a hole in a no-fly zone is not a place to fly through.
      for (const poly of polys) this.addRing(poly[0]!);
    }
    this.buildGraph();
  }

  get empty(): boolean { return this.rings.length === 0; }

  /** Planar metres east and north of the origin. */
  xy(p: LatLon): [number, number] { return [(p.lon - this.lon0) * this.kx, (p.lat - this.lat0) * this.ky]; }
  latLon(x: number, y: number): LatLon { return { lat: this.lat0 + y / this.ky, lon: this.lon0 + x / this.kx }; }

  private addRing(coords: number[][]): void {
    const n = coords.length - 1; // GeoJSON rings repeat the first point last
    const ring = new Float64Array(2 * (n + 1));
    const box = [Infinity, Infinity, -Infinity, -Infinity];
    for (let k = 0; k <= n; k++) {
      const [x, y] = this.xy({ lon: coords[k]![0]!, lat: coords[k]![1]! });
      ring[2 * k] = x; ring[2 * k + 1] = y;
      box[0] = Math.min(box[0]!, x); box[1] = Math.min(box[1]!, y); box[2] = Math.max(box[2]!, x); box[3] = Math.max(box[3]!, y);
      if (k < n) { this.vx.push(x); this.vy.push(y); }
    }
    this.rings.push(ring);
    this.boxes.push(box);
  }

  /** Inside a grown zone (even–odd rule); its boundary counts as outside. */
  inside(x: number, y: number): boolean {
    for (let r = 0; r < this.rings.length; r++) if (this.insideRing(r, x, y, true)) return true;
    return false;
  }

  /**
   * Even–odd rule on ring r. With `strict`, points within a millimetre of an edge are outside:
   * routes run along the grown boundary and between its vertices, and a leg along an edge must
   * not count as entering the zone.
   */
  private insideRing(r: number, x: number, y: number, strict: boolean): boolean {
    const b = this.boxes[r]!;
    if (x < b[0]! || x > b[2]! || y < b[1]! || y > b[3]!) return false;
    const ring = this.rings[r]!;
    let c = false;
    for (let k = 0; k + 3 < ring.length; k += 2) {
      const x1 = ring[k]!, y1 = ring[k + 1]!, x2 = ring[k + 2]!, y2 = ring[k + 3]!;
      if ((y1 > y) !== (y2 > y) && x < ((x2 - x1) * (y - y1)) / (y2 - y1) + x1) c = !c;
    }
    if (!c || !strict) return c;
    for (let k = 0; k + 3 < ring.length; k += 2) if (segmentDistance(x, y, ring[k]!, ring[k + 1]!, ring[k + 2]!, ring[k + 3]!) <= 1e-3) return false;
    return true;
  }

  /** Whether the open segment a–b enters a grown zone: crosses an edge properly, or its midpoint is inside. */
  blocked(ax: number, ay: number, bx: number, by: number): boolean {
    const minX = Math.min(ax, bx), maxX = Math.max(ax, bx), minY = Math.min(ay, by), maxY = Math.max(ay, by);
    for (let r = 0; r < this.rings.length; r++) {
      const b = this.boxes[r]!;
      if (maxX < b[0]! || minX > b[2]! || maxY < b[1]! || minY > b[3]!) continue;
      const ring = this.rings[r]!;
      for (let k = 0; k + 3 < ring.length; k += 2) {
        if (properCross(ax, ay, bx, by, ring[k]!, ring[k + 1]!, ring[k + 2]!, ring[k + 3]!)) return true;
      }
      if (this.insideRing(r, (ax + bx) / 2, (ay + by) / 2, true)) return true;
    }
    return false;
  }

  private buildGraph(): void {
    const n = this.vx.length;
    const dT = new Float64Array(n * n).fill(Infinity);
    const dM = new Float64Array(n * n).fill(Infinity);
    for (let p = 0; p < n; p++) {
      dT[p * n + p] = 0; dM[p * n + p] = 0;
      for (let q = 0; q < n; q++) {
        if (p === q) continue;
        const dx = this.vx[q]! - this.vx[p]!, dy = this.vy[q]! - this.vy[p]!;
        if (this.blocked(this.vx[p]!, this.vy[p]!, this.vx[q]!, this.vy[q]!)) continue;
        dT[p * n + q] = this.time(dx, dy);
        dM[p * n + q] = Math.hypot(dx, dy);
      }
    }
    // Floyd–Warshall on time, carrying the length of the fastest path along.
    for (let k = 0; k < n; k++) {
      for (let p = 0; p < n; p++) {
        const pk = dT[p * n + k]!;
        if (pk === Infinity) continue;
        for (let q = 0; q < n; q++) {
          const t = pk + dT[k * n + q]!;
          if (t < dT[p * n + q]!) { dT[p * n + q] = t; dM[p * n + q] = dM[p * n + k]! + dM[k * n + q]!; }
        }
      }
    }
    this.dT = dT;
    this.dM = dM;
  }

  /** The fastest ways between a point and every vertex, both directions (through the graph). */
  prepare(p: LatLon): PreparedPoint {
    const [x, y] = this.xy(p);
    const n = this.vx.length;
    const direct = { outT: new Float64Array(n).fill(Infinity), outM: new Float64Array(n), inT: new Float64Array(n).fill(Infinity), inM: new Float64Array(n) };
    const inside = this.inside(x, y);
    if (!inside) {
      for (let q = 0; q < n; q++) {
        const dx = this.vx[q]! - x, dy = this.vy[q]! - y;
        if (this.blocked(x, y, this.vx[q]!, this.vy[q]!)) continue;
        direct.outT[q] = this.time(dx, dy); direct.outM[q] = Math.hypot(dx, dy);
        direct.inT[q] = this.time(-dx, -dy); direct.inM[q] = direct.outM[q]!;
      }
    }
    const out = { outT: new Float64Array(n).fill(Infinity), outM: new Float64Array(n), inT: new Float64Array(n).fill(Infinity), inM: new Float64Array(n) };
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < n; k++) {
        const o = direct.outT[k]! + this.dT[k * n + q]!;
        if (o < out.outT[q]!) { out.outT[q] = o; out.outM[q] = direct.outM[k]! + this.dM[k * n + q]!; }
        const i = this.dT[q * n + k]! + direct.inT[k]!;
        if (i < out.inT[q]!) { out.inT[q] = i; out.inM[q] = this.dM[q * n + k]! + direct.inM[k]!; }
      }
    }
    return { x, y, inside, ...out };
  }

  /**
   * The fastest leg a → b: straight when clear, else round the zones (via the vertex q that
   * minimises a→q→b; a→q already includes the best way between vertices). Infinity when no
   * way exists (an end inside a zone, or boxed in).
   */
  leg(a: PreparedPoint, b: PreparedPoint): RoutedLeg {
    const out = new Float64Array(2);
    this.legInto(a, b, out, 0);
    return { s: out[0]!, m: out[1]! };
  }

  /** leg() without allocating: seconds into out[at], metres into out[at + 1]. */
  legInto(a: PreparedPoint, b: PreparedPoint, out: Float64Array, at: number): void {
    out[at] = Infinity; out[at + 1] = Infinity;
    if (a.inside || b.inside) return;
    const dx = b.x - a.x, dy = b.y - a.y;
    if (!this.blocked(a.x, a.y, b.x, b.y)) { out[at] = this.time(dx, dy); out[at + 1] = Math.sqrt(dx * dx + dy * dy); return; }
    let s = Infinity;
    let m = Infinity;
    // The first vertex after a is directly visible from a; a.outT[q] + b.inT[q] over all q is the
    // shortest a → … → q → … → b, which is the shortest a → b through the graph.
    for (let q = 0; q < this.vx.length; q++) {
      const t = a.outT[q]! + b.inT[q]!;
      if (t < s) { s = t; m = a.outM[q]! + b.inM[q]!; }
    }
    if (s < Infinity) { out[at] = s; out[at + 1] = m; }
  }

  /** The waypoints of the fastest leg a → b (a and b included), or null when there is none. */
  path(from: LatLon, to: LatLon): LatLon[] | null {
    const a = this.prepare(from);
    const b = this.prepare(to);
    const best = this.leg(a, b);
    if (best.s === Infinity) return null;
    const n = this.vx.length;
    const pts: LatLon[] = [from];
    let cur = { x: a.x, y: a.y, vertex: -1 };
    // Greedy walk on the exact remaining times: the next point is the visible one on a fastest path.
    for (let guard = 0; guard <= n; guard++) {
      if (!this.blocked(cur.x, cur.y, b.x, b.y)) break;
      let next = -1;
      let bestT = Infinity;
      for (let q = 0; q < n; q++) {
        if (q === cur.vertex || this.blocked(cur.x, cur.y, this.vx[q]!, this.vy[q]!)) continue;
        const t = this.time(this.vx[q]! - cur.x, this.vy[q]! - cur.y) + b.inT[q]!;
        if (t < bestT) { bestT = t; next = q; }
      }
      if (next < 0) return null;
      cur = { x: this.vx[next]!, y: this.vy[next]!, vertex: next };
      pts.push(this.latLon(cur.x, cur.y));
    }
    pts.push(to);
    return pts;
  }
}

/** Segments p1–p2 and q1–q2 cross at a point interior to both (touching or collinear is not crossing). */
function properCross(p1x: number, p1y: number, p2x: number, p2y: number, q1x: number, q1y: number, q2x: number, q2y: number): boolean {
  const d1 = (q2x - q1x) * (p1y - q1y) - (q2y - q1y) * (p1x - q1x);
  const d2 = (q2x - q1x) * (p2y - q1y) - (q2y - q1y) * (p2x - q1x);
  const d3 = (p2x - p1x) * (q1y - p1y) - (p2y - p1y) * (q1x - p1x);
  const d4 = (p2x - p1x) * (q2y - p1y) - (p2y - p1y) * (q2x - p1x);
  const eps = 1e-9;
  return ((d1 > eps && d2 < -eps) || (d1 < -eps && d2 > eps)) && ((d3 > eps && d4 < -eps) || (d3 < -eps && d4 > eps));
}

function segmentDistance(px: number, py: number, x1: number, y1: number, x2: number, y2: number): number {
  const dx = x2 - x1, dy = y2 - y1;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len2));
  return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
}
