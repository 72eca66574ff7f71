import {
  COMMAND_LONG, HEARTBEAT, MAV_AUTOPILOT_INVALID, MAV_MISSION_ACCEPTED, MAV_MISSION_RESULT_NAMES, MAV_MISSION_TYPE_MISSION,
  MAV_RESULT_ACCEPTED, MAV_RESULT_NAMES, MAV_STATE_ACTIVE, MAV_TYPE_ONBOARD_CONTROLLER, MISSION_COUNT, MISSION_ITEM_INT,
  MessageLink, REQUEST_DATA_STREAM, SerialTransport, TcpClientTransport, UdpEndpoint, enumName, udpTransport,
  type ByteTransport, type MavFrame, type MavMessage,
} from '@aerie/mavlink/core';
import { TlogRecorder } from './tlog-recorder.js';
import { requestStreamRates, type StreamRateResult } from './stream-rates.js';
import type { Clock } from '@aerie/contracts';
import type { AckOutcome, FlightControllerLink } from '../ports.js';
import type { FcTelemetry } from '../domain/telemetry.js';
import type { MissionItem } from '../domain/mission.js';
import type { AgentConfig } from '../config.js';
import { FcTelemetryMapper } from './mavlink-telemetry.js';

const MAX_COMMAND_ATTEMPTS = 3;
/** MAVSDK's mission-transfer retries per step. */
const MISSION_RETRIES = 5;

/** Opens the configured wire. UDP replies to the FC's actual address and port unless a peer is fixed. */
async function openTransport(fc: AgentConfig['fc']): Promise<ByteTransport & { readonly localPort?: number }> {
  if (fc.link === 'tcp') return new TcpClientTransport({ host: fc.host, port: fc.port });
  if (fc.link === 'serial') return new SerialTransport({ path: fc.device, baudRate: fc.baudRate });
  const endpoint = await UdpEndpoint.open({ host: fc.host, port: fc.port, peer: fc.peer });
  // ICMP port-unreachable while the FC is not up yet is expected on UDP; the heartbeat supervisor reports link state.
  endpoint.on('error', () => undefined);
  return Object.assign(udpTransport(endpoint), { get localPort() { return endpoint.port; } });
}

/** MAVLink to the flight controller over UDP, TCP or serial, with optional signing and recording. */
export class MavlinkFcLink implements FlightControllerLink {
  private readonly listeners: ((msg: FcTelemetry) => void)[] = [];
  private readonly waiters = new Set<(msg: MavMessage) => boolean>();
  private readonly mapper = new FcTelemetryMapper();
  readonly missionStats = { retransmits: 0 };
  private get target(): { sysid: number; compid: number } {
    return this.mapper.target ?? { sysid: 1, compid: 1 };
  }
  private missionBusy: Promise<unknown> = Promise.resolve();

  private lastFcHeartbeat = -Infinity;
  /** Outcome of the last stream-rate request, for --check and the status file. */
  streamRates: StreamRateResult | null = null;
  /** The rate re-requested after an FC reboot: the configured one until a set_stream_rate command changes it. */
  streamHz: number;

  private constructor(
    private readonly link: MessageLink,
    private readonly transport: ByteTransport & { readonly localPort?: number },
    private readonly clock: Clock,
    private readonly cfg: AgentConfig['fc'],
    private readonly recorder: TlogRecorder | null,
  ) {
    this.streamHz = cfg.streamHz;
    link.on('message', (msg, frame) => this.dispatch(msg, frame));
  }

  static async open(fc: AgentConfig['fc'], clock: Clock): Promise<MavlinkFcLink> {
    const transport = await openTransport(fc);
    const recorder = fc.record ? new TlogRecorder(fc.record) : null;
    const key = fc.signing ? Buffer.from(fc.signing.key, 'hex') : null;
    const link = new MessageLink(
      transport,
      { sysid: fc.sysid, compid: fc.compid, version: fc.mavlinkVersion, signing: key && fc.signing ? { key, linkId: fc.signing.linkId } : null },
      {
        incomingSigning: key && fc.signing ? { key, unsigned: fc.signing.unsigned } : null,
        ...(recorder ? { onPacket: (raw: Buffer) => recorder.record(raw) } : {}),
      },
    );
    return new MavlinkFcLink(link, transport, clock, fc, recorder);
  }

  /** The local UDP port the flight controller should send to (0 for TCP and serial links). */
  get port(): number {
    return this.transport.localPort ?? 0;
  }

  onTelemetry(listener: (msg: FcTelemetry) => void): void {
    this.listeners.push(listener);
  }

  sendHeartbeat(): void {
    this.link.send(HEARTBEAT, { type: MAV_TYPE_ONBOARD_CONTROLLER, autopilot: MAV_AUTOPILOT_INVALID, systemStatus: MAV_STATE_ACTIVE, mavlinkVersion: 3 });
  }

  async commandLong(command: number, params: readonly number[]): Promise<AckOutcome> {
    for (let attempt = 0; attempt < MAX_COMMAND_ATTEMPTS; attempt++) {
      const ack = this.waitFor((m) => (m.name === 'COMMAND_ACK' && m.fields.command === command ? m.fields : null), this.cfg.ackTimeoutMs);
      this.link.send(COMMAND_LONG, {
        targetSystem: this.target.sysid, targetComponent: this.target.compid, command,
        // [MAVLink command protocol] confirmation increments on each re-send of the same command.
        confirmation: attempt,
        param1: params[0] ?? 0, param2: params[1] ?? 0, param3: params[2] ?? 0, param4: params[3] ?? 0,
        param5: params[4] ?? 0, param6: params[5] ?? 0, param7: params[6] ?? 0,
      });
      const got = await ack;
      if (got) return { result: got.result, name: enumName(MAV_RESULT_NAMES, got.result), accepted: got.result === MAV_RESULT_ACCEPTED };
    }
    return 'timeout';
  }

  setStreamHz(hz: number): void {
    this.streamHz = hz;
  }

  async requestStreams(hz: number): Promise<StreamRateResult> {
    this.streamRates = await requestStreamRates({
      commandLong: (c, p) => this.commandLong(c, p),
      requestDataStream: (values) => void this.link.send(REQUEST_DATA_STREAM, values),
      target: () => this.target,
    }, hz);
    return this.streamRates;
  }

  uploadMission(items: readonly MissionItem[]): Promise<AckOutcome> {
    const run = this.missionBusy.then(() => this.runUpload(items));
    this.missionBusy = run.catch(() => undefined);
    return run;
  }

  /**
   * Mission upload as MAVSDK's MavlinkMissionTransfer does it: the FC drives the transfer with
   * MISSION_REQUEST_INT (or legacy MISSION_REQUEST); each step has its own timeout
   * (`ackTimeoutMs`); on a timeout the last message we sent (MISSION_COUNT before the first
   * request, else the last item) is sent again, up to MISSION_RETRIES times in a row; progress
   * resets the count. Timing out means no MISSION_ACK ever came.
   */
  private runUpload(items: readonly MissionItem[]): Promise<AckOutcome> {
    return new Promise((resolve) => {
      let last: () => void = () => this.sendMissionCount(items.length);
      let retries = 0;
      let timer: unknown = null;
      const arm = (): void => {
        if (timer !== null) this.clock.clearTimeout(timer);
        timer = this.clock.setTimeout(onTimeout, this.cfg.ackTimeoutMs);
      };
      const finish = (outcome: AckOutcome): void => {
        if (timer !== null) this.clock.clearTimeout(timer);
        this.waiters.delete(onMessage);
        resolve(outcome);
      };
      const onTimeout = (): void => {
        if (++retries > MISSION_RETRIES) return finish('timeout');
        this.missionStats.retransmits += 1;
        last();
        arm();
      };
      const onMessage = (m: MavMessage): boolean => {
        if ((m.name === 'MISSION_REQUEST_INT' || m.name === 'MISSION_REQUEST') && m.fields.missionType === MAV_MISSION_TYPE_MISSION) {
          const item = items[m.fields.seq];
          if (!item) return false;
          retries = 0;
          last = () => this.sendItem(item);
          last();
          arm();
          return false;
        }
        if (m.name === 'MISSION_ACK' && m.fields.missionType === MAV_MISSION_TYPE_MISSION) {
          const type = m.fields.type;
          finish({ result: type, name: enumName(MAV_MISSION_RESULT_NAMES, type), accepted: type === MAV_MISSION_ACCEPTED });
          return true;
        }
        return false;
      };
      this.waiters.add(onMessage);
      last();
      arm();
    });
  }

  private sendMissionCount(n: number): void {
    this.link.send(MISSION_COUNT, { targetSystem: this.target.sysid, targetComponent: this.target.compid, count: n, missionType: MAV_MISSION_TYPE_MISSION });
  }

  private sendItem(item: MissionItem): void {
    const [param1, param2, param3, param4] = item.params;
    this.link.send(MISSION_ITEM_INT, {
      targetSystem: this.target.sysid, targetComponent: this.target.compid, seq: item.seq, frame: item.frame, command: item.command,
      current: item.current, autocontinue: item.autocontinue, param1, param2, param3, param4, x: item.x, y: item.y, z: item.z,
      missionType: MAV_MISSION_TYPE_MISSION,
    });
  }

  stats(): Record<string, number> {
    return { ...this.link.stats, missionRetransmits: this.missionStats.retransmits, ...(this.recorder ? { tlogRecords: this.recorder.stats.records, tlogErrors: this.recorder.stats.errors } : {}) };
  }

  async close(): Promise<void> {
    this.waiters.clear();
    await this.link.close();
    this.recorder?.close();
  }

  private dispatch(msg: MavMessage, frame: MavFrame): void {
    for (const waiter of [...this.waiters]) if (waiter(msg)) this.waiters.delete(waiter);
    const telemetry = this.mapper.map(msg, frame);
    if (telemetry?.kind === 'heartbeat') {
      const now = this.clock.now();
      // First heartbeat, or the FC came back (a reboot forgets requested rates): ask again.
      if (now - this.lastFcHeartbeat > this.cfg.linkTimeoutMs) {
        void this.requestStreams(this.streamHz);
      }
      this.lastFcHeartbeat = now;
    }
    if (telemetry) for (const l of this.listeners) l(telemetry);
  }

  /** Resolves with what `match` picks from the first message it accepts, or null after `timeoutMs`. */
  private waitFor<T>(match: (m: MavMessage) => T | null, timeoutMs: number): Promise<T | null> {
    return new Promise((resolve) => {
      let timer: unknown = null;
      const waiter = (m: MavMessage): boolean => {
        const picked = match(m);
        if (picked === null) return false;
        if (timer !== null) this.clock.clearTimeout(timer);
        resolve(picked);
        return true;
      };
      this.waiters.add(waiter);
      if (Number.isFinite(timeoutMs)) {
        timer = this.clock.setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(null);
        }, timeoutMs);
      }
    });
  }
}
