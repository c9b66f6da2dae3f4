/**
 * Vector–Jacobian products that work inside a custom gradient's backward function.
 *
 * This is the one module that touches tfjs engine state. `tf.grads` called from inside a
 * `gradFunc` (during an outer backward pass) replaces and then nulls the engine's active tape,
 * which the outer pass still needs (it frees the saved tensors of its tape afterwards). We save
 * and restore `engine.state.activeTape` around the inner gradient computation. This relies on
 * tfjs internals (checked on 4.22); `test/vjp.test.ts` fails loudly if they change.
 */
import * as tf from '@tensorflow/tfjs-core';

interface EngineWithTape {
  state: { activeTape: unknown; gradientDepth: number };
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

function engine(): EngineWithTape {
  const e = tf.engine() as unknown as EngineWithTape;
  if (typeof e.state !== 'object' || e.state === null || typeof e.gradients !== 'function') {
    throw new Error(
      'tfjs-neural-de: this version of @tensorflow/tfjs-core has no engine.state.activeTape / engine.gradients; the discrete adjoint needs them (tested with tfjs 4.x).',
    );
  }
  return e;
}

/**
 * Gradients of the scalar `objective()` with respect to each of `xs` (zeros where it does not
 * depend on one). Safe to call inside a `tf.customGrad` gradient function. The returned tensors
 * are new; everything else created by `objective` is freed.
 */
export function vjp(objective: () => tf.Scalar, xs: tf.Tensor[]): tf.Tensor[] {
  const e = engine();
  const savedTape = e.state.activeTape;
  try {
    return tf.tidy(() => {
      const { value, grads } = e.gradients(objective, xs, undefined, true);
      value.dispose();
      return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
    });
  } finally {
    e.state.activeTape = savedTape;
  }
}

/**
 * How many gradient computations (`tf.grads`, `variableGrads`, `optimizer.minimize`) are recording
 * right now. A custom-gradient op runs its forward pass at depth 1 during ordinary training, and its
 * gradient function at depth 0; depth ≥ 2 in the forward pass, or ≥ 1 in the gradient function,
 * means a higher-order derivative is being taken through it.
 */
export function gradientDepth(): number {
  const depth = engine().state.gradientDepth;
  return typeof depth === 'number' ? depth : 0;
}
