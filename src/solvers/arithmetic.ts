/**
 * The state arithmetic of a step: linear combinations of stage values and scaled RMS norms.
 *
 * Two implementations with the same results up to float rounding:
 * - `tensorArithmetic` uses tfjs ops. It is differentiable (the discrete adjoint recomputes steps
 *   with it under the tape) and is the right choice on GPU backends, where reading data back stalls.
 * - `hostArithmetic` reads each stage value once with `dataSync()` and combines them in JS loops.
 *   On `cpu` and `wasm`, where tensor memory is host memory, this replaces ~40 small kernel launches
 *   per Tsit5 step by a few tight loops and keeps the solver overhead per NFE small.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A coefficient and the tensor it multiplies. */
export type Term = readonly [number, tf.Tensor];

/** Error scaling `atol + max(|ref0|, |ref1|)·rtol` (ref1 optional). */
export interface ErrorScale {
  readonly ref0: tf.Tensor;
  readonly ref1?: tf.Tensor;
  readonly atol: number;
  readonly rtol: number;
}

export interface StateArithmetic {
  readonly kind: 'host' | 'tensor';
  /** `base + Σ c_i·v_i` as a new float32 tensor shaped like `base` (zero coefficients skipped). */
  combine(base: tf.Tensor, terms: readonly Term[]): tf.Tensor;
  /** RMS over all elements of `(Σ c_i·v_i) / scale` (scale = 1 when omitted). */
  rms(terms: readonly Term[], scale?: ErrorScale): number;
}

export type ArithmeticChoice = 'auto' | 'host' | 'tensor';

// ---------------------------------------------------------------- tensor (differentiable)

/** Differentiable `base + Σ c_i·v_i`. */
export function combineTensor(base: tf.Tensor, terms: readonly Term[]): tf.Tensor {
  return tf.tidy(() => {
    const parts = terms.filter(([c]) => c !== 0).map(([c, v]) => tf.mul(v, tf.scalar(c)));
    if (parts.length === 0) return tf.clone(base);
    return tf.add(base, parts.length === 1 ? parts[0] : tf.addN(parts));
  });
}

/** Differentiable scaled RMS norm, as a scalar tensor. */
export function rmsTensor(terms: readonly Term[], scale?: ErrorScale): tf.Scalar {
  return tf.tidy(() => {
    const parts = terms.filter(([c]) => c !== 0).map(([c, v]) => tf.mul(v, tf.scalar(c)));
    let x: tf.Tensor = parts.length === 1 ? parts[0] : tf.addN(parts);
    if (scale) {
      const mag = scale.ref1 ? tf.maximum(tf.abs(scale.ref0), tf.abs(scale.ref1)) : tf.abs(scale.ref0);
      x = tf.div(x, tf.add(tf.scalar(scale.atol), tf.mul(mag, tf.scalar(scale.rtol))));
    }
    return tf.sqrt(tf.mean(tf.square(x))) as tf.Scalar;
  });
}

export const tensorArithmetic: StateArithmetic = {
  kind: 'tensor',
  combine: combineTensor,
  rms(terms, scale) {
    const r = rmsTensor(terms, scale);
    const v = r.dataSync()[0];
    r.dispose();
    return v;
  },
};

// ---------------------------------------------------------------- host (cpu / wasm)

const hostCache = new WeakMap<tf.Tensor, Float32Array>();

function read(x: tf.Tensor): Float32Array {
  let d = hostCache.get(x);
  if (d === undefined) {
    d = x.dataSync() as Float32Array;
    hostCache.set(x, d);
  }
  return d;
}

export const hostArithmetic: StateArithmetic = {
  kind: 'host',
  combine(base, terms) {
    const out = new Float32Array(read(base));
    const n = out.length;
    for (const [c, v] of terms) {
      if (c === 0) continue;
      const d = read(v);
      for (let i = 0; i < n; i++) out[i] += c * d[i];
    }
    return tf.tensor(out, base.shape, 'float32');
  },
  rms(terms, scale) {
    const live = terms.filter(([c]) => c !== 0);
    const n = live[0][1].size;
    const acc = new Float64Array(n);
    for (const [c, v] of live) {
      const d = read(v);
      for (let i = 0; i < n; i++) acc[i] += c * d[i];
    }
    let s = 0;
    if (scale) {
      const r0 = read(scale.ref0);
      const r1 = scale.ref1 ? read(scale.ref1) : r0;
      const { atol, rtol } = scale;
      for (let i = 0; i < n; i++) {
        const e = acc[i] / (atol + Math.max(Math.abs(r0[i]), Math.abs(r1[i])) * rtol);
        s += e * e;
      }
    } else {
      for (let i = 0; i < n; i++) s += acc[i] * acc[i];
    }
    return Math.sqrt(s / n);
  },
};

/** Host loops where tensor memory is host memory (`cpu`, `wasm`); tensor ops elsewhere. */
export function chooseArithmetic(choice: ArithmeticChoice = 'auto'): StateArithmetic {
  if (choice === 'host') return hostArithmetic;
  if (choice === 'tensor') return tensorArithmetic;
  const backend = tf.getBackend();
  return backend === 'cpu' || backend === 'wasm' ? hostArithmetic : tensorArithmetic;
}
