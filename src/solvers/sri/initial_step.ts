/**
 * The initial step size of an adaptive SDE solve, as StochasticDiffEq's `sde_determine_initdt`: Hairer's
 * heuristic (Hairer, Nørsett & Wanner I, II.4) with the drift f widened by three diffusion "standard
 * deviations" 3g in each norm, and the exponent 1/(order + 1/2). With sc = atol + |y0|·rtol and RMS norms:
 *
 *   d0 = ‖y0/sc‖,  d1 = ‖max(|f0 + 3g0|, |f0 − 3g0|)/sc‖,  dt0 = 0.01·d0/d1 (1e-6 if d0 or d1 < 1e-5)
 *   y1 = y0 + dt0·f0,  Δf = f(t0 + dt0, y1) − f0,  Δg = max(|3g0 − 3g1|, |3g0 + 3g1|),  g1 = g(t0 + dt0, y1)
 *   d2 = ‖max(|Δf + Δg|, |Δf − Δg|)/sc‖ / dt0
 *   dt1 = 10^(−(2 + log10 max(d1, d2)) / (order + 1/2))   (max(1e-6, 1e-3·dt0) if max(d1, d2) ≤ 1e-15)
 *   dt = min(100·dt0, dt1), clamped to [dtmin, dtmax].
 *
 * Costs two drift evaluations (one when f(t0, y0) is given) and two diffusion evaluations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hairerFirstGuess, hairerStep } from '../core/initial_step';
import { Tolerances, VectorField } from '../core/stepper';

/** The RMS norms of `xs` (each divided by `scale`), read back with one `dataSync`. */
function scaledRmsAll(xs: tf.Tensor[], scale: tf.Tensor): Float32Array {
  const packed = tf.stack(xs.map((x) => tf.sqrt(tf.mean(tf.square(tf.div(x, scale))))));
  return packed.dataSync() as Float32Array;
}

/** max(|a + b|, |a − b|) elementwise. */
function spread(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.maximum(tf.abs(tf.add(a, b)), tf.abs(tf.sub(a, b)));
}

/**
 * Initial step magnitude for an SDE solve from (t0, y0) with drift `f` and diagonal diffusion `g` (see the
 * module comment). `f0`, when given, is f(t0, y0) and is reused (not disposed). A non-finite result (NaN from
 * the fields) falls back to max(dtmin, 1e-6), leaving the step loop to report the problem.
 */
export function sdeInitialStep(
  f: VectorField,
  g: VectorField,
  t0: number,
  y0: tf.Tensor,
  f0Given: tf.Tensor | undefined,
  direction: 1 | -1,
  order: number,
  tol: Tolerances,
  dtmin: number,
  dtmax: number,
): number {
  return tf.tidy(() => {
    const sc = tf.add(tf.mul(tf.abs(y0), tol.rtol), tol.atol);
    const f0 = f0Given ?? f(t0, y0);
    const g0 = tf.mul(g(t0, y0), 3);
    const [d0, d1] = scaledRmsAll([y0, spread(f0, g0)], sc);
    const dt0 = hairerFirstGuess(d0, d1, dtmax);
    const t1 = t0 + direction * dt0;
    const y1 = tf.add(y0, tf.mul(f0, direction * dt0));
    const f1 = f(t1, y1);
    const g1 = tf.mul(g(t1, y1), 3);
    const dg = spread(g0, g1);
    const [d2raw] = scaledRmsAll([spread(tf.sub(f1, f0), dg)], sc);
    return hairerStep(dt0, d1, d2raw / dt0, order + 0.5, dtmin, dtmax);
  });
}
