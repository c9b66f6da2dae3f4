/**
 * The PI step-size controller. It owns everything that decides a step: the tolerances, which define the error
 * norm every step reports (RMS over all elements of e / (atol + max(|y|, |y1|)·rtol), accept when ≤ 1), the
 * method's exponents and the growth limits. With OrdinaryDiffEq's rule (plain numbers in, numbers out):
 *
 *   q11 = E^beta1,  q = clamp(q11 / qold^beta2 / safety, 1/qmax, 1/qmin)
 *   accept (E ≤ 1): dt_new = dt / q,  qold = max(E, qoldinit)
 *   reject (E > 1): dt_new = dt / min(1/qmin, q11 / safety)
 *
 * A NaN or infinite E is a rejection with the largest allowed shrink (dt·qmin).
 */

/** The tolerances of the error norm: a step is accepted when RMS(e / (atol + max(|y|, |y1|)·rtol)) ≤ 1. */
export interface Tolerances {
  readonly atol: number;
  readonly rtol: number;
}

/** A method's PI exponents (OrdinaryDiffEq's `beta1`, `beta2`); part of its tableau. */
export interface ControllerCoefficients {
  /** PI controller exponent on the current error (OrdinaryDiffEq's `beta1`). */
  readonly beta1: number;
  /** PI controller exponent on the previous accepted error (OrdinaryDiffEq's `beta2`). */
  readonly beta2: number;
}

/** A method's full controller defaults: its exponents and the growth limits of its family. */
export interface ControllerDefaults extends ControllerCoefficients {
  /** Safety factor γ. */
  readonly safety: number;
  /** Smallest shrink factor of a step. */
  readonly qmin: number;
  /** Largest growth factor of an accepted step. */
  readonly qmax: number;
  /** Initial (and minimum) remembered error of the previous accepted step. */
  readonly qoldinit: number;
}

/** What a solve's controller runs with: the method's defaults (some overridden by options), the tolerances and dtmax. */
export interface ControllerSettings extends ControllerDefaults, Tolerances {
  /** Upper bound on |dt|. */
  readonly dtmax: number;
}

/** OrdinaryDiffEq's limits for ODE methods (SDE methods cap growth at 9/8 instead, see `sri/tableau.ts`). */
export const ODE_CONTROLLER_LIMITS = { safety: 0.9, qmin: 0.2, qmax: 10, qoldinit: 1e-4 } as const;

/** The ODE defaults of tolerances (OrdinaryDiffEq's and torchdiffeq's order of magnitude). */
export const ODE_TOLERANCES: Tolerances = { rtol: 1e-3, atol: 1e-6 };

/** Options of `new PIController(...)`: the exponents are required, the rest default to the ODE settings. */
export interface PIControllerOptions extends ControllerCoefficients, Partial<Omit<ControllerSettings, keyof ControllerCoefficients>> {}

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
  /** The tolerances that scale the error estimates this controller judges (steps read them from here). */
  readonly tolerances: Tolerances;
  private qold: number;

  constructor(opts: PIControllerOptions) {
    this.beta1 = opts.beta1;
    this.beta2 = opts.beta2;
    this.safety = opts.safety ?? ODE_CONTROLLER_LIMITS.safety;
    this.qmin = opts.qmin ?? ODE_CONTROLLER_LIMITS.qmin;
    this.qmax = opts.qmax ?? ODE_CONTROLLER_LIMITS.qmax;
    this.qoldinit = opts.qoldinit ?? ODE_CONTROLLER_LIMITS.qoldinit;
    this.qold = this.qoldinit;
    this.dtmax = opts.dtmax ?? Infinity;
    this.tolerances = { rtol: opts.rtol ?? ODE_TOLERANCES.rtol, atol: opts.atol ?? ODE_TOLERANCES.atol };
  }

  /**
   * Decide on an attempted step of magnitude `dt` with scaled error `error`. A `shortened` step (cut to land on an
   * output, stop or end time) is judged as any other, but when accepted it leaves the remembered error qold as it
   * was: its small error says little about the step size the dynamics allow.
   */
  decide(error: number, dt: number, shortened = false): StepDecision {
    if (!Number.isFinite(error)) return { accept: false, dtNext: dt * this.qmin };
    const q11 = Math.pow(error, this.beta1);
    if (error <= 1) {
      const q = error === 0 ? 1 / this.qmax : Math.min(1 / this.qmin, Math.max(1 / this.qmax, q11 / Math.pow(this.qold, this.beta2) / this.safety));
      if (!shortened) this.qold = Math.max(error, this.qoldinit);
      return { accept: true, dtNext: Math.min(dt / q, this.dtmax) };
    }
    return { accept: false, dtNext: Math.min(dt / Math.min(1 / this.qmin, q11 / this.safety), this.dtmax) };
  }
}
