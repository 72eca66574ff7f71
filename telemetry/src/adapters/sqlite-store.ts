import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DroneStatus } from '@aerie/contracts';
import { TelemetryError } from '../errors.js';
import type { TrackPoint } from '../domain/track.js';
import type { AppendResult, TelemetryStore } from '../ports.js';

/** Bumped with every change to SCHEMA; stored in PRAGMA user_version. */
const SCHEMA_VERSION = 1;

// WITHOUT ROWID: the natural key is the primary key, so a duplicate costs one B-tree probe and
// the (drone_id, ts) index already carries (boot_id, seq) for ORDER BY ts, boot_id, seq.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS drone_status (
  drone_id     TEXT    NOT NULL,
  boot_id      TEXT    NOT NULL,
  seq          INTEGER NOT NULL,
  ts           INTEGER NOT NULL,
  lat          REAL,
  lon          REAL,
  alt_msl      REAL,
  alt_rel      REAL,
  ground_speed REAL    NOT NULL,
  heading      REAL    NOT NULL,
  battery_pct  REAL,
  flight_mode  TEXT    NOT NULL,
  landed_state TEXT    NOT NULL,
  armed        INTEGER NOT NULL,
  PRIMARY KEY (drone_id, boot_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS drone_status_by_time ON drone_status (drone_id, ts);
`;

interface TrackRow {
  ts: number;
  lat: number;
  lon: number;
  alt_msl: number;
  alt_rel: number;
  ground_speed: number;
  heading: number;
  battery_pct: number | null;
  flight_mode: TrackPoint['flightMode'];
  landed_state: TrackPoint['landedState'];
  armed: number;
}

const POINT_COLUMNS = 'ts, lat, lon, alt_msl, alt_rel, ground_speed, heading, battery_pct, flight_mode, landed_state, armed';

/** TelemetryStore on a SQLite file (or ':memory:'); creates the file's directory if needed. */
export function openSqliteStore(path: string): TelemetryStore {
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // WAL lets the HTTP reads run while ingest writes; synchronous=NORMAL is durable against a
    // process crash in WAL mode and only risks the last commits on power loss, which costs a
    // fraction of a second of 1–5 Hz telemetry instead of an fsync per batch.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new TelemetryError('TEL_ERR_CONFIG', `${path} has telemetry schema ${version}; this build knows ${SCHEMA_VERSION}`);
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } catch (err) {
    db.close();
    throw err;
  }

  const insert = db.prepare<[
    string, string, number, number, number | null, number | null, number | null, number | null,
    number, number, number | null, string, string, number,
  ]>(
    `INSERT INTO drone_status (drone_id, boot_id, seq, ts, lat, lon, alt_msl, alt_rel, ground_speed, heading,
       battery_pct, flight_mode, landed_state, armed)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (drone_id, boot_id, seq) DO NOTHING`,
  );
  const selectTrack = db.prepare<[string, number, number, number], TrackRow>(
    `SELECT ${POINT_COLUMNS} FROM drone_status
     WHERE drone_id = ? AND ts BETWEEN ? AND ? AND lat IS NOT NULL
     ORDER BY ts, boot_id, seq LIMIT ?`,
  );
  const selectLatest = db.prepare<[string], TrackRow>(
    `SELECT ${POINT_COLUMNS} FROM drone_status
     WHERE drone_id = ? AND lat IS NOT NULL
     ORDER BY ts DESC, boot_id DESC, seq DESC LIMIT 1`,
  );

  const appendBatch = db.transaction((points: readonly DroneStatus[]): number => {
    let inserted = 0;
    for (const s of points) {
      const p = s.position;
      inserted += insert.run(
        s.droneId, s.bootId, s.seq, s.ts, p?.lat ?? null, p?.lon ?? null, p?.altMsl ?? null, p?.altRel ?? null,
        s.groundSpeed, s.heading, s.battery.pct, s.flightMode, s.landedState, s.armed ? 1 : 0,
      ).changes;
    }
    return inserted;
  });

  const open = (): void => {
    if (!db.open) throw new TelemetryError('TEL_ERR_STORE_CLOSED', `the telemetry store ${path} is closed`);
  };

  return {
    append(points): AppendResult {
      open();
      if (points.length === 0) return { inserted: 0, duplicates: 0 };
      const inserted = appendBatch(points);
      return { inserted, duplicates: points.length - inserted };
    },
    track(droneId, fromMs, toMs, limit) {
      open();
      return selectTrack.all(droneId, fromMs, toMs, Math.max(0, limit)).map(toPoint);
    },
    latest(droneId) {
      open();
      const row = selectLatest.get(droneId);
      return row === undefined ? null : toPoint(row);
    },
    close() {
      if (db.open) db.close();
    },
  };
}

function toPoint(r: TrackRow): TrackPoint {
  return {
    ts: r.ts,
    lat: r.lat,
    lon: r.lon,
    altMsl: r.alt_msl,
    altRel: r.alt_rel,
    groundSpeed: r.ground_speed,
    heading: r.heading,
    batteryPct: r.battery_pct,
    flightMode: r.flight_mode,
    landedState: r.landed_state,
    armed: r.armed === 1,
  };
}
