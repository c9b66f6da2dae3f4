/**
 * One step of an SRI method (Rößler 2010) for an Itô SDE with diagonal noise,
 * dy = f(t, y) dt + g(t, y) ⊙ dW, written with tfjs ops only so that tfjs autodiff can differentiate
 * it: the forward solve uses it, and the discrete adjoint replays accepted steps with it from the
 * stored start state and the stored noise (dW, dZ).
 *
 * With chi1 = (ΔW² − h)/(2√h), chi2 = (ΔW + ΔZ/√3)/2, chi3 = (ΔW³ − 3hΔW)/(6h) (elementwise):
 *
 *   H0_i = y + h Σ_j A0_ij k_j + chi2 ⊙ Σ_j B0_ij g_j,   k_i = f(t + c0_i h, H0_i)
 *   H1_i = y + h Σ_j A1_ij k_j + √h  Σ_j B1_ij g_j,      g_i = g(t + c1_i h, H1_i)
 *   E2 = chi2 ⊙ Σ β3_i g_i + chi3 ⊙ Σ β4_i g_i
 *   y1 = y + h Σ α_i k_i + ΔW ⊙ Σ β1_i g_i + chi1 ⊙ Σ β2_i g_i + E2
 *   EEst = RMS((δ·E1 + E2) / (atol + max(|y|, |y1|)·rtol)),  E1 = h Σ_{i < errorDriftStages} k_i
 */
import * as tf from '@tensorflow/tfjs-core';
import { rmsTensor, Term } from '../core/arithmetic';
import { InvalidArgumentError } from '../../errors';
import { Tolerances, VectorField } from '../core/stepper';
import { SriOps, tensorOps } from './ops';
import { SriStagePlan, SriTableau } from './tableau';

/** The drift f(t, y): a tensor shaped like y (the same contract as an ODE `VectorField`). */
export type DriftFn = VectorField;

/** The diffusion g(t, y) of diagonal noise: a tensor shaped like y, multiplied elementwise by dW. */
export type DiffusionFn = (t: number, y: tf.Tensor) => tf.Tensor;

export interface SriStepResult {
  readonly y1: tf.Tensor;
  /** Scaled error estimate EEst as a scalar tensor (when requested). */
  readonly error?: tf.Scalar;
  /**
   * Stiffness estimate ‖k_q − k_p‖ / ‖H0_q − H0_p‖ (RMS norms) as a scalar tensor, or 0 where that
   * ratio is float32 noise (when requested and the method has one).
   */
  readonly stiffness?: tf.Scalar;
  /**
   * The bool scalar that decided `stiffness`: true where the ratio was used, false where it was set to 0.
   * Pass it back as `want.stiffnessReliable` to make a replay take the same decision.
   */
  readonly stiffnessReliable?: tf.Scalar;
}

/** What a step should compute besides the new state. */
export interface SriStepRequest {
  readonly error?: boolean;
  readonly stiffness?: boolean;
  /**
   * A decision for the stiffness estimate made earlier (e.g. by the forward pass whose step this
   * replays), used instead of recomputing it. Any dtype; nonzero means "use the ratio".
   */
  readonly stiffnessReliable?: tf.Tensor;
}

/**
 * The rule of `stiffnessRatio` (rk_stepper.ts) as tensor ops, with no read-back: the ratio is used
 * when the numerator is finite and the denominator's RMS is finite, positive and above 1e-5 times the
 * RMS of the later stage argument (float32 rounding level); decided on mean squares. Every op here has
 * a registered (zero) gradient, so the mask can sit on the tape.
 */
function stiffnessMask(num: tf.Scalar, denMs: tf.Scalar, scaleMs: tf.Scalar): tf.Scalar {
  const f32 = (x: tf.Tensor): tf.Tensor => tf.cast(x, 'float32');
  const finite = tf.mul(f32(tf.isFinite(num)), f32(tf.isFinite(denMs)));
  const notTiny = tf.sub(1, f32(tf.greaterEqual(tf.mul(scaleMs, 1e-10), denMs)));
  const positive = tf.sub(1, f32(tf.greaterEqual(0, denMs)));
  return tf.greaterEqual(tf.mul(tf.mul(finite, notTiny), positive), 0.5) as tf.Scalar;
}

/** Σ c_i·v_i over nonzero coefficients, or null when there is none. */
function weighted<V>(ops: SriOps<V>, terms: readonly (readonly [number, V | null])[]): V | null {
  const parts: V[] = [];
  for (const [c, v] of terms) {
    if (c === 0) continue;
    if (v === null) throw new Error('SRI step: a skipped stage has a nonzero weight (tableau plan is inconsistent).');
    parts.push(c === 1 ? v : ops.scale(v, c));
  }
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : ops.addN(parts);
}

/**
 * base + Σ_k mult_k ⊙ part_k over the non-null parts (a mult may be a number or an elementwise value);
 * `base` itself when every part is null.
 */
function accumulate<V>(ops: SriOps<V>, base: V, parts: readonly (readonly [number | V, V | null])[]): V {
  let out = base;
  for (const [m, p] of parts) {
    if (p === null) continue;
    out = ops.add(out, typeof m === 'number' ? (m === 1 ? p : ops.scale(p, m)) : ops.mul(m, p));
  }
  return out;
}

/** The stage values of one SRI step and what the estimates need. */
export interface SriStages<V> {
  readonly y1: V;
  /** The diffusion part of the error estimate. */
  readonly E2: V;
  /** Drift stage values k_i (null: skipped or not evaluated). */
  readonly k: readonly (V | null)[];
  /** Drift stage arguments H0_i (null where k_i reuses stage 0 or is skipped). */
  readonly H0: readonly (V | null)[];
}

/**
 * The stage plan of an SRI step (the formulas in the module comment), in the arithmetic `ops`: the one definition
 * of the step, run on tensors by `sriStep` and on host arrays by the forward step on cpu/wasm. `f` and `g` are
 * called at t + c0_i·h and t + c1_i·h, as often as the tableau's plans say.
 */
export function sriStages<V>(
  ops: SriOps<V>,
  tab: SriTableau,
  f: (t: number, y: V) => V,
  g: (t: number, y: V) => V,
  t: number,
  y: V,
  h: number,
  dW: V,
  dZ: V,
): SriStages<V> {
  const sqrtH = Math.sqrt(h);
  const dW2 = ops.square(dW);
  const chi1 = ops.scale(ops.subScalar(dW2, h), 1 / (2 * sqrtH));
  const chi2 = ops.scale(ops.add(dW, ops.scale(dZ, 1 / Math.sqrt(3))), 0.5);
  const chi3 = ops.scale(ops.mul(dW, ops.subScalar(dW2, 3 * h)), 1 / (6 * h));

  const k: (V | null)[] = [];
  const gs: (V | null)[] = [];
  const H0: (V | null)[] = [];
  /** Σ_j c_j·v_j over a tableau row or weight vector c and the stage values v (see `weighted`). */
  const sum = (cs: readonly number[], vs: readonly (V | null)[]): V | null =>
    weighted(
      ops,
      cs.map((c, j) => [c, vs[j]] as const),
    );
  const stage = (plan: SriStagePlan, first: V | null | undefined, evaluate: () => V): V | null =>
    plan === 'skip' ? null : plan === 'first' ? (first ?? null) : evaluate();
  for (let i = 0; i < tab.stages; i++) {
    const H0i =
      tab.driftPlan[i] === 'evaluate'
        ? accumulate(ops, y, [
            [h, sum(tab.A0[i], k)],
            [chi2, sum(tab.B0[i], gs)],
          ])
        : null;
    H0.push(H0i);
    k.push(stage(tab.driftPlan[i], k[0], () => f(t + tab.c0[i] * h, H0i as V)));
    gs.push(
      stage(tab.diffusionPlan[i], gs[0], () => {
        const H1i = accumulate(ops, y, [
          [h, sum(tab.A1[i], k)],
          [sqrtH, sum(tab.B1[i], gs)],
        ]);
        return g(t + tab.c1[i] * h, H1i);
      }),
    );
  }

  const E2 = accumulate(ops, ops.zerosLike(y), [
    [chi2, sum(tab.beta3, gs)],
    [chi3, sum(tab.beta4, gs)],
  ]);
  const y1 = accumulate(ops, y, [
    [h, sum(tab.alpha, k)],
    [dW, sum(tab.beta1, gs)],
    [chi1, sum(tab.beta2, gs)],
    [1, E2],
  ]);
  return { y1, E2, k, H0 };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks the step size and that the increments have one entry per state element. */
export function checkArgsShapes(tab: SriTableau, y: tf.Tensor, h: number, dWSize: number, dZSize: number): void {
  if (!(h > 0 && Number.isFinite(h))) {
    throw new InvalidArgumentError(`sriStep('${tab.name}'): h = ${h}; the step size must be a finite number > 0 (integrate forward in time).`);
  }
  for (const [label, size] of [
    ['dW', dWSize],
    ['dZ', dZSize],
  ] as const) {
    if (size !== y.size) {
      throw new InvalidArgumentError(
        `sriStep('${tab.name}'): ${label} has ${size} elements but y has ${y.size} (shape [${y.shape}]); pass one increment per state element (diagonal noise).`,
      );
    }
  }
}

function checkArgs(tab: SriTableau, y: tf.Tensor, h: number, dW: tf.Tensor, dZ: tf.Tensor): void {
  for (const [label, x] of [
    ['dW', dW],
    ['dZ', dZ],
  ] as const) {
    if (!sameShape(x.shape, y.shape)) {
      throw new InvalidArgumentError(
        `sriStep('${tab.name}'): ${label} has shape [${x.shape}] but y has shape [${y.shape}]; pass one increment per state element (diagonal noise).`,
      );
    }
  }
  checkArgsShapes(tab, y, h, dW.size, dZ.size);
}

/** `out` itself when it is shaped like `y`; throws naming the function and the fix otherwise. */
export function checkOutput(tab: SriTableau, what: 'drift' | 'diffusion', out: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (!sameShape(out.shape, y.shape)) {
    const fix = what === 'diffusion' ? 'diagonal noise: g(t, y) must return one coefficient per state element' : 'f(t, y) must return a tensor shaped like y';
    throw new InvalidArgumentError(`sriStep('${tab.name}'): the ${what} returned shape [${out.shape}] for a state of shape [${y.shape}]; ${fix}.`);
  }
  return out;
}

/**
 * One SRI step from (t, y) to t + h with the Brownian increment dW ~ N(0, h) and an independent
 * dZ ~ N(0, h) per state element (dZ = 2√3·H with H the space-time Lévy area of the step). Only h > 0
 * is supported. Evaluates f and g `tab.evaluationsPerStep` times (4 + 4 for SOSRI/SOSRI2, 2 + 4 for
 * SRIW1). Returns y1 and, on request, the scaled error estimate EEst and the stiffness estimate with
 * the decision that produced it. Intermediate tensors are freed; the results belong to the caller.
 */
export function sriStep(
  tab: SriTableau,
  f: DriftFn,
  g: DiffusionFn,
  t: number,
  y: tf.Tensor,
  h: number,
  dW: tf.Tensor,
  dZ: tf.Tensor,
  tol: Tolerances,
  want: SriStepRequest = {},
): SriStepResult {
  checkArgs(tab, y, h, dW, dZ);
  const wantError = want.error === true;
  const stiff = want.stiffness ? tab.stiffnessStages : undefined;
  const out = tf.tidy(() => {
    const drift = (ti: number, v: tf.Tensor): tf.Tensor => checkOutput(tab, 'drift', f(ti, v), y);
    const diffusion = (ti: number, v: tf.Tensor): tf.Tensor => checkOutput(tab, 'diffusion', g(ti, v), y);
    const { y1, E2, k, H0 } = sriStages(tensorOps, tab, drift, diffusion, t, y, h, dW, dZ);
    const results: tf.Tensor[] = [y1];
    if (wantError) {
      const terms: Term[] = [[1, E2]];
      for (let j = 0; j < tab.errorDriftStages; j++) terms.push([tab.delta * h, k[j] as tf.Tensor]);
      results.push(rmsTensor(terms, { ref0: y, ref1: y1, atol: tol.atol, rtol: tol.rtol }));
    }
    if (stiff) {
      const [p, q] = stiff;
      const kp = k[p] as tf.Tensor;
      const kq = k[q] as tf.Tensor;
      const Hp = H0[p] as tf.Tensor;
      const Hq = H0[q] as tf.Tensor;
      const num = rmsTensor([
        [1, kq],
        [-1, kp],
      ]);
      const dH = tf.sub(Hq, Hp);
      const denMs = tf.mean(tf.square(dH)) as tf.Scalar;
      const reliable = want.stiffnessReliable
        ? (tf.notEqual(tf.reshape(want.stiffnessReliable, []), 0) as tf.Scalar)
        : stiffnessMask(num, denMs, tf.mean(tf.square(Hq)) as tf.Scalar);
      // The denominator of the unused branch is 1, so a zero or tiny ‖ΔH‖ gives neither Inf nor NaN gradients.
      const den = tf.where(reliable, rmsTensor([[1, dH]]), tf.onesLike(num));
      const ratio = tf.where(reliable, tf.div(num, den), tf.zerosLike(num));
      results.push(ratio, reliable);
    }
    return results;
  });
  let n = 1;
  const error = wantError ? (out[n++] as tf.Scalar) : undefined;
  const stiffness = stiff ? (out[n++] as tf.Scalar) : undefined;
  const stiffnessReliable = stiff ? (out[n] as tf.Scalar) : undefined;
  return { y1: out[0], error, stiffness, stiffnessReliable };
}
