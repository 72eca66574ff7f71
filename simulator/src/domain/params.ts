import { MavParamType, type ParamDef, type PersonalityName } from './personality.js';

/** What the parameters mean to the vehicle, in SI units, whichever names they go by. */
export interface VehicleSettings {
  rtlAltM: number;
  cruiseSpeedMs: number;
  /** Remaining charge (%) at which the low-battery failsafe acts, and its action. */
  batteryLowPct: number;
  batteryLowAction: FailsafeAction;
  batteryCriticalPct: number;
  batteryCriticalAction: FailsafeAction;
  /** Seconds without a ground-station HEARTBEAT before the link-loss failsafe; 0 disables. */
  linkLossTimeoutS: number;
  linkLossAction: FailsafeAction;
  /** Cylinder around home; 0 disables that limit. */
  fenceRadiusM: number;
  fenceAltMaxM: number;
  fenceAction: FailsafeAction;
  gpsLossAction: FailsafeAction;
}

export type FailsafeAction = 'none' | 'rtl' | 'land' | 'hold';

const R = MavParamType.REAL32;
const I = MavParamType.INT32;
const U = MavParamType.UINT8;
const def = (id: string, type: number, value: number, min: number, max: number): ParamDef => ({ id, type, value, min, max });

// ArduPilot action numbers: BATT_FS_*_ACT 0 none, 1 land, 2 RTL; FS_GCS_ENABLE 0 off, 1 RTL;
// FENCE_ACTION 0 report, 1 RTL or land; FS_EKF_ACTION 1 land, 2 AltHold (hold here).
const apBatt = (v: number): FailsafeAction => (v === 1 ? 'land' : v === 2 ? 'rtl' : 'none');
// PX4: COM_LOW_BAT_ACT 0 warn, 2 land, 3 return at critical then land; NAV_DLL_ACT 0 off, 2 return,
// 3 land; GF_ACTION 0 none, 1 warn, 2 hold, 3 return, 4 terminate, 5 land.
const px4Dll = (v: number): FailsafeAction => (v === 2 ? 'rtl' : v === 3 ? 'land' : 'none');
const px4Gf = (v: number): FailsafeAction => (v === 2 ? 'hold' : v === 3 ? 'rtl' : v === 5 ? 'land' : 'none');

/** The small parameter set a vehicle answers PARAM_REQUEST_LIST with, by personality. */
export function defaultParams(personality: PersonalityName, s: Pick<VehicleSettings, 'rtlAltM' | 'cruiseSpeedMs'>, sysid: number): ParamDef[] {
  if (personality === 'ardupilot') {
    return [
      def('SYSID_THISMAV', I, sysid, 1, 255),
      def('RTL_ALT', I, Math.round(s.rtlAltM * 100), 200, 300_000),
      def('WPNAV_SPEED', R, Math.round(s.cruiseSpeedMs * 100), 20, 4000),
      def('BATT_LOW_PCT', R, 20, 0, 100),
      def('BATT_CRT_PCT', R, 10, 0, 100),
      def('BATT_FS_LOW_ACT', I, 2, 0, 2),
      def('BATT_FS_CRT_ACT', I, 1, 0, 2),
      def('FS_GCS_ENABLE', I, 0, 0, 1),
      def('FS_GCS_TIMEOUT', R, 5, 2, 120),
      def('FS_EKF_ACTION', I, 1, 1, 2),
      def('FENCE_ENABLE', U, 0, 0, 1),
      def('FENCE_RADIUS', R, 300, 30, 10_000),
      def('FENCE_ALT_MAX', R, 100, 10, 1000),
      def('FENCE_ACTION', I, 1, 0, 1),
    ];
  }
  return [
    def('MAV_SYS_ID', I, sysid, 1, 255),
    def('RTL_RETURN_ALT', R, s.rtlAltM, 0, 1000),
    def('MPC_XY_CRUISE', R, s.cruiseSpeedMs, 0.1, 40),
    def('BAT_LOW_THR', R, 0.15, 0, 1),
    def('BAT_CRIT_THR', R, 0.07, 0, 1),
    def('COM_LOW_BAT_ACT', I, 3, 0, 3),
    def('NAV_DLL_ACT', I, 0, 0, 3),
    def('COM_DL_LOSS_T', I, 10, 5, 300),
    def('GF_ACTION', I, 0, 0, 5),
    def('GF_MAX_HOR_DIST', R, 0, 0, 10_000),
    def('GF_MAX_VER_DIST', R, 0, 0, 1000),
  ];
}

/** Reads the settings the vehicle acts on from its parameters. */
export function settingsFrom(personality: PersonalityName, p: ParamStore): VehicleSettings {
  const v = (id: string): number => p.get(id) ?? 0;
  if (personality === 'ardupilot') {
    const fence = v('FENCE_ENABLE') === 1;
    return {
      rtlAltM: v('RTL_ALT') / 100,
      cruiseSpeedMs: v('WPNAV_SPEED') / 100,
      batteryLowPct: v('BATT_LOW_PCT'),
      batteryLowAction: apBatt(v('BATT_FS_LOW_ACT')),
      batteryCriticalPct: v('BATT_CRT_PCT'),
      batteryCriticalAction: apBatt(v('BATT_FS_CRT_ACT')),
      linkLossTimeoutS: v('FS_GCS_ENABLE') === 1 ? v('FS_GCS_TIMEOUT') : 0,
      linkLossAction: 'rtl',
      fenceRadiusM: fence ? v('FENCE_RADIUS') : 0,
      fenceAltMaxM: fence ? v('FENCE_ALT_MAX') : 0,
      fenceAction: v('FENCE_ACTION') === 1 ? 'rtl' : 'none',
      gpsLossAction: v('FS_EKF_ACTION') === 2 ? 'hold' : 'land',
    };
  }
  const act = v('COM_LOW_BAT_ACT');
  return {
    rtlAltM: v('RTL_RETURN_ALT'),
    cruiseSpeedMs: v('MPC_XY_CRUISE'),
    batteryLowPct: v('BAT_LOW_THR') * 100,
    batteryLowAction: act === 3 ? 'rtl' : 'none',
    batteryCriticalPct: v('BAT_CRIT_THR') * 100,
    batteryCriticalAction: act === 2 || act === 3 ? 'land' : 'none',
    linkLossTimeoutS: px4Dll(v('NAV_DLL_ACT')) === 'none' ? 0 : v('COM_DL_LOSS_T'),
    linkLossAction: px4Dll(v('NAV_DLL_ACT')),
    fenceRadiusM: v('GF_MAX_HOR_DIST'),
    fenceAltMaxM: v('GF_MAX_VER_DIST'),
    fenceAction: px4Gf(v('GF_ACTION')),
    // PX4 falls back to descending in place (land) without a position estimate.
    gpsLossAction: 'land',
  };
}

/** The parameter table: PARAM_REQUEST_LIST / PARAM_READ / PARAM_SET (parameter protocol). */
export class ParamStore {
  private readonly defs: ParamDef[];
  private readonly byId = new Map<string, number>();

  constructor(defs: readonly ParamDef[]) {
    this.defs = defs.map((d) => ({ ...d }));
    this.defs.forEach((d, i) => this.byId.set(d.id, i));
  }

  get count(): number {
    return this.defs.length;
  }

  get(id: string): number | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.defs[i]!.value;
  }

  /** By id, or by index when id is empty (PARAM_REQUEST_READ with param_index ≥ 0). */
  find(id: string, index: number): { def: ParamDef; index: number } | null {
    const i = id !== '' ? this.byId.get(id) : index >= 0 && index < this.defs.length ? index : undefined;
    return i === undefined ? null : { def: this.defs[i]!, index: i };
  }

  at(index: number): ParamDef {
    return this.defs[index]!;
  }

  /** Sets a value, clamped to its range and rounded for integer types; null for unknown ids. */
  set(id: string, value: number): { def: ParamDef; index: number } | null {
    const found = this.find(id, -1);
    if (!found || !Number.isFinite(value)) return found;
    const d = found.def;
    const clamped = Math.min(d.max, Math.max(d.min, value));
    d.value = d.type === MavParamType.REAL32 ? Math.fround(clamped) : Math.round(clamped);
    return found;
  }
}
