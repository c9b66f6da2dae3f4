/**
 * A vector field together with its pullback (vector–Jacobian product), the unit the reverse sweep
 * of the discrete adjoint works with. Two implementations: `autodiffFieldVjp` (any field, through
 * tfjs autodiff) and `denseFieldVjp` in `dense_vjp.ts` (hand-written, for stacks of Dense layers).
 *
 * Memory contract: the tensors an evaluation keeps for its pullback (and `value`) belong to the
 * caller's `tf.tidy` scope, like the output of any op; the pullback may be called more than once
 * while they are alive and returns new tensors. Call both inside a `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { vjp } from './vjp';

/** f(t, y) and its pullback. dParams are in the order of the stack's trainableWeights. */
export interface FieldEval {
  value: tf.Tensor;
  pullback(ct: tf.Tensor): { dy: tf.Tensor; dParams: tf.Tensor[] };
}

/** Evaluates the field at (t, y), keeping what its pullback needs. */
export type FieldWithVjp = (t: number, y: tf.Tensor) => FieldEval;

/**
 * Appends a feature holding t along the last axis: how a time-dependent field made of layers sees
 * t (`LayerStack` in `layers/vector_field.ts` and the hand-written pullback both use it).
 */
export function appendTime(z: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => tf.concat([z, tf.fill([...z.shape.slice(0, -1), 1], t)], -1));
}

/**
 * The pullback of any field by tfjs autodiff: `pullback(ct)` recomputes f(t, y) under a tape and
 * returns the gradients of Σ ct·f(t, y) with respect to y and each of `params` (zeros for a
 * parameter f does not use). Safe inside a `tf.customGrad` gradient function (it uses `vjp`).
 * `y` must stay alive until the last pullback.
 */
export function autodiffFieldVjp(f: (t: number, y: tf.Tensor) => tf.Tensor, params: tf.Tensor[]): FieldWithVjp {
  return (t, y) => ({
    value: f(t, y),
    pullback(ct) {
      const [dy, ...dParams] = vjp(() => tf.sum(tf.mul(f(t, y), ct)) as tf.Scalar, [y, ...params]);
      return { dy, dParams };
    },
  });
}
