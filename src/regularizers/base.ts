/**
 * Solver-heuristic regularizers (Pal et al., ICML 2021; local variant ICML 2023): penalties built
 * from the adaptive solver's own per-step estimates, which the NeuralODE layer caches during its
 * forward pass. Their gradients flow through the discrete adjoint's reverse sweep (step sizes held
 * constant), so they cost no extra NFE beyond an optional single sampled step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors';
import { rejectUnknownKeys } from '../solvers/options';

/** What a NeuralODE layer hands its regularizers after a training forward pass. */
export interface RegularizerInputs {
  /** Scaled error estimate E_j of every accepted step (differentiable). */
  readonly error: tf.Tensor1D;
  /** Stiffness estimate S_j of every accepted step (differentiable; zeros if the method has none). */
  readonly stiffness: tf.Tensor1D;
  /** Signed accepted step sizes. */
  readonly dt: readonly number[];
  /** Start time of each accepted step. */
  readonly t: readonly number[];
  /** Stability-region size of the method along the negative real axis (tsit5: 3.5068), if known. */
  readonly stabilitySize: number | undefined;
  /** Whether the method has a stiffness estimate at all. */
  readonly hasStiffness: boolean;
  /** Times this regularizer asked the solve to step onto (see `sampleStops`). */
  readonly stops: readonly number[];
}

/** Per-step estimates a solver may compute. */
export type SolverEstimate = 'error' | 'stiffness';

export function checkWeight(weight: unknown, who: string): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw new InvalidArgumentError(`${who}: 'weight' must be a finite number ≥ 0, got ${String(weight)}.`);
  }
  return weight;
}

export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}.`);
  }
  return value as T;
}

export abstract class SolverRegularizer extends tf.serialization.Serializable {
  private weightValue: number;

  /** `args` are checked against `keys` (a misspelt argument is an error, not a silent default). */
  protected constructor(args: { weight?: number } | undefined, who: string, keys: readonly string[]) {
    super();
    if (args !== undefined && (typeof args !== 'object' || args === null)) {
      throw new InvalidArgumentError(`${who}: expected an options object such as {weight: 1}, got ${String(args)}.`);
    }
    rejectUnknownKeys(args ?? {}, keys, `${who}: `);
    this.weightValue = checkWeight(args?.weight ?? 1, who);
  }

  /** λ, the multiplier of the penalty; schedules change it between epochs. */
  get weight(): number {
    return this.weightValue;
  }

  set weight(value: number) {
    this.weightValue = checkWeight(value, this.getClassName());
  }

  /** Short name used in logs, e.g. 'errorEstimate'. */
  abstract get shortName(): string;

  /**
   * The solver estimate the penalty is built from. A layer refuses a regularizer whose estimate its
   * solver does not compute (e.g. an error estimate on a fixed-step method).
   */
  abstract get estimate(): SolverEstimate;

  /** The penalty R without the weight, as a scalar tensor. */
  abstract penalty(inputs: RegularizerInputs): tf.Scalar;

  /** True when the regularizer penalizes a sampled time the solve must step onto (see `sampleStops`). */
  get needsStops(): boolean {
    return false;
  }

  /** Times the next training solve must step exactly onto (local regularizers); default none. */
  sampleStops(_tspan: readonly [number, number]): number[] {
    return [];
  }

  /** λ·R, or a constant 0 (no gradient work) when λ = 0. */
  apply(inputs: RegularizerInputs): tf.Scalar {
    if (this.weightValue === 0) return tf.scalar(0);
    return tf.tidy(() => tf.mul(this.penalty(inputs), this.weightValue) as tf.Scalar);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { weight: this.weightValue };
  }
}

/**
 * Default `saturation` of the error-estimate penalties: E_j above it enter logarithmically.
 *
 * Why: the gradient of E_j·|dt_j| is λ·|dt_j|·E_j·∇ln E_j, so it grows with the level of E_j. The
 * papers' λ (e.g. 100 → 10 on MNIST) were tuned where the accepted E_j are about 1e-3 (tiny first
 * step, controller-limited growth). When the solver runs near its tolerance (E_j ≈ 0.5–1, e.g. with
 * `dt0: 1` or a step carried over from the previous call) the same λ gives a gradient about 1000×
 * larger than the data loss's, and momentum SGD then throws the weights into stiff regions: forward
 * NFE grew 7 → 900 within 6 batches of MNIST. With saturation r the per-step slope is capped at
 * λ·|dt_j|·r·∇ln E_j whatever E_j is, so a λ means the same in both regimes.
 */
export const DEFAULT_SATURATION = 1e-3;

/** The `saturation` argument: undefined → the default, null → none (Infinity), else a positive number. */
export function checkSaturation(value: unknown, who: string): number {
  if (value === undefined) return DEFAULT_SATURATION;
  if (value === null) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new InvalidArgumentError(`${who}: 'saturation' must be a number > 0, or null for the papers' linear penalty, got ${String(value)}.`);
  }
  return value;
}

/** The config form of a saturation: JSON has no Infinity, so no saturation is saved as null. */
export function saturationConfig(r: number): number | null {
  return r === Infinity ? null : r;
}

/**
 * φ_r(E) = E for E ≤ r and r·(1 + ln(E/r)) above: continuous with a continuous slope, increasing,
 * and with slope r/E ≤ 1 above r. r = Infinity gives E itself.
 */
export function saturate(error: tf.Tensor, r: number): tf.Tensor {
  if (r === Infinity) return error;
  // min(E, r) + r·ln(max(E, r)/r): no branch is ever NaN (tf.where with a computed condition has no
  // gradient in tfjs 4.22). At E = r exactly both terms pass a slope of 1 (a set of measure zero).
  return tf.tidy(() => tf.add(tf.minimum(error, r), tf.mul(r, tf.log(tf.div(tf.maximum(error, r), r)))));
}

/** |dt_j| as a tensor. */
export function absDt(dt: readonly number[]): tf.Tensor1D {
  return tf.tensor1d(dt.map(Math.abs));
}
