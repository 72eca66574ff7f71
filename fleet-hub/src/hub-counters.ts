import type { MetricsSource } from './adapters/metrics-http.js';
import type { IngestQueueStats } from './domain/ingest-queue.js';
import type { HubErrorCode } from './errors.js';

/** A log line, with structured fields (droneId, correlationId, code…) for pino when wired to it. */
export type HubLogger = (line: string, fields?: Record<string, unknown>) => void;

export interface HubCounters {
  statuses: number;
  events: number;
  trackingPublished: number;
  rejected: Partial<Record<HubErrorCode, number>>;
  refused: Partial<Record<HubErrorCode, number>>;
  /** Shed by the intake's policy under overload (see domain/ingest-queue.ts). */
  shed: { statuses: number; events: number };
  /** Taken in from the fleet, by channel. */
  messagesIn: Record<string, number>;
  commandsPublished: number;
  /** Active missions sent again because their drone came online without having acknowledged them. */
  missionsResent: number;
  /** Tracking events published, by stage. */
  transitions: Record<string, number>;
  /**
   * The event stream (tracking-publisher.ts): appends done, tries failed, events published while
   * the log failed and held for it, held ones appended later, held ones dropped past the bound.
   */
  eventLog: { appended: number; failed: number; held: number; recovered: number; dropped: number };
}

export function newHubCounters(): HubCounters {
  return {
    statuses: 0, events: 0, trackingPublished: 0, rejected: {}, refused: {}, shed: { statuses: 0, events: 0 },
    messagesIn: {}, commandsPublished: 0, missionsResent: 0, transitions: {},
    eventLog: { appended: 0, failed: 0, held: 0, recovered: 0, dropped: 0 },
  };
}

export function bump<K extends string>(m: Partial<Record<K, number>>, k: K, n = 1): void {
  m[k] = (m[k] ?? 0) + n;
}

/** What /metrics reads: the counters, the broker's connection count and the intake's depths. */
export function hubMetricsSource(c: HubCounters, connections: () => number, queue: () => IngestQueueStats): MetricsSource {
  return {
    connections,
    messagesIn: () => c.messagesIn,
    messagesOut: () => ({ tracking: c.trackingPublished, command: c.commandsPublished }),
    refused: () => c.refused,
    rejected: () => c.rejected,
    shed: () => ({ status: c.shed.statuses, event: c.shed.events }),
    queueDepth: () => {
      const q = queue();
      return { status: q.pendingStatuses, event: q.pendingEvents };
    },
    stageTransitions: () => c.transitions,
    eventLog: () => ({ ...c.eventLog }),
    eventLogHeld: () => c.eventLog.held - c.eventLog.recovered - c.eventLog.dropped,
  };
}

/** Counts a message the pipeline refused after intake (bad payload, duplicate…) and logs it. */
export function rejector(c: HubCounters, log: HubLogger) {
  return (code: HubErrorCode, detail: string, droneId: string | null, logIt = true): null => {
    bump(c.rejected, code);
    if (logIt) log(`hub rejected ${code} drone=${droneId ?? '-'} ${detail}`, { code, droneId });
    return null;
  };
}
export type Reject = ReturnType<typeof rejector>;
