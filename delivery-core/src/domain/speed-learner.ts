/**
 * Online ground-speed correction per drone: the ratio of the ground speed telemetry reports to
 * the one the flight model predicts on the same course, smoothed (EWMA). It absorbs what the
 * forecast wind got wrong on this leg; it is reset when the drone starts a new leg, since a wind
 * error helps on one course and hurts on another.
 */
export class SpeedLearner {
  private readonly state = new Map<string, { leg: string; factor: number; samples: number }>();

  constructor(private readonly alpha = 0.3, private readonly min = 0.5, private readonly max = 1.5) {}

  observe(droneId: string, leg: string, observedMs: number, modelledMs: number): void {
    if (!(observedMs > 0 && modelledMs > 0)) return;
    let s = this.state.get(droneId);
    if (!s || s.leg !== leg) this.state.set(droneId, (s = { leg, factor: 1, samples: 0 }));
    const ratio = Math.min(this.max, Math.max(this.min, observedMs / modelledMs));
    // The first sample replaces the prior outright: the model's 1.0 is only a placeholder.
    s.factor = s.samples === 0 ? ratio : s.factor + this.alpha * (ratio - s.factor);
    s.samples += 1;
  }

  factor(droneId: string, leg: string): number {
    const s = this.state.get(droneId);
    return s && s.leg === leg ? s.factor : 1;
  }

  forget(droneId: string): void {
    this.state.delete(droneId);
  }
}
