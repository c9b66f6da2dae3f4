/**
 * Matrix products with transposed operands, working around a slow kernel of the wasm backend.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 runs `BatchMatMul` with `transposeA` or `transposeB` set
 * about 10× slower than the same product without the flags (measured in Node 20, one thread, SIMD:
 * Xᵀ·D for X 512×785 and D 512×100 took 24 ms with `transposeA`, 2 ms as an explicit
 * `tf.transpose` followed by a plain `matMul`; the same holds for `transposeB`; see
 * `bench/vjp.ts`). The transposed-operand path of that kernel walks memory with a large stride,
 * while `Transpose` is a cheap copy. The `cpu` backend has no such defect (its kernel takes the
 * flags at no extra cost, and an explicit transpose would only add a copy), so the flags are
 * passed through everywhere except on wasm.
 *
 * This is the only module that knows about the defect. To remove the workaround once a tfjs
 * release fixes the kernel: run `npx tsx bench/vjp.ts` (its first table times both forms on wasm);
 * when they are equal, make `matMulT` a plain `tf.matMul(a, b, transposeA, transposeB)`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Backends whose matMul kernel is slow with transposed operands. */
const SLOW_TRANSPOSED_MATMUL = new Set(['wasm']);

/** Swaps the last two axes (the matrix axes of a batched product). */
function transposeLastTwo(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
  return tf.transpose(x, perm);
}

/**
 * `tf.matMul(a, b, transposeA, transposeB)` with the same result, computed fast on every backend:
 * on wasm the flagged operands are transposed explicitly and multiplied without flags.
 * Operands of rank ≥ 2; batched products transpose the last two axes.
 */
export function matMulT(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if ((!transposeA && !transposeB) || !SLOW_TRANSPOSED_MATMUL.has(tf.getBackend())) {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  return tf.tidy(() => tf.matMul(transposeA ? transposeLastTwo(a) : a, transposeB ? transposeLastTwo(b) : b));
}
