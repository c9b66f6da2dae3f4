/** The error-estimate regularizer R_E = Σ_j E_j·|dt_j| over accepted steps (or the mean, as in the authors' code). */
import * as tf from '@tensorflow/tfjs-core';
import { absDt, checkChoice, RegularizerInputs, SolverRegularizer } from './base';
import type { SolverEstimate } from './base';

export interface ErrorEstimateArgs {
  /** λ. Default 1. */
  weight?: number;
  /** 'sum' (the paper's formula, default) or 'mean' over accepted steps. */
  aggregation?: 'sum' | 'mean';
}

export class ErrorEstimateRegularizer extends SolverRegularizer {
  static className = 'ErrorEstimateRegularizer';
  readonly aggregation: 'sum' | 'mean';

  constructor(args: ErrorEstimateArgs = {}) {
    super(args, 'errorEstimate', ['weight', 'aggregation']);
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
      const terms = tf.mul(error, absDt(dt));
      return (this.aggregation === 'sum' ? tf.sum(terms) : tf.mean(terms)) as tf.Scalar;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), aggregation: this.aggregation };
  }
}
tf.serialization.registerClass(ErrorEstimateRegularizer);

/** `errorEstimate({weight: 100})`: penalize Σ E_j·|dt_j|. */
export function errorEstimate(args?: ErrorEstimateArgs): ErrorEstimateRegularizer {
  return new ErrorEstimateRegularizer(args);
}
