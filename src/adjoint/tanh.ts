/**
 * tanh computed fast on every backend, working around a slow kernel of the wasm backend.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 evaluates `Tanh` element by element with the C library's
 * tanh: on a 64×64 tensor 116 µs, against 8.6 µs for its `Sigmoid` kernel (Node 20, one thread,
 * SIMD; minimum of 9 blocks of 200 calls). A Dense layer with a tanh activation therefore spends
 * most of a small vector field's time in that one kernel (the 64×32 MLP of the benchmarks: about
 * 60% of a bare call). On wasm tanh(x) is computed as 2·σ(2x) − 1, four cheap kernels; the result
 * differs from `tf.tanh` by at most a few float32 ulps of 1 in absolute terms (1.8e-7 measured on
 * [−20, 20]; `test/kernel_workarounds.test.ts` bounds it by 2.4e-7), below the rounding of the stage arithmetic. Other backends
 * use `tf.tanh`.
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
