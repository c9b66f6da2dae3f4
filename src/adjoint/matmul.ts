/**
 * Matrix products with transposed operands, working around a slow kernel of the wasm backend.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 runs `BatchMatMul` with `transposeA` or `transposeB` set
 * about 10× slower than the same product without the flags, for products the size of a Dense
 * layer's weight gradient (e.g. Xᵀ·D with X 512×785, D 512×100). An explicit `tf.transpose` (a
 * cheap copy) followed by a plain `matMul` avoids the slow path. The `cpu` backend has no such
 * defect (flags and explicit transposes run equally fast, and the transpose would only add a
 * copy), so the flags are passed through everywhere except on wasm.
 *
 * Tiny products are the exception: below about 16k multiply-adds the flagged kernel is as fast or
 * faster, and the extra `Transpose` kernel would only add a launch, so those keep the flags.
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

/** Products with fewer multiply-adds than this keep the flags on wasm too. */
const SMALL_PRODUCT = 16384;

/** Multiply-adds of the (batched) product. */
function productSize(a: tf.Tensor, transposeA: boolean, b: tf.Tensor, transposeB: boolean): number {
  const r = a.rank;
  const m = transposeA ? a.shape[r - 1] : a.shape[r - 2];
  const k = transposeA ? a.shape[r - 2] : a.shape[r - 1];
  const n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  return (a.size / (a.shape[r - 1] * a.shape[r - 2])) * m * k * n;
}

/**
 * `tf.matMul(a, b, transposeA, transposeB)` with the same result, computed fast on every backend:
 * on wasm the flagged operands of products that are not tiny are transposed explicitly and
 * multiplied without flags.
 * Operands of rank ≥ 2; batched products transpose the last two axes.
 */
export function matMulT(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if ((!transposeA && !transposeB) || !SLOW_TRANSPOSED_MATMUL.has(tf.getBackend()) || productSize(a, transposeA, b, transposeB) < SMALL_PRODUCT) {
    return tf.matMul(a, b, transposeA, transposeB);
  }
  return tf.tidy(() => tf.matMul(transposeA ? transposeLastTwo(a) : a, transposeB ? transposeLastTwo(b) : b));
}
