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
    const dt0 = hairerFirstGuess(d0, d1, dtmax);
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
    return hairerStep(dt0, d1, d2, order, dtmin, dtmax);
  });
}

/** Hairer's first guess from d0 = ‖y0‖ and d1 = ‖f0‖ (scaled): 0.01·d0/d1, or 1e-6 when either is below 1e-5; at most dtmax. */
export function hairerFirstGuess(d0: number, d1: number, dtmax: number): number {
  return Math.min(d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1), dtmax);
}

/**
 * Hairer's step from the first guess dt0 and the scaled norms d1 (of f0) and d2 (of the change of f
 * over dt0, divided by dt0): dt1 = 10^(−(2 + log10 max(d1, d2))/p) (max(1e-6, 1e-3·dt0) when
 * max(d1, d2) ≤ 1e-15), then min(100·dt0, dt1) clamped to [dtmin, dtmax]. p is the method's order
 * (ODEs) or order + 1/2 (SDEs).
 */
export function hairerStep(dt0: number, d1: number, d2: number, p: number, dtmin: number, dtmax: number): number {
  const dmax = Math.max(d1, d2);
  const dt1 = dmax <= 1e-15 ? Math.max(1e-6, dt0 * 1e-3) : Math.pow(10, -(2 + Math.log10(dmax)) / p);
  const dt = Math.max(dtmin, Math.min(100 * dt0, dt1, dtmax));
  // A non-finite derivative makes every candidate NaN: fall back to the smallest sane choice and
  // let the step loop report the problem with its statistics.
  return Number.isFinite(dt) ? dt : Math.max(dtmin, 1e-6);
}
