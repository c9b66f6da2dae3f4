/**
 * Solver-heuristic regularizers (Pal et al., ICML 2021; local variant ICML 2023): penalties built
 * from the adaptive solver's own per-step estimates, which the NeuralODE layer caches during its
 * forward pass. Their gradients flow through the discrete adjoint's reverse sweep (step sizes held
 * constant), so they cost no extra NFE beyond an optional single sampled step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../solvers/errors';
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

/** |dt_j| as a tensor. */
export function absDt(dt: readonly number[]): tf.Tensor1D {
  return tf.tensor1d(dt.map(Math.abs));
}
