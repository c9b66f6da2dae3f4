/** The wasm kernel workarounds: `matMulT` (the product of `tf.matMul` with transposed operands) and `tanh`. */
import * as tf from '@tensorflow/tfjs-core';
import { matMulT } from '../../src/adjoint/matmul';
import { tanh } from '../../src/adjoint/tanh';
import { maxRelErr } from '../support/helpers';

describe('matMulT equals tf.matMul', () => {
  test.each([
    ['tiny (kept flagged on wasm)', [20, 2], [20, 50], true, false],
    ['tiny, transposeB', [20, 2], [50, 2], false, true],
    ['above the threshold, transposeA', [64, 64], [64, 32], true, false],
    ['above the threshold, transposeB', [64, 32], [64, 32], false, true],
    ['both flags', [40, 64], [32, 40], true, true],
    ['batched, transposeA', [3, 40, 30], [3, 40, 20], true, false],
  ] as [string, number[], number[], boolean, boolean][])('%s', (_name, sa, sb, ta, tb) => {
    const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
    const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
    const got = matMulT(a, b, ta, tb);
    const want = tf.matMul(a, b, ta, tb);
    expect(got.shape).toEqual(want.shape);
    expect(maxRelErr(got, want)).toBeLessThan(1e-6);
    tf.dispose([a, b, got, want]);
  });
});

describe('tanh (2·σ(2x) − 1 on wasm) equals tf.tanh to a few float32 ulps of 1', () => {
  test('over [-20, 20] and near 0', () => {
    const x = tf.concat([tf.linspace(-20, 20, 4001), tf.linspace(-1e-3, 1e-3, 101)]);
    const got = tanh(x);
    const want = tf.tanh(x);
    const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0];
    expect(diff).toBeLessThanOrEqual(2.4e-7);
    // odd and saturating like tanh
    expect(Array.from(tanh(tf.tensor1d([-30, 30])).dataSync())).toEqual([-1, 1]);
    tf.dispose([x, got, want]);
  });
});
