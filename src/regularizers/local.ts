/**
 * Local error-estimate regularization (Pal, Edelman & Rackauckas, ICML 2023): penalize E·|dt| of
 * one sampled step per training forward pass instead of the sum over all steps.
 * - 'unbiased': t_reg ~ U(t0, t1); the solve steps exactly onto t_reg (one extra step) and the
 *   step that starts there is penalized.
 * - 'biased': a uniformly drawn accepted step is penalized (no extra step). Adaptive solvers put
 *   more steps where the dynamics are hard, so the penalty lands there more often.
 * Differences from the authors' code: the penalized step is a step of the solve itself (its dt comes
 * from the step-size controller, not from a fresh initial-step heuristic at t_reg), so its gradient
 * flows through the same discrete adjoint as the data loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../noise/prng';
import { InvalidArgumentError } from '../errors';
import { checkChoice, checkSaturation, RegularizerInputs, saturate, saturationConfig, SolverRegularizer } from './base';
import type { SolverEstimate } from './base';

export interface LocalErrorEstimateArgs {
  /** λ. Default 1. */
  weight?: number;
  /** 'unbiased' (uniform in time, default) or 'biased' (uniform over accepted steps). */
  sampling?: 'unbiased' | 'biased';
  /** Seed of the sampling generator. Default 0. */
  seed?: number;
  /** As for `errorEstimate`: E above it enters logarithmically (default 1e-3; null = the paper's E·|dt|). */
  saturation?: number | null;
}

export class LocalErrorEstimateRegularizer extends SolverRegularizer {
  static className = 'LocalErrorEstimateRegularizer';
  readonly sampling: 'unbiased' | 'biased';
  readonly seed: number;
  readonly saturation: number;
  private readonly random: () => number;
  /** Index of the step penalized in the last call to `penalty`. */
  lastStep = -1;

  constructor(args: LocalErrorEstimateArgs = {}) {
    super(args, 'localErrorEstimate', ['weight', 'sampling', 'seed', 'saturation']);
    this.saturation = checkSaturation(args.saturation, 'localErrorEstimate');
    this.sampling = checkChoice(args.sampling ?? 'unbiased', ['unbiased', 'biased'] as const, "localErrorEstimate: 'sampling'");
    const seed = args.seed ?? 0;
    if (!Number.isInteger(seed)) throw new InvalidArgumentError(`localErrorEstimate: 'seed' must be an integer, got ${String(seed)}.`);
    this.seed = seed;
    this.random = mulberry32(seed);
  }

  get shortName(): string {
    return 'localErrorEstimate';
  }

  get estimate(): SolverEstimate {
    return 'error';
  }

  override get needsStops(): boolean {
    return this.sampling === 'unbiased';
  }

  override sampleStops([t0, t1]: readonly [number, number]): number[] {
    if (this.sampling !== 'unbiased') return [];
    // Strictly inside (t0, t1): a stop at t0 would not be a new step.
    let u = this.random();
    while (u === 0) u = this.random();
    return [t0 + u * (t1 - t0)];
  }

  penalty({ error, dt, t, stops }: RegularizerInputs): tf.Scalar {
    let j: number;
    if (this.sampling === 'unbiased') {
      if (stops.length === 0) throw new Error('internal: unbiased local regularization without a sampled time');
      j = t.indexOf(stops[0]);
      if (j < 0) throw new Error(`internal: no accepted step starts at the sampled time ${stops[0]}`);
    } else {
      j = Math.min(dt.length - 1, Math.floor(this.random() * dt.length));
    }
    this.lastStep = j;
    return tf.tidy(() => tf.reshape(tf.mul(saturate(tf.slice(error, j, 1), this.saturation), Math.abs(dt[j])), []) as tf.Scalar);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), sampling: this.sampling, seed: this.seed, saturation: saturationConfig(this.saturation) };
  }
}
tf.serialization.registerClass(LocalErrorEstimateRegularizer);

/** `localErrorEstimate({weight: 10, sampling: 'unbiased', seed: 1})`. */
export function localErrorEstimate(args?: LocalErrorEstimateArgs): LocalErrorEstimateRegularizer {
  return new LocalErrorEstimateRegularizer(args);
}
