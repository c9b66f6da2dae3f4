/**
 * The differentiable replay of an accepted SDE step for the discrete adjoint: the same step as the
 * forward solve, in tfjs ops, with the same Brownian increments (re-queried from the term's path,
 * which returns identical values for the same interval).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ReplayResult, ReplayWants, Tolerances } from '../stepper';
import { eulerMaruyamaStep } from './euler_maruyama';
import { SdeMethod } from './registry';
import { sriStep } from './step';
import { SdeTerm, stepNoise } from './stepper';

export function sdeReplay(method: SdeMethod): (term: SdeTerm, t: number, y: tf.Tensor, dt: number, tol: Tolerances, want: ReplayWants) => ReplayResult {
  const tab = method.tableau;
  return (term, t, y, dt, tol, want) => {
    const { dW, dZ } = stepNoise(term.brownian, t, dt, y.shape, tab !== null);
    if (!tab) return eulerMaruyamaStep(term.drift, term.diffusion, t, y, dt, dW);
    const reliable = want.stiffness && want.stiffnessActive !== undefined ? tf.scalar(want.stiffnessActive, 'bool') : undefined;
    const r = sriStep(tab, term.drift, term.diffusion, t, y, dt, dW, dZ!, tol, {
      error: want.error,
      stiffness: want.stiffness,
      stiffnessReliable: reliable,
    });
    return { y1: r.y1, error: r.error, stiffness: r.stiffness };
  };
}
