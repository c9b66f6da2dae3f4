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

/** max |a − b| over all elements (the lengths must match). */
export function maxAbsDiff(a: ArrayLike<number> | tf.Tensor, b: ArrayLike<number> | tf.Tensor): number {
  const av = a instanceof tf.Tensor ? a.dataSync() : a;
  const bv = b instanceof tf.Tensor ? b.dataSync() : b;
  expect(av.length).toBe(bv.length);
  let m = 0;
  for (let i = 0; i < av.length; i++) m = Math.max(m, Math.abs(av[i] - bv[i]));
  return m;
}

/** max |a − b| / max |b|: the relative error of `a` against the reference `b`, scaled by its largest entry. */
export function maxRelErr(a: tf.Tensor, b: tf.Tensor): number {
  const bv = b.dataSync();
  let scale = 0;
  for (let i = 0; i < bv.length; i++) scale = Math.max(scale, Math.abs(bv[i]));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-12);
}

/** Least-squares slope of log(err) against log(h): the observed order of convergence. */
export function logLogSlope(hs: number[], errs: number[]): number {
  const x = hs.map(Math.log);
  const y = errs.map(Math.log);
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  x.forEach((xi, i) => {
    num += (xi - mx) * (y[i] - my);
    den += (xi - mx) ** 2;
  });
  return num / den;
}
