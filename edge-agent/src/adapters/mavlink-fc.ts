import { common, minimal, type MavLinkData } from 'node-mavlink';
import {
  MavLink, SerialTransport, TcpClientTransport, UdpEndpoint, udpTransport, type ByteTransport, type MavFrame,
} from '@aerie/mavlink';
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
  private readonly waiters = new Set<(msg: MavLinkData) => boolean>();
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
    private readonly link: MavLink,
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
    const link = new MavLink(
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
    const hb = new minimal.Heartbeat();
    hb.type = minimal.MavType.ONBOARD_CONTROLLER;
    hb.autopilot = minimal.MavAutopilot.INVALID;
    hb.systemStatus = minimal.MavState.ACTIVE;
    hb.mavlinkVersion = 3;
    this.link.send(hb);
  }

  async commandLong(command: number, params: readonly number[]): Promise<AckOutcome> {
    for (let attempt = 0; attempt < MAX_COMMAND_ATTEMPTS; attempt++) {
      const msg = new common.CommandLong();
      msg.targetSystem = this.target.sysid;
      msg.targetComponent = this.target.compid;
      msg.command = command;
      // [MAVLink command protocol] confirmation increments on each re-send of the same command.
      msg.confirmation = attempt;
      [msg._param1, msg._param2, msg._param3, msg._param4, msg._param5, msg._param6, msg._param7] =
        [0, 1, 2, 3, 4, 5, 6].map((i) => params[i] ?? 0) as [number, number, number, number, number, number, number];
      const ack = this.waitFor((m): m is common.CommandAck => m instanceof common.CommandAck && Number(m.command) === command, this.cfg.ackTimeoutMs);
      this.link.send(msg);
      const got = await ack;
      if (got) return { result: got.result, name: common.MavResult[got.result] ?? String(got.result), accepted: got.result === common.MavResult.ACCEPTED };
    }
    return 'timeout';
  }

  setStreamHz(hz: number): void {
    this.streamHz = hz;
  }

  async requestStreams(hz: number): Promise<StreamRateResult> {
    this.streamRates = await requestStreamRates({ commandLong: (c, p) => this.commandLong(c, p), send: (m) => this.link.send(m), target: () => this.target }, hz);
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
      let last: MavLinkData = this.missionCount(items.length);
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
        this.link.send(last);
        arm();
      };
      const onMessage = (m: MavLinkData): boolean => {
        if ((m instanceof common.MissionRequestInt || m instanceof common.MissionRequest) && m.missionType === common.MavMissionType.MISSION) {
          const item = items[m.seq];
          if (!item) return false;
          retries = 0;
          last = this.toItem(item);
          this.link.send(last);
          arm();
          return false;
        }
        if (m instanceof common.MissionAck && m.missionType === common.MavMissionType.MISSION) {
          finish({ result: m.type, name: common.MavMissionResult[m.type] ?? String(m.type), accepted: m.type === common.MavMissionResult.ACCEPTED });
          return true;
        }
        return false;
      };
      this.waiters.add(onMessage);
      this.link.send(last);
      arm();
    });
  }

  private missionCount(n: number): common.MissionCount {
    const count = new common.MissionCount();
    count.targetSystem = this.target.sysid;
    count.targetComponent = this.target.compid;
    count.count = n;
    count.missionType = common.MavMissionType.MISSION;
    return count;
  }

  private toItem(item: MissionItem): common.MissionItemInt {
    const m = new common.MissionItemInt();
    m.targetSystem = this.target.sysid;
    m.targetComponent = this.target.compid;
    m.seq = item.seq;
    m.frame = item.frame;
    m.command = item.command;
    m.current = item.current;
    m.autocontinue = item.autocontinue;
    [m.param1, m.param2, m.param3, m.param4] = item.params;
    m.x = item.x;
    m.y = item.y;
    m.z = item.z;
    m.missionType = common.MavMissionType.MISSION;
    return m;
  }

  stats(): Record<string, number> {
    return { ...this.link.stats, missionRetransmits: this.missionStats.retransmits, ...(this.recorder ? { tlogRecords: this.recorder.stats.records, tlogErrors: this.recorder.stats.errors } : {}) };
  }

  async close(): Promise<void> {
    this.waiters.clear();
    await this.link.close();
    this.recorder?.close();
  }

  private dispatch(msg: MavLinkData, frame: MavFrame): void {
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

  private waitFor<T extends MavLinkData>(match: (m: MavLinkData) => m is T, timeoutMs: number): Promise<T | null>;
  private waitFor(match: (m: MavLinkData) => boolean, timeoutMs: number): Promise<MavLinkData | null>;
  private waitFor(match: (m: MavLinkData) => boolean, timeoutMs: number): Promise<MavLinkData | null> {
    return new Promise((resolve) => {
      let timer: unknown = null;
      const waiter = (m: MavLinkData): boolean => {
        if (!match(m)) return false;
        if (timer !== null) this.clock.clearTimeout(timer);
        resolve(m);
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
