import { randomUUID } from 'node:crypto';
import {
  decodeMessage, systemClock, type Clock, type CommandAction, type CommandResult, type DroneCommand, type DroneStatus,
} from '@aerie/contracts';
import { StatusAssembler, eventFrom, type EventDraft } from './domain/status-assembler.js';
import { CommandLog } from './domain/command-log.js';
import {
  MAV_CMD_COMPONENT_ARM_DISARM, MAV_CMD_MISSION_START, MAV_CMD_NAV_LAND, MAV_CMD_NAV_RETURN_TO_LAUNCH, toMissionItems,
} from './domain/mission.js';
import type { AckOutcome, FlightControllerLink, Uplink } from './ports.js';
import type { AgentConfig } from './config.js';
import type { AgentErrorCode } from './errors.js';
import { verifyCommand } from './domain/command-auth.js';

/** MAV_CMD_DO_PAUSE_CONTINUE (common.xml): param1 0 = pause (hold), 1 = continue. */
const MAV_CMD_DO_PAUSE_CONTINUE = 193;

export interface AgentCounters {
  statusPublished: number;
  eventsPublished: number;
  commandsReceived: number;
  commandsRejected: Record<string, number>;
}

type Outcome = Pick<CommandResult, 'outcome' | 'code' | 'mavResult' | 'message'>;

/**
 * The edge agent: folds FC telemetry into DroneStatus, publishes it at a fixed rate, supervises
 * the FC heartbeat and carries out DroneCommands one at a time.
 */
export class EdgeAgent {
  readonly bootId = randomUUID();
  readonly counters: AgentCounters = { statusPublished: 0, eventsPublished: 0, commandsReceived: 0, commandsRejected: {} };
  private readonly assembler: StatusAssembler;
  private readonly commands = new CommandLog();
  private readonly timers: unknown[] = [];
  private statusSeq = 0;
  private eventSeq = 0;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private nextPublishAt = -Infinity;

  constructor(
    private readonly config: Readonly<AgentConfig>,
    private readonly fc: FlightControllerLink,
    private readonly uplink: Uplink,
    private readonly clock: Clock = systemClock,
  ) {
    this.assembler = new StatusAssembler(config.droneId);
    fc.onTelemetry((msg) => this.emit(this.assembler.apply(msg, clock.now())));
    uplink.onCommand((payload) => this.onCommandPayload(payload));
  }

  start(): void {
    this.fc.sendHeartbeat();
    this.timers.push(this.clock.setInterval(() => this.fc.sendHeartbeat(), 1000));
    this.timers.push(this.clock.setInterval(() => this.emit(this.assembler.checkLink(this.clock.now(), this.config.fc.linkTimeoutMs)), 250));
    // One tick at the faster rate; a status goes out when its due time falls within half a tick.
    // Due times advance by the period (not from the tick that published), so 2 Hz on a 5 Hz
    // tick is 2 Hz on average, not one every other tick (2.5 Hz).
    const tickMs = 1000 / Math.max(this.config.publishHz, this.config.publishHzInFlight);
    this.timers.push(this.clock.setInterval(() => {
      const now = this.clock.now();
      const periodMs = 1000 / (this.assembler.inFlight ? this.config.publishHzInFlight : this.config.publishHz);
      if (now >= this.nextPublishAt - tickMs / 2) {
        this.nextPublishAt = Math.max(this.nextPublishAt + periodMs, now + periodMs / 2);
        this.publishStatus();
      }
    }, tickMs));
  }

  /** Age (ms) of each telemetry source behind the latest DroneStatus. */
  fieldAges(): Record<string, number> {
    return this.assembler.ages(this.clock.now());
  }

  /** The latest DroneStatus, without publishing it. */
  status(): DroneStatus {
    return this.assembler.snapshot({ bootId: this.bootId, seq: this.statusSeq, now: this.clock.now() });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.clock.clearInterval(t);
    await this.queue;
    await this.uplink.close();
    await this.fc.close();
  }

  private publishStatus(): void {
    // Before the first FC heartbeat there is nothing true to say about the drone.
    if (!this.assembler.hasHeartbeat) return;
    this.uplink.publishStatus(this.assembler.snapshot({ bootId: this.bootId, seq: this.statusSeq++, now: this.clock.now() }));
    this.counters.statusPublished += 1;
  }

  private emit(drafts: EventDraft[]): void {
    for (const d of drafts) {
      this.uplink.publishEvent(eventFrom(d, { droneId: this.config.droneId, bootId: this.bootId, seq: this.eventSeq++, now: this.clock.now() }));
      this.counters.eventsPublished += 1;
    }
  }

  private onCommandPayload(payload: Buffer): void {
    this.counters.commandsReceived += 1;
    const decoded = decodeMessage('DroneCommand', payload);
    if (!decoded.ok) {
      const commandId = salvageCommandId(payload);
      this.countRejected('AGENT_ERR_BAD_COMMAND');
      if (commandId) this.publishResult({ commandId }, { outcome: 'rejected', code: 'AGENT_ERR_BAD_COMMAND', mavResult: null, message: decoded.message });
      return;
    }
    const cmd = decoded.value;
    if (this.config.commandHmacKey) {
      const auth = verifyCommand(this.config.commandHmacKey, cmd, this.clock.now());
      if (auth !== 'ok') {
        this.countRejected('AGENT_ERR_UNAUTHENTICATED');
        this.publishResult(cmd, { outcome: 'rejected', code: 'AGENT_ERR_UNAUTHENTICATED', mavResult: null, message: `command HMAC ${auth}` });
        return;
      }
    }
    if (cmd.droneId !== this.config.droneId) {
      this.countRejected('AGENT_ERR_WRONG_DRONE');
      this.publishResult(cmd, { outcome: 'rejected', code: 'AGENT_ERR_WRONG_DRONE', mavResult: null, message: `addressed to ${cmd.droneId}` });
      return;
    }
    const admitted = this.commands.admit(cmd.commandId);
    if (admitted === 'running') return;
    if (admitted !== 'new') {
      this.uplink.publishResult(admitted);
      return;
    }
    this.queue = this.queue.then(async () => {
      const outcome = this.stopped ? fail('AGENT_ERR_NO_LINK', null, 'agent stopping') : await this.execute(cmd.action);
      const result = this.publishResult(cmd, outcome);
      this.commands.finish(result);
      if (result.outcome !== 'accepted') this.countRejected(result.code);
    });
  }

  private async execute(action: CommandAction): Promise<Outcome> {
    if (!this.assembler.snapshot({ bootId: this.bootId, seq: 0, now: this.clock.now() }).link.fcConnected) {
      return fail('AGENT_ERR_NO_LINK', null, 'no heartbeat from the flight controller');
    }
    switch (action.kind) {
      case 'mission': {
        const upload = await this.fc.uploadMission(toMissionItems(action.steps));
        if (upload === 'timeout') return fail('AGENT_ERR_FC_TIMEOUT', null, 'mission upload timed out');
        if (!upload.accepted) return fail('AGENT_ERR_MISSION_REJECTED', upload.name, `mission upload refused: ${upload.name}`);
        const arm = await this.fc.commandLong(MAV_CMD_COMPONENT_ARM_DISARM, [1]);
        const armFail = ackFailure(arm, 'arm');
        if (armFail) return armFail;
        const start = await this.fc.commandLong(MAV_CMD_MISSION_START, [0, 0]);
        return ackFailure(start, 'mission start') ?? ok(upload.name, `mission of ${action.steps.length} items uploaded and started`);
      }
      case 'rtl':
        return this.simple(MAV_CMD_NAV_RETURN_TO_LAUNCH, 'return to launch');
      case 'land':
        return this.simple(MAV_CMD_NAV_LAND, 'land');
      case 'pause':
        return this.simple(MAV_CMD_DO_PAUSE_CONTINUE, 'pause', [0]);
      case 'continue':
        return this.simple(MAV_CMD_DO_PAUSE_CONTINUE, 'continue', [1]);
      case 'set_stream_rate': {
        if (this.fc.setStreamHz) this.fc.setStreamHz(action.hz);
        const r = await this.fc.requestStreams(action.hz);
        // Without SET_MESSAGE_INTERVAL support the FC cannot acknowledge REQUEST_DATA_STREAM: say so.
        return r.method === 'message-interval'
          ? ok(r.acks.GLOBAL_POSITION_INT ?? null, `stream rate ${action.hz} Hz set by SET_MESSAGE_INTERVAL`)
          : ok(null, `stream rate ${action.hz} Hz requested by REQUEST_DATA_STREAM (no ACK on this firmware)`);
      }
    }
  }

  private async simple(command: number, what: string, params: number[] = []): Promise<Outcome> {
    const ack = await this.fc.commandLong(command, params);
    return ackFailure(ack, what) ?? ok(ack === 'timeout' ? null : ack.name, `${what} accepted`);
  }

  private publishResult(cmd: Pick<DroneCommand, 'commandId' | 'correlationId'>, outcome: Outcome): CommandResult {
    const result: CommandResult = {
      v: 1, commandId: cmd.commandId, droneId: this.config.droneId, ts: this.clock.now(),
      ...(cmd.correlationId ? { correlationId: cmd.correlationId } : {}), ...outcome,
    };
    this.uplink.publishResult(result);
    return result;
  }

  private countRejected(code: string): void {
    this.counters.commandsRejected[code] = (this.counters.commandsRejected[code] ?? 0) + 1;
  }
}

function ok(mavResult: string | null, message: string): Outcome {
  return { outcome: 'accepted', code: 'AGENT_OK', mavResult, message };
}

function fail(code: AgentErrorCode, mavResult: string | null, message: string): Outcome {
  return { outcome: code === 'AGENT_ERR_FC_TIMEOUT' ? 'timeout' : 'rejected', code, mavResult, message };
}

function ackFailure(ack: AckOutcome, what: string): Outcome | null {
  if (ack === 'timeout') return fail('AGENT_ERR_FC_TIMEOUT', null, `${what}: no COMMAND_ACK`);
  return ack.accepted ? null : fail('AGENT_ERR_FC_REJECTED', ack.name, `${what} refused: ${ack.name}`);
}

function salvageCommandId(payload: Buffer): string | null {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { commandId?: unknown };
    return typeof parsed.commandId === 'string' && parsed.commandId.length > 0 && parsed.commandId.length <= 128 ? parsed.commandId : null;
  } catch {
    return null;
  }
}
