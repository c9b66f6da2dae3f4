/**
 * The Euler–Maruyama step for an Itô SDE with diagonal noise, dy = f(t, y) dt + g(t, y) ⊙ dW:
 * y1 = y + h·f(t, y) + g(t, y) ⊙ ΔW. Strong order 0.5 for multiplicative noise (1 for additive noise);
 * no error estimate, so it is a fixed-step method. tfjs ops only (differentiable), like `sriStep`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../errors';
import { DiffusionFn, DriftFn } from './step';

export interface EulerMaruyamaStepResult {
  readonly y1: tf.Tensor;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * One Euler–Maruyama step from (t, y) to t + h with the Brownian increment dW ~ N(0, h) per state
 * element (h > 0 only). One drift and one diffusion evaluation. Intermediate tensors are freed.
 */
export function eulerMaruyamaStep(f: DriftFn, g: DiffusionFn, t: number, y: tf.Tensor, h: number, dW: tf.Tensor): EulerMaruyamaStepResult {
  if (!(h > 0 && Number.isFinite(h))) {
    throw new InvalidArgumentError(`eulerMaruyamaStep: h = ${h}; the step size must be a finite number > 0 (integrate forward in time).`);
  }
  if (!sameShape(dW.shape, y.shape)) {
    throw new InvalidArgumentError(
      `eulerMaruyamaStep: dW has shape [${dW.shape}] but y has shape [${y.shape}]; pass one increment per state element (diagonal noise).`,
    );
  }
  const y1 = tf.tidy(() => {
    const drift = f(t, y);
    const diffusion = g(t, y);
    for (const [what, out] of [
      ['drift', drift],
      ['diffusion', diffusion],
    ] as const) {
      if (!sameShape(out.shape, y.shape)) {
        throw new InvalidArgumentError(
          `eulerMaruyamaStep: the ${what} returned shape [${out.shape}] for a state of shape [${y.shape}]; it must return one value per state element.`,
        );
      }
    }
    return tf.add(tf.add(y, tf.mul(drift, h)), tf.mul(diffusion, dW));
  });
  return { y1 };
}
