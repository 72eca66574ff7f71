import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { GLOBAL_POSITION_INT, TlogReader, crcExtraOf, decodeMessage, type MavFrame, type TlogStats } from '@aerie/mavlink/core';
import type { DroneEvent, DroneStatus } from '@aerie/contracts';
import { StatusAssembler, eventFrom } from './domain/status-assembler.js';
import { FcTelemetryMapper } from './adapters/mavlink-telemetry.js';
import type { FcTelemetry } from './domain/telemetry.js';

/** The last line `aerie-agent replay` prints (issue 3, "For operators"). */
export interface ReplaySummary {
  /** Valid packets decoded from the log. */
  packets: number;
  /** Corrupt records skipped (each resynchronisation counts once). */
  corrupt: number;
  /** GLOBAL_POSITION_INT packets seen, from any system. */
  positions: number;
  /** The vehicle's flight modes in order of change, by the autopilot's own names. */
  modes: string[];
}

export interface ReplayOptions {
  droneId?: string;
  /** DroneStatus per second of log time. */
  publishHz?: number;
  onStatus?: (status: DroneStatus) => void;
  onEvent?: (event: DroneEvent) => void;
  /** After each telemetry message is applied, with the status it produced (for verification). */
  onApplied?: (telemetry: FcTelemetry, status: DroneStatus, frame: MavFrame) => void;
}

/**
 * Feeds a recorded .tlog through the agent's own pipeline (TlogReader → decode → FC telemetry
 * mapper → StatusAssembler) with the log's timestamps as the clock.
 */
export async function replayTlog(path: string, opts: ReplayOptions = {}): Promise<ReplaySummary & { stats: TlogStats }> {
  const droneId = opts.droneId ?? 'replay';
  const bootId = randomUUID();
  const periodMs = 1000 / (opts.publishHz ?? 2);
  const reader = new TlogReader(crcExtraOf);
  const mapper = new FcTelemetryMapper();
  const assembler = new StatusAssembler(droneId);
  const modes: string[] = [];
  let positions = 0;
  let statusSeq = 0;
  let eventSeq = 0;
  let nextPublish = -Infinity;
  let lastMode: string | null = null;

  const onRecord = (timestampUs: number, frame: MavFrame): void => {
    if (frame.msgid === GLOBAL_POSITION_INT.id) positions += 1;
    // Every record advances the log's clock (link supervision, publishing); only the codec's messages carry telemetry.
    const msg = decodeMessage(frame);
    const now = Math.floor(timestampUs / 1000);
    const telemetry = msg && mapper.map(msg, frame);
    if (telemetry) {
      for (const d of assembler.apply(telemetry, now)) opts.onEvent?.(eventFrom(d, { droneId, bootId, seq: eventSeq++, now }));
      if (telemetry.kind === 'heartbeat' || opts.onApplied) {
        const status = assembler.snapshot({ bootId, seq: statusSeq, now });
        if (status.flightModeRaw !== lastMode) modes.push((lastMode = status.flightModeRaw));
        opts.onApplied?.(telemetry, status, frame);
      }
    }
    for (const d of assembler.checkLink(now, 3000)) opts.onEvent?.(eventFrom(d, { droneId, bootId, seq: eventSeq++, now }));
    if (assembler.hasHeartbeat && now >= nextPublish) {
      opts.onStatus?.(assembler.snapshot({ bootId, seq: statusSeq++, now }));
      nextPublish = Math.max(nextPublish + periodMs, now + periodMs / 2);
    }
  };

  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    for (const r of reader.push(chunk as Buffer)) onRecord(r.timestampUs, r.frame);
  }
  for (const r of reader.end()) onRecord(r.timestampUs, r.frame);
  return { packets: reader.stats.records, corrupt: reader.stats.corruptRecords, positions, modes, stats: { ...reader.stats } };
}
