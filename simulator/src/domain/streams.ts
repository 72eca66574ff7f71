import type { TelemetryStream } from './types.js';
import { MavResult, type MavResultValue } from './mav-enums.js';

/** The message id each stream sends (common.xml), for SET_MESSAGE_INTERVAL and REQUEST_MESSAGE. */
export const STREAM_MSGID: Readonly<Record<TelemetryStream, number>> = {
  'heartbeat': 0,
  'sys-status': 1,
  'gps-raw': 24,
  'global-position': 33,
  'mission-current': 42,
  'vfr-hud': 74,
  'home-position': 242,
  'extended-sys-state': 245,
};
const BY_MSGID = new Map<number, TelemetryStream>(Object.entries(STREAM_MSGID).map(([s, id]) => [id, s as TelemetryStream]));

export function streamOfMsgid(msgid: number): TelemetryStream | undefined {
  return BY_MSGID.get(msgid);
}

/**
 * [REQUEST_DATA_STREAM] groups as ArduPilot fills them (GCS_MAVLink_Copter.cpp, STREAM_*):
 * EXTENDED_STATUS carries SYS_STATUS, GPS_RAW_INT, MISSION_CURRENT; POSITION carries
 * GLOBAL_POSITION_INT; EXTRA2 VFR_HUD; EXTRA3 EXTENDED_SYS_STATE and HOME_POSITION.
 */
const DATA_STREAM_GROUPS: Record<number, TelemetryStream[]> = {
  2: ['sys-status', 'gps-raw', 'mission-current'],
  6: ['global-position'],
  11: ['vfr-hud'],
  12: ['extended-sys-state', 'home-position'],
};

/**
 * Per-stream periods and due times. A period of 0 turns a stream off. Decides on each tick
 * which streams fall due; the app sends those from one snapshot.
 */
export class StreamRates {
  private readonly defaults: Map<TelemetryStream, number>;
  private readonly period = new Map<TelemetryStream, number>();
  private readonly next = new Map<TelemetryStream, number>();
  private readonly dueNow: TelemetryStream[] = [];

  constructor(defaults: Readonly<Partial<Record<TelemetryStream, number>>>, nowMs: number) {
    this.defaults = new Map(Object.entries(defaults) as [TelemetryStream, number][]);
    for (const [s, p] of this.defaults) this.setPeriod(s, p, nowMs);
  }

  periodMs(stream: TelemetryStream): number {
    return this.period.get(stream) ?? 0;
  }

  /** [MAV_CMD_SET_MESSAGE_INTERVAL] param2: µs; -1 stops the message, 0 restores its default. */
  setMessageInterval(msgid: number, intervalUs: number, nowMs: number): MavResultValue {
    const stream = streamOfMsgid(msgid);
    if (!stream) return MavResult.DENIED;
    if (intervalUs === -1) this.setPeriod(stream, 0, nowMs);
    else if (intervalUs === 0) this.setPeriod(stream, this.defaults.get(stream) ?? 0, nowMs);
    else if (intervalUs > 0) this.setPeriod(stream, Math.max(20, intervalUs / 1000), nowMs);
    else return MavResult.DENIED;
    return MavResult.ACCEPTED;
  }

  /** [REQUEST_DATA_STREAM] (ArduPilot; deprecated in common.xml); stream id 0 is all of them. */
  requestDataStream(streamId: number, rateHz: number, start: boolean, nowMs: number): void {
    const streams = streamId === 0 ? Object.values(DATA_STREAM_GROUPS).flat() : (DATA_STREAM_GROUPS[streamId] ?? []);
    for (const s of streams) this.setPeriod(s, start && rateHz > 0 ? 1000 / Math.min(rateHz, 50) : 0, nowMs);
  }

  /**
   * The streams due at `nowMs` (the returned array is reused). A stream falls due on the tick
   * nearest its due time (within `slackMs`); a period missed entirely is skipped, not sent twice.
   */
  due(nowMs: number, slackMs: number): readonly TelemetryStream[] {
    const out = this.dueNow;
    out.length = 0;
    for (const [s, at] of this.next) {
      if (nowMs + slackMs < at) continue;
      const p = this.period.get(s)!;
      this.next.set(s, at + p > nowMs ? at + p : nowMs + p);
      out.push(s);
    }
    return out;
  }

  private setPeriod(stream: TelemetryStream, periodMs: number, nowMs: number): void {
    this.period.set(stream, periodMs);
    if (periodMs > 0) this.next.set(stream, nowMs + periodMs);
    else this.next.delete(stream);
  }
}
