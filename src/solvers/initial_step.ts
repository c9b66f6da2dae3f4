/**
 * Hairer's initial step size heuristic as in OrdinaryDiffEq's `ode_determine_initdt`
 * (Hairer, Nørsett & Wanner I, II.4). Costs two evaluations of `f`, or one when f(t0, y0) is given.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StateArithmetic } from './arithmetic';
import { Tolerances, VectorField } from './stepper';

export function hairerInitialStep(
  f: VectorField,
  t0: number,
  y0: tf.Tensor,
  f0Given: tf.Tensor | undefined,
  direction: 1 | -1,
  order: number,
  tol: Tolerances,
  dtmin: number,
  dtmax: number,
  arith: StateArithmetic,
): number {
  return tf.tidy(() => {
    const scale = { ref0: y0, atol: tol.atol, rtol: tol.rtol };
    const f0 = f0Given ?? f(t0, y0);
    const d0 = arith.rms([[1, y0]], scale);
    const d1 = arith.rms([[1, f0]], scale);
    let dt0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
    dt0 = Math.min(dt0, dtmax);
    const y1 = arith.combine(y0, [[direction * dt0, f0]]);
    const f1 = f(t0 + direction * dt0, y1);
    const d2 =
      arith.rms(
        [
          [1, f1],
          [-1, f0],
        ],
        scale,
      ) / dt0;
    if (d2 === 0) return Math.max(dtmin, Math.min(100 * dt0, dtmax));
    const dmax = Math.max(d1, d2);
    const dt1 = dmax <= 1e-15 ? Math.max(1e-6, dt0 * 1e-3) : Math.pow(10, -(2 + Math.log10(dmax)) / order);
    const dt = Math.max(dtmin, Math.min(100 * dt0, dt1, dtmax));
    // A non-finite derivative makes every candidate NaN: fall back to the smallest sane choice and
    // let the step loop report the problem with its statistics.
    return Number.isFinite(dt) ? dt : Math.max(dtmin, 1e-6);
  });
}
