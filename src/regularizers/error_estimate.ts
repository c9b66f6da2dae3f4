/**
 * The error-estimate regularizer R_E = Σ_j φ(E_j)·|dt_j| over accepted steps (or the mean, as in the
 * authors' code), φ(E) = E up to `saturation` and logarithmic above it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { absDt, checkChoice, checkSaturation, RegularizerInputs, saturate, saturationConfig, SolverRegularizer } from './base';
import type { SolverEstimate } from './base';

export interface ErrorEstimateArgs {
  /** λ. Default 1. */
  weight?: number;
  /** 'sum' (the paper's formula, default) or 'mean' over accepted steps. */
  aggregation?: 'sum' | 'mean';
  /**
   * E_j above this level enter as r·(1 + ln(E_j/r)) instead of E_j, so the penalty's gradient per
   * step never exceeds its value at E_j = r (see `DEFAULT_SATURATION`, 1e-3). null gives the paper's
   * formula exactly.
   */
  saturation?: number | null;
}

export class ErrorEstimateRegularizer extends SolverRegularizer {
  static className = 'ErrorEstimateRegularizer';
  readonly aggregation: 'sum' | 'mean';
  readonly saturation: number;

  constructor(args: ErrorEstimateArgs = {}) {
    super(args, 'errorEstimate', ['weight', 'aggregation', 'saturation']);
    this.saturation = checkSaturation(args.saturation, 'errorEstimate');
    this.aggregation = checkChoice(args.aggregation ?? 'sum', ['sum', 'mean'] as const, "errorEstimate: 'aggregation'");
  }

  get shortName(): string {
    return 'errorEstimate';
  }

  get estimate(): SolverEstimate {
    return 'error';
  }

  penalty({ error, dt }: RegularizerInputs): tf.Scalar {
    return tf.tidy(() => {
      const terms = tf.mul(saturate(error, this.saturation), absDt(dt));
      return (this.aggregation === 'sum' ? tf.sum(terms) : tf.mean(terms)) as tf.Scalar;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), aggregation: this.aggregation, saturation: saturationConfig(this.saturation) };
  }
}
tf.serialization.registerClass(ErrorEstimateRegularizer);

/** `errorEstimate({weight: 100})`: penalize Σ E_j·|dt_j|. */
export function errorEstimate(args?: ErrorEstimateArgs): ErrorEstimateRegularizer {
  return new ErrorEstimateRegularizer(args);
}
