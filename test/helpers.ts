import * as tf from '@tensorflow/tfjs-core';

/** Runs `fn` and asserts that it leaves exactly `extra` more tensors allocated. */
export function expectNoLeak<T>(fn: () => T, extra = 0): T {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors - before).toBe(extra);
  return out;
}

/** Runs `fn`, expects it to throw, and asserts nothing leaked. Returns the error. */
export function expectThrowNoLeak(fn: () => unknown): Error {
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Error);
  expect(tf.memory().numTensors).toBe(before);
  return err as Error;
}

/** Damped rotation y' = A y with A = [[-a, w], [-w, -a]] and its exact solution. */
export const ROT = { a: 0.5, w: 2 };
export function rotationField(_t: number, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // y1' = -a·y1 - w·y2, y2' = w·y1 - a·y2, applied row-wise to batch-first states [batch, 2].
    const M = tf.tensor2d([
      [-ROT.a, ROT.w],
      [-ROT.w, -ROT.a],
    ]);
    return tf.matMul(y as tf.Tensor2D, M);
  });
}
export function rotationExact(y0: [number, number], t: number): [number, number] {
  const e = Math.exp(-ROT.a * t);
  const c = Math.cos(ROT.w * t);
  const s = Math.sin(ROT.w * t);
  return [e * (c * y0[0] - s * y0[1]), e * (s * y0[0] + c * y0[1])];
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
