/** Mean Earth radius (IUGG), the same one haversineM uses, so local and great-circle distances agree. */
const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export interface LatLon {
  lat: number;
  lon: number;
}

export interface LocalOffset {
  northM: number;
  eastM: number;
}

/**
 * Flat-earth (equirectangular) offset from `from` to `to`, accurate to well under a metre over
 * the few kilometres a delivery covers.
 */
export function offsetM(from: LatLon, to: LatLon): LocalOffset {
  return {
    northM: (to.lat - from.lat) * RAD * EARTH_RADIUS_M,
    eastM: (to.lon - from.lon) * RAD * EARTH_RADIUS_M * Math.cos(from.lat * RAD),
  };
}

/** The point `offset` away from `origin` on the same local tangent plane. */
export function displace(origin: LatLon, offset: LocalOffset): LatLon {
  return {
    lat: origin.lat + offset.northM / EARTH_RADIUS_M / RAD,
    lon: origin.lon + offset.eastM / (EARTH_RADIUS_M * Math.cos(origin.lat * RAD)) / RAD,
  };
}

export function horizontalDistanceM(a: LatLon, b: LatLon): number {
  const o = offsetM(a, b);
  return Math.hypot(o.northM, o.eastM);
}
