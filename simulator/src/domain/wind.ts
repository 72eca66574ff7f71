import type { Rng } from './random.js';
import type { Wind } from './physics.js';

export interface WindParams {
  /** Mean wind speed, m/s. */
  meanMs: number;
  /** Direction the wind blows FROM, degrees true (meteorological convention). */
  fromDeg: number;
  /** Standard deviation of the gusts, m/s, per axis. */
  gustMs: number;
  /** How long a gust lasts, s (the correlation time of the gust process). */
  gustTimeS: number;
}

export const NO_WIND: Readonly<WindParams> = Object.freeze({ meanMs: 0, fromDeg: 0, gustMs: 0, gustTimeS: 5 });

/**
 * Mean wind plus gusts as a seeded Ornstein–Uhlenbeck process per axis: gusts wander around
 * the mean with standard deviation gustMs and lose memory over gustTimeS.
 */
export class WindField {
  private gustN = 0;
  private gustE = 0;
  private readonly meanN: number;
  private readonly meanE: number;

  constructor(private readonly p: WindParams, private readonly rng: Rng) {
    // Blowing from fromDeg means moving towards fromDeg + 180.
    const to = ((p.fromDeg + 180) * Math.PI) / 180;
    this.meanN = p.meanMs * Math.cos(to);
    this.meanE = p.meanMs * Math.sin(to);
  }

  step(dtS: number): Wind {
    if (this.p.gustMs > 0) {
      const a = Math.exp(-dtS / Math.max(0.1, this.p.gustTimeS));
      const b = this.p.gustMs * Math.sqrt(1 - a * a);
      this.gustN = a * this.gustN + b * this.rng.gaussian();
      this.gustE = a * this.gustE + b * this.rng.gaussian();
    }
    return { northMs: this.meanN + this.gustN, eastMs: this.meanE + this.gustE };
  }
}
