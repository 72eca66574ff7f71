import type { Clock } from '@aerie/contracts';
import { MavCmd, MavFrame, MavMissionResult, MavMissionType, type MavMissionResultValue } from './mav-enums.js';
import type { MissionItem, Sender, VehicleOutput } from './types.js';

export interface MissionTransferOptions {
  clock: Clock;
  emit: (out: VehicleOutput) => void;
  /** Called with the new plan once an upload is accepted (or cleared: an empty plan). */
  onPlan: (items: readonly MissionItem[]) => void;
  /** The plan a download reads from. */
  plan: () => readonly MissionItem[];
  /** [Mission protocol, timeouts] wait for an item before re-requesting it. */
  itemTimeoutMs?: number;
  maxRetries?: number;
  maxItems?: number;
}

export interface MissionTransferStats {
  uploadsAccepted: number;
  uploadsFailed: number;
  /** MISSION_REQUEST_INTs sent again after a timeout (a lost request or item). */
  rerequests: number;
  /** Items ahead of the one requested: NACKed with MAV_MISSION_INVALID_SEQUENCE, upload ended. */
  outOfSequence: number;
  /** Copies of items already stored (a retransmission that crossed our request): ignored. */
  duplicates: number;
  timeouts: number;
}

interface Upload {
  from: Sender;
  count: number;
  items: MissionItem[];
  retries: number;
  timer: unknown;
}

const POSITIONAL_FRAMES = new Set<number>([MavFrame.GLOBAL_RELATIVE_ALT, MavFrame.GLOBAL_RELATIVE_ALT_INT]);
// NAV_DELAY and NAV_RETURN_TO_LAUNCH carry no position, so MAV_FRAME_MISSION is valid for them too.
const FRAMES_BY_COMMAND = new Map<number, ReadonlySet<number>>([
  [MavCmd.NAV_WAYPOINT, POSITIONAL_FRAMES],
  [MavCmd.NAV_LAND, POSITIONAL_FRAMES],
  [MavCmd.NAV_TAKEOFF, POSITIONAL_FRAMES],
  [MavCmd.NAV_DELAY, new Set([...POSITIONAL_FRAMES, MavFrame.MISSION])],
  [MavCmd.NAV_RETURN_TO_LAUNCH, new Set([...POSITIONAL_FRAMES, MavFrame.MISSION])],
  // A DO command in the plan (ArduPilot and PX4 delivery missions release the payload this way).
  [MavCmd.DO_GRIPPER, new Set([...POSITIONAL_FRAMES, MavFrame.MISSION])],
]);

/**
 * The vehicle side of the MAVLink mission microservice for mission_type MISSION: upload
 * (MISSION_COUNT → MISSION_REQUEST_INT … → MISSION_ACK), download, and clear.
 */
export class MissionTransfer {
  readonly stats: MissionTransferStats = { uploadsAccepted: 0, uploadsFailed: 0, rerequests: 0, outOfSequence: 0, duplicates: 0, timeouts: 0 };
  private upload: Upload | null = null;
  private lastAccepted: { from: Sender; count: number } | null = null;
  private readonly itemTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxItems: number;

  constructor(private readonly opts: MissionTransferOptions) {
    this.itemTimeoutMs = opts.itemTimeoutMs ?? 1500;
    this.maxRetries = opts.maxRetries ?? 5;
    this.maxItems = opts.maxItems ?? 500;
  }

  get uploading(): boolean {
    return this.upload !== null;
  }

  onCount(from: Sender, count: number, missionType: number): void {
    if (missionType !== MavMissionType.MISSION) return this.ack(from, MavMissionResult.UNSUPPORTED, missionType);
    // [Mission protocol] a new MISSION_COUNT restarts any upload in progress.
    this.abort();
    if (count > this.maxItems) return this.ack(from, MavMissionResult.NO_SPACE);
    if (count === 0) {
      this.opts.onPlan([]);
      return this.ack(from, MavMissionResult.ACCEPTED);
    }
    this.upload = { from, count, items: [], retries: 0, timer: null };
    this.request();
  }

  onItem(from: Sender, item: MissionItem, missionType: number): void {
    const up = this.upload;
    if (!up) {
      // The GCS missed our final MISSION_ACK and re-sent the last item: acknowledge again.
      const last = this.lastAccepted;
      if (last && item.seq === last.count - 1 && missionType === MavMissionType.MISSION) this.ack(from, MavMissionResult.ACCEPTED);
      return;
    }
    if (missionType !== MavMissionType.MISSION) return;
    if (item.seq < up.items.length) {
      // A GCS that timed out re-sends its last item (MAVSDK, edge-agent) while our next request is
      // on the way: already stored, so ignored as PX4 does; the item timer still re-requests.
      this.stats.duplicates += 1;
      return;
    }
    if (item.seq > up.items.length) {
      // An item never requested: NACK with MAV_MISSION_INVALID_SEQUENCE as ArduPilot does
      // (MissionItemProtocol::handle_mission_item). ArduPilot then keeps the transfer open, but
      // GCSs (MAVSDK, QGC, edge-agent) end theirs on any MISSION_ACK, so the upload ends here
      // too rather than re-requesting from a GCS that has given up.
      this.stats.outOfSequence += 1;
      return this.fail(MavMissionResult.INVALID_SEQUENCE);
    }
    const frames = FRAMES_BY_COMMAND.get(item.command);
    if (!frames) return this.fail(MavMissionResult.UNSUPPORTED);
    if (!frames.has(item.frame)) return this.fail(MavMissionResult.UNSUPPORTED_FRAME);
    up.items.push(item);
    up.retries = 0;
    if (up.items.length < up.count) return this.request();
    this.clearTimer();
    this.upload = null;
    this.lastAccepted = { from: up.from, count: up.count };
    this.stats.uploadsAccepted += 1;
    this.opts.onPlan(up.items);
    this.ack(up.from, MavMissionResult.ACCEPTED);
  }

  onClearAll(from: Sender, missionType: number): void {
    if (missionType !== MavMissionType.MISSION && missionType !== MavMissionType.ALL) {
      return this.ack(from, MavMissionResult.UNSUPPORTED, missionType);
    }
    this.abort();
    this.opts.onPlan([]);
    this.ack(from, MavMissionResult.ACCEPTED, missionType);
  }

  onRequestList(from: Sender, missionType: number): void {
    if (missionType !== MavMissionType.MISSION) return this.ack(from, MavMissionResult.UNSUPPORTED, missionType);
    this.opts.emit({ kind: 'mission-count', to: from, count: this.opts.plan().length, missionType });
  }

  onRequest(from: Sender, seq: number, missionType: number): void {
    if (missionType !== MavMissionType.MISSION) return this.ack(from, MavMissionResult.UNSUPPORTED, missionType);
    const item = this.opts.plan()[seq];
    if (!item) return this.ack(from, MavMissionResult.INVALID_SEQUENCE);
    this.opts.emit({ kind: 'mission-item', to: from, item });
  }

  /** Cancels an upload in progress without a word on the wire. */
  abort(): void {
    this.clearTimer();
    this.upload = null;
  }

  private request(): void {
    const up = this.upload;
    if (!up) return;
    this.clearTimer();
    this.opts.emit({ kind: 'mission-request', to: up.from, seq: up.items.length, missionType: MavMissionType.MISSION });
    up.timer = this.opts.clock.setTimeout(() => this.onTimeout(), this.itemTimeoutMs);
  }

  private onTimeout(): void {
    const up = this.upload;
    if (!up) return;
    up.timer = null;
    this.stats.timeouts += 1;
    if (up.retries >= this.maxRetries) return this.fail(MavMissionResult.OPERATION_CANCELLED);
    up.retries += 1;
    this.stats.rerequests += 1;
    this.request();
  }

  private fail(result: MavMissionResultValue): void {
    const up = this.upload;
    if (!up) return;
    this.abort();
    this.stats.uploadsFailed += 1;
    this.ack(up.from, result);
  }

  private ack(to: Sender, result: MavMissionResultValue, missionType: number = MavMissionType.MISSION): void {
    this.opts.emit({ kind: 'mission-ack', to, result, missionType });
  }

  private clearTimer(): void {
    if (this.upload?.timer != null) this.opts.clock.clearTimeout(this.upload.timer);
    if (this.upload) this.upload.timer = null;
  }
}
