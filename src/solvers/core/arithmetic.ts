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
import { tensorDataId } from '../../tfjs_internals';
import { linearCombination, linearCombinationF32, plainRms, scaledRms } from './host_kernels';

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
  /** True when no element is NaN or ±Infinity. */
  allFinite(x: tf.Tensor): boolean;
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
    // sqrt has an infinite derivative at 0 (which would turn a zero error vector into NaN
    // gradients): clamp the mean square at 1e-30 (value change ≤ 1e-15, gradient 0 below it).
    return tf.sqrt(tf.maximum(tf.mean(tf.square(x)), 1e-30)) as tf.Scalar;
  });
}

export const tensorArithmetic: StateArithmetic = {
  kind: 'tensor',
  combine: combineTensor,
  allFinite(x) {
    const ok = tf.tidy(() => tf.all(tf.isFinite(x)));
    const v = ok.dataSync()[0];
    ok.dispose();
    return v === 1;
  },
  rms(terms, scale) {
    const r = rmsTensor(terms, scale);
    const v = r.dataSync()[0];
    r.dispose();
    return v;
  },
};

// ---------------------------------------------------------------- host (cpu / wasm)

// Keyed by the tensor's data id, not the tensor object: a tf.Variable keeps its object when
// assigned but gets a new data id, so a stale read is impossible.
const hostCache = new WeakMap<object, Float32Array>();

function read(x: tf.Tensor): Float32Array {
  const key = tensorDataId(x);
  let d = hostCache.get(key);
  if (d === undefined) {
    d = x.dataSync() as Float32Array;
    hostCache.set(key, d);
  }
  return d;
}

function split(terms: readonly Term[]): { cs: number[]; ds: Float32Array[] } {
  const cs: number[] = [];
  const ds: Float32Array[] = [];
  for (const [c, v] of terms) {
    if (c === 0) continue;
    cs.push(c);
    ds.push(read(v));
  }
  return { cs, ds };
}

/** Reused accumulator for norms (JS is single-threaded; nothing keeps it across calls). */
let scratch = new Float64Array(0);

export const hostArithmetic: StateArithmetic = {
  kind: 'host',
  allFinite(x) {
    const d = read(x);
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
    return true;
  },
  combine(base, terms) {
    const { cs, ds } = split(terms);
    const out = new Float32Array(base.size);
    linearCombinationF32(out, read(base), cs, ds);
    const t = tf.tensor(out, base.shape, 'float32');
    hostCache.set(tensorDataId(t), out); // never read back what we just wrote
    return t;
  },
  rms(terms, scale) {
    const { cs, ds } = split(terms);
    const n = terms[0][1].size;
    if (scratch.length < n) scratch = new Float64Array(n);
    const acc = scratch.length === n ? scratch : scratch.subarray(0, n);
    linearCombination(acc, null, cs, ds);
    if (!scale) return plainRms(acc);
    const r0 = read(scale.ref0);
    return scaledRms(acc, r0, scale.ref1 ? read(scale.ref1) : r0, scale.atol, scale.rtol);
  },
};

/**
 * Host loops where tensor memory is host memory and kernel launches dominate: always on `cpu`;
 * on `wasm` for states up to 4096 elements (host loops win for small states such as 64×32; from
 * 64×128 up, wasm's kernels do). Tensor ops elsewhere (GPU backends, tfjs-node), where reading
 * data back would stall or cost more than the ops.
 */
export const HOST_WASM_MAX_SIZE = 4096;

export function chooseArithmetic(choice: ArithmeticChoice = 'auto', stateSize = 0): StateArithmetic {
  if (choice === 'host') return hostArithmetic;
  if (choice === 'tensor') return tensorArithmetic;
  const backend = tf.getBackend();
  if (backend === 'cpu') return hostArithmetic;
  if (backend === 'wasm' && stateSize <= HOST_WASM_MAX_SIZE) return hostArithmetic;
  return tensorArithmetic;
}
