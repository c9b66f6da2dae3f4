/**
 * tanh computed fast on every backend, working around a slow kernel of the wasm backend.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 evaluates `Tanh` element by element with the C library's
 * tanh, more than ten times slower than its vectorized `Sigmoid` kernel. A Dense layer with a tanh
 * activation therefore spends most of a small vector field's time in that one kernel. On wasm
 * tanh(x) is computed as 2·σ(2x) − 1, four cheap kernels; the result differs from `tf.tanh` by at
 * most a few float32 ulps of 1 in absolute terms (1.8e-7 on [−20, 20];
 * `test/adjoint/kernel_workarounds.test.ts` bounds it by 2.4e-7), below the rounding of the stage
 * arithmetic. Other backends use `tf.tanh`.
 *
 * This is the only module that knows about the defect. To remove the workaround once a tfjs
 * release vectorizes the kernel: time `tf.tanh` against `tf.sigmoid` on wasm; when they are
 * equal, make `tanh` a plain `tf.tanh`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Backends whose Tanh kernel is much slower than their Sigmoid kernel. */
const SLOW_TANH = new Set(['wasm']);

export function tanh(x: tf.Tensor): tf.Tensor {
  if (!SLOW_TANH.has(tf.getBackend())) return tf.tanh(x);
  return tf.tidy(() => tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1));
}
