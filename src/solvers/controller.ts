/**
 * The PI step-size controller with OrdinaryDiffEq's defaults (plain numbers in, numbers out).
 *
 *   q11 = E^beta1,  q = clamp(q11 / qold^beta2 / safety, 1/qmax, 1/qmin)
 *   accept (E ≤ 1): dt_new = dt / q,  qold = max(E, qoldinit)
 *   reject (E > 1): dt_new = dt / min(1/qmin, q11 / safety)
 *
 * A NaN or infinite E is a rejection with the largest allowed shrink (dt·qmin).
 */
import { ControllerCoefficients } from './tableau';

export interface PIControllerOptions extends ControllerCoefficients {
  safety?: number;
  qmin?: number;
  qmax?: number;
  qoldinit?: number;
  /** Upper bound on |dt|. */
  dtmax?: number;
}

export interface StepDecision {
  readonly accept: boolean;
  /** Proposed magnitude of the next step. */
  readonly dtNext: number;
}

export class PIController {
  readonly beta1: number;
  readonly beta2: number;
  readonly safety: number;
  readonly qmin: number;
  readonly qmax: number;
  readonly dtmax: number;
  readonly qoldinit: number;
  private qold: number;

  constructor(opts: PIControllerOptions) {
    this.beta1 = opts.beta1;
    this.beta2 = opts.beta2;
    this.safety = opts.safety ?? 0.9;
    this.qmin = opts.qmin ?? 0.2;
    this.qmax = opts.qmax ?? 10;
    this.qoldinit = opts.qoldinit ?? 1e-4;
    this.qold = this.qoldinit;
    this.dtmax = opts.dtmax ?? Infinity;
  }

  /** Decide on an attempted step of magnitude `dt` with scaled error `error`. */
  decide(error: number, dt: number): StepDecision {
    if (!Number.isFinite(error)) return { accept: false, dtNext: dt * this.qmin };
    const q11 = Math.pow(error, this.beta1);
    if (error <= 1) {
      const q = error === 0 ? 1 / this.qmax : Math.min(1 / this.qmin, Math.max(1 / this.qmax, q11 / Math.pow(this.qold, this.beta2) / this.safety));
      this.qold = Math.max(error, this.qoldinit);
      return { accept: true, dtNext: Math.min(dt / q, this.dtmax) };
    }
    return { accept: false, dtNext: Math.min(dt / Math.min(1 / this.qmin, q11 / this.safety), this.dtmax) };
  }
}
