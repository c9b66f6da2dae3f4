/**
 * The elementwise float32 arithmetic an SRI step is written in, with two implementations that give the same bits:
 * tfjs ops on tensors (differentiable: the discrete adjoint replays steps with them; the right choice on GPU
 * backends), and loops over host arrays (`Float32Array`) that round every operation as tfjs's float32 kernels do
 * (on cpu and wasm, where tensor memory is host memory and ~120 small kernel launches per step dominate). A scalar
 * operand is a float32 scalar on both sides (tfjs casts a JS number to a float32 scalar tensor).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Elementwise operations on state-shaped values `V`. */
export interface SriOps<V> {
  add(a: V, b: V): V;
  /** a − c for a number c. */
  subScalar(a: V, c: number): V;
  /** a·c for a number c. */
  scale(a: V, c: number): V;
  mul(a: V, b: V): V;
  square(a: V): V;
  /** Σ parts left to right, starting from 0 (tf.addN). */
  addN(parts: readonly V[]): V;
  zerosLike(a: V): V;
}

export const tensorOps: SriOps<tf.Tensor> = {
  add: (a, b) => tf.add(a, b),
  subScalar: (a, c) => tf.sub(a, c),
  scale: (a, c) => tf.mul(a, c),
  mul: (a, b) => tf.mul(a, b),
  square: (a) => tf.square(a),
  addN: (parts) => tf.addN(parts.slice()),
  zerosLike: (a) => tf.zerosLike(a),
};

const f32 = Math.fround;

/** Host arrays, each operation rounded to float32 (a float64 result of one float32 operation, rounded once, is the float32 result). */
export const hostOps: SriOps<Float32Array> = {
  add(a, b) {
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
    return out;
  },
  subScalar(a, c) {
    const cf = f32(c);
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] - cf;
    return out;
  },
  scale(a, c) {
    const cf = f32(c);
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] * cf;
    return out;
  },
  mul(a, b) {
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
    return out;
  },
  square(a) {
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] * a[i];
    return out;
  },
  addN(parts) {
    const out = new Float32Array(parts[0].length);
    for (const p of parts) for (let i = 0; i < out.length; i++) out[i] = out[i] + p[i];
    return out;
  },
  zerosLike: (a) => new Float32Array(a.length),
};
