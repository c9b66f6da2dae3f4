/**
 * Vector–Jacobian products that work inside a custom gradient's backward function.
 *
 * `tf.grads` called from inside a `gradFunc` (during an outer backward pass) replaces and then
 * nulls the engine's active tape, which the outer pass still needs (it frees the saved tensors of
 * its tape afterwards). `vjp` computes the inner gradients with the engine's own `gradients` and
 * restores the active tape afterwards; both engine accesses live in `../tfjs_internals.ts`, whose
 * test (`test/tfjs_internals.test.ts`) and `test/adjoint/vjp.test.ts` fail loudly if they change.
 */
import * as tf from '@tensorflow/tfjs-core';
import { engineGradients, withSavedActiveTape } from '../tfjs_internals';

/**
 * Gradients of the scalar `objective()` with respect to each of `xs` (zeros where it does not
 * depend on one). Safe to call inside a `tf.customGrad` gradient function. The returned tensors
 * are new; everything else created by `objective` is freed.
 */
export function vjp(objective: () => tf.Scalar, xs: tf.Tensor[]): tf.Tensor[] {
  return withSavedActiveTape(() =>
    tf.tidy(() => {
      const { value, grads } = engineGradients(objective, xs);
      value.dispose();
      return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
    }),
  );
}
