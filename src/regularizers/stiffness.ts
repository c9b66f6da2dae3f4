/**
 * The stiffness regularizer R_S = Σ_j S_j·|dt_j|, with the authors' code variants as options: no
 * dt factor, max or mean aggregation, and S scaled by 1/(the method's stability size).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors';
import { absDt, checkChoice, RegularizerInputs, SolverRegularizer } from './base';
import type { SolverEstimate } from './base';

export interface StiffnessArgs {
  /** λ. Default 1. */
  weight?: number;
  /** 'sum' (default), 'mean' or 'max' over accepted steps. */
  aggregation?: 'sum' | 'mean' | 'max';
  /** Multiply each S_j by |dt_j| (the paper's formula). Default true. */
  dtFactor?: boolean;
  /** Divide S_j by the method's stability size (tsit5: 3.5068), as the authors' code does. Default false. */
  stabilityScaled?: boolean;
}

export class StiffnessRegularizer extends SolverRegularizer {
  static className = 'StiffnessRegularizer';
  readonly aggregation: 'sum' | 'mean' | 'max';
  readonly dtFactor: boolean;
  readonly stabilityScaled: boolean;

  constructor(args: StiffnessArgs = {}) {
    super(args, 'stiffness', ['weight', 'aggregation', 'dtFactor', 'stabilityScaled']);
    this.aggregation = checkChoice(args.aggregation ?? 'sum', ['sum', 'mean', 'max'] as const, "stiffness: 'aggregation'");
    this.dtFactor = args.dtFactor ?? true;
    this.stabilityScaled = args.stabilityScaled ?? false;
  }

  get shortName(): string {
    return 'stiffness';
  }

  get estimate(): SolverEstimate {
    return 'stiffness';
  }

  penalty({ stiffness, dt, hasStiffness, stabilitySize }: RegularizerInputs): tf.Scalar {
    if (!hasStiffness) {
      throw new InvalidArgumentError("The stiffness regularizer needs a solver with a stiffness estimate ('tsit5' or 'dopri5').");
    }
    return tf.tidy(() => {
      let terms: tf.Tensor = stiffness;
      if (this.stabilityScaled) terms = tf.div(terms, stabilitySize ?? 1);
      if (this.dtFactor) terms = tf.mul(terms, absDt(dt));
      const agg = this.aggregation === 'sum' ? tf.sum(terms) : this.aggregation === 'mean' ? tf.mean(terms) : tf.max(terms);
      return agg as tf.Scalar;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), aggregation: this.aggregation, dtFactor: this.dtFactor, stabilityScaled: this.stabilityScaled };
  }
}
tf.serialization.registerClass(StiffnessRegularizer);

/** `stiffness({weight: 0.03})`: penalize Σ S_j·|dt_j|. */
export function stiffness(args?: StiffnessArgs): StiffnessRegularizer {
  return new StiffnessRegularizer(args);
}
