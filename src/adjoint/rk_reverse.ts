/**
 * The exact reverse of one explicit Runge–Kutta step, written out by hand.
 *
 * The step (as `rkStepTensor` computes it):
 *   g_1 = y,  g_i = y + dt·Σ_j a_ij k_j,  k_i = f(t + c_i·dt, g_i),
 *   y1 = y + dt·Σ_j b_j k_j  (= g_s for FSAL methods),
 *   E = rms(err / sc),  err = dt·Σ_j bErr_j k_j,  sc = atol + max(|y|, |y1|)·rtol,
 *   S = rms(k_q − k_p) / rms(g_q − g_p),   rms(x) = √max(mean(x²), 1e-30).
 * Optionally also dense outputs y(θ) = y + dt·Σ_j b_j(θ) k_j (the method's interpolant) at
 * fractions θ of the step, whose cotangents go to y and, scaled by dt·b_j(θ), to k_j.
 * Given cotangents of y1, E, S and the dense outputs, the reverse recomputes the stages (keeping each stage's
 * pullback), then sweeps the stages backward: the cotangent K̄_i of k_i is complete once every
 * later stage argument has been processed, its pullback gives the cotangent Ḡ_i of g_i and the
 * parameter gradients, and Ḡ_i flows to y and, through a_ij, to K̄_j (j < i). Derivatives of E and
 * S are those tfjs autodiff takes through `rmsTensor`: the clamp at 1e-30 passes the gradient when
 * mean(x²) ≥ 1e-30, and max(|y|, |y1|) sends it to |y| on ties, with d|x|/dx = −1 at x = 0.
 *
 * Stages whose values no requested quantity depends on (the FSAL stage when E and S carry no
 * cotangent) are not evaluated; zero cotangents of E or S cost nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { combineTensor, rmsTensor, Term } from '../solvers/core/arithmetic';
import { InvalidArgumentError } from '../errors';
import { interpolantWeights } from '../solvers/rk/interpolant';
import { stiffnessRatio } from '../solvers/rk/stepper';
import { Tolerances } from '../solvers/core/stepper';
import { ButcherTableau } from '../solvers/rk/tableau';
import { interpolantFor } from '../solvers/rk/tableaus/interpolants';
import { FieldEval, FieldWithVjp } from './field_vjp';

/** Cotangents of the outputs of one step. */
export interface StepCotangents {
  /** Cotangent of the new state. */
  y1: tf.Tensor;
  /** Cotangent of the scaled error estimate E (0 or absent: E not differentiated). */
  error?: number;
  /** Cotangent of the stiffness estimate S (0 or absent: S not differentiated). */
  stiffness?: number;
  /**
   * Whether S was nonzero in the forward step (`stiffnessRatio` found it reliable). False: S was 0
   * and contributes nothing. Absent: decided on the recomputed values with the same rule as
   * `rkStepTensor`.
   */
  stiffnessActive?: boolean;
  /**
   * Cotangents of dense outputs of the step: `dy` of y(t + θ·dt) = y + dt·Σ_j b_j(θ)·k_j, with
   * b_j(θ) the method's interpolant (absent or empty: none).
   */
  dense?: readonly { readonly theta: number; readonly dy: tf.Tensor }[];
}

/**
 * Which stages the reverse evaluates: k_i when it influences y1, E, S or a dense output (then it
 * gets a cotangent); g_i when its value is read (as the input of k_i, in S, or as y1 = g_s in E).
 * `inDense[i]`: k_i has a nonzero weight in some requested dense output.
 */
function neededStages(tab: ButcherTableau, withError: boolean, withStiffness: boolean, inDense: readonly boolean[]): { k: boolean[]; g: boolean[] } {
  const s = tab.stages;
  const [p, q] = tab.stiffnessStages ?? [-1, -1];
  const k = new Array<boolean>(s).fill(false);
  const g = new Array<boolean>(s).fill(false);
  const gInfluences = new Array<boolean>(s).fill(false);
  for (let i = s - 1; i >= 0; i--) {
    const inS = withStiffness && (i === p || i === q);
    const last = tab.fsal && i === s - 1;
    k[i] =
      (!tab.fsal && tab.b[i] !== 0) ||
      (withError && (tab.bError?.[i] ?? 0) !== 0) ||
      inS ||
      inDense[i] ||
      gInfluences.some((infl, j) => infl && j > i && tab.a[j][i] !== 0);
    gInfluences[i] = k[i] || inS || last;
    g[i] = k[i] || inS || (last && withError);
  }
  return { k, g };
}

/** Appends `t` to the list at `i`. */
function push(lists: tf.Tensor[][], i: number, t: tf.Tensor): void {
  lists[i].push(t);
}

const sumOf = (ts: tf.Tensor[]): tf.Tensor | null => (ts.length === 0 ? null : ts.length === 1 ? ts[0] : tf.addN(ts));

const f32 = Math.fround;
const MS_FLOOR = f32(1e-30);

/**
 * For rms(x) = √max(mean(x²), 1e-30) with cotangent `dRms`: the factor c with dx = 2c·x, i.e.
 * dRms/(2·rms)/n, or 0 when the clamp is active. Rounded to float32 step by step as tfjs's
 * gradients of sqrt, maximum and mean compute it, so that the hand reverse reproduces autodiff to
 * the last bits instead of to the (poor) float32 conditioning of E and S: both are norms of
 * differences of nearly equal stage values.
 */
function rmsGradScale(dRms: number | tf.Scalar, ms: tf.Scalar, n: number): tf.Scalar {
  // As tfjs differentiates sqrt(max(ms, floor)) with ms = mean(x²): computed on the device, so the
  // reverse pass reads nothing back.
  const scale = tf.div(tf.div(dRms, tf.mul(tf.sqrt(ms), 2)), n);
  return tf.where(tf.greaterEqual(ms, MS_FLOOR), scale, tf.zerosLike(scale)) as tf.Scalar;
}

/**
 * The reverse of `rkStepTensor(tab, f, t, y, dt, tol, …)` for the field f of `field`: the gradient
 * of ⟨ct.y1, y1⟩ + ct.error·E + ct.stiffness·S with respect to y and the field's parameters.
 * `nfe` counts evaluations of `field` (an autodiff field re-evaluates f once more in each pullback).
 * Returns new tensors; everything else is freed.
 */
export function rkStepReverse(
  tab: ButcherTableau,
  field: FieldWithVjp,
  t: number,
  y: tf.Tensor,
  dt: number,
  tol: Tolerances,
  ct: StepCotangents,
): { dy: tf.Tensor; dParams: tf.Tensor[]; nfe: number } {
  if (!tf.util.arraysEqual(ct.y1.shape, y.shape)) {
    throw new InvalidArgumentError(`rkStepReverse: the cotangent of y1 has shape [${ct.y1.shape}], the state [${y.shape}]; they must match.`);
  }
  if (!Number.isFinite(t) || !Number.isFinite(dt)) {
    throw new InvalidArgumentError(`rkStepReverse: t and dt must be finite numbers, got t = ${t}, dt = ${dt}.`);
  }
  const s = tab.stages;
  const eps = tab.bError ? (ct.error ?? 0) : 0;
  const sigma = tab.stiffnessStages && ct.stiffnessActive !== false ? (ct.stiffness ?? 0) : 0;
  const denseWeights = denseStageWeights(tab, y, ct.dense ?? []);
  const inDense = Array.from({ length: s }, (_, i) => denseWeights.some((w) => dt * w[i] !== 0));
  const need = neededStages(tab, eps !== 0, sigma !== 0, inDense);

  return tf.tidy(() => {
    // ---- forward: stage arguments and values, keeping each stage's pullback
    let nfe = 0;
    const g: (tf.Tensor | null)[] = new Array<tf.Tensor | null>(s).fill(null);
    const k: (FieldEval | null)[] = new Array<FieldEval | null>(s).fill(null);
    const kv = (j: number): tf.Tensor => {
      const e = k[j];
      if (e === null) throw new Error(`tfjs-neural-de: rkStepReverse needs stage ${j}, which it did not evaluate.`);
      return e.value;
    };
    // [stage index, dt·weight] for the nonzero weights of a row, and the terms they make.
    const weights = (row: readonly number[]): [number, number][] => row.flatMap((w, j): [number, number][] => (dt * w !== 0 ? [[j, dt * w]] : []));
    const coef = (row: readonly number[]): Term[] => weights(row).map(([j, c]): Term => [c, kv(j)]);
    for (let i = 0; i < s; i++) {
      if (!need.g[i]) continue;
      g[i] = i === 0 ? y : combineTensor(y, coef(tab.a[i]));
      if (need.k[i]) {
        k[i] = field(t + tab.c[i] * dt, g[i] as tf.Tensor);
        nfe++;
      }
    }

    // Cotangent terms of k_i and g_i, of y, and of the parameters.
    const kBar: tf.Tensor[][] = Array.from({ length: s }, () => []);
    const gBar: tf.Tensor[][] = Array.from({ length: s }, () => []);
    const yBar: tf.Tensor[] = [];
    const y1Bar: tf.Tensor[] = [ct.y1];

    // ---- scaled error estimate E
    if (eps !== 0) {
      const y1 = tab.fsal ? (g[s - 1] as tf.Tensor) : combineTensor(y, coef(tab.b));
      const errTerms = coef(tab.bError ?? []);
      const err = errTerms.length === 1 ? tf.mul(errTerms[0][1], errTerms[0][0]) : tf.addN(errTerms.map(([c, v]) => tf.mul(v, c)));
      const absY = tf.abs(y);
      const absY1 = tf.abs(y1);
      const sc = tf.add(tol.atol, tf.mul(tf.maximum(absY, absY1), tol.rtol));
      const z = tf.div(err, sc);
      const ms = tf.mean(tf.square(z)) as tf.Scalar;
      const scale = rmsGradScale(f32(eps), ms, z.size);
      {
        const dz = tf.mul(z, tf.mul(scale, 2));
        const dErr = tf.div(dz, sc);
        for (const [j, c] of weights(tab.bError ?? [])) push(kBar, j, tf.mul(dErr, c));
        if (tol.rtol !== 0) {
          // sc = atol + max(|y|, |y1|)·rtol: d sc = −dz·err/sc²; the max passes it to |y| where
          // |y| ≥ |y1| (to |y1| elsewhere); d|x|/dx = step(x, −1).
          const dMag = tf.mul(tf.neg(tf.div(tf.mul(dz, err), tf.square(sc))), tol.rtol);
          yBar.push(tf.mul(tf.mul(dMag, tf.cast(tf.greaterEqual(absY, absY1), 'float32')), tf.step(y, -1)));
          y1Bar.push(tf.mul(tf.mul(dMag, tf.cast(tf.less(absY, absY1), 'float32')), tf.step(y1, -1)));
        }
      }
    }

    // ---- stiffness estimate S = rms(k_q − k_p) / rms(g_q − g_p)
    if (sigma !== 0 && tab.stiffnessStages) {
      const [p, q] = tab.stiffnessStages;
      const gp = g[p] as tf.Tensor;
      const gq = g[q] as tf.Tensor;
      const dk = tf.sub(kv(q), kv(p));
      const dg = tf.sub(gq, gp);
      const msNum = tf.mean(tf.square(dk)) as tf.Scalar;
      const msDen = tf.mean(tf.square(dg)) as tf.Scalar;
      const num = tf.sqrt(tf.maximum(msNum, MS_FLOOR));
      const den = tf.sqrt(tf.maximum(msDen, MS_FLOOR));
      // Without the forward decision (direct use), decide here with the rule of the forward step.
      const active = ct.stiffnessActive ?? stiffnessRatio(num.dataSync()[0], den.dataSync()[0], () => rmsTensor([[1, gq]]).dataSync()[0]) !== 0;
      if (active) {
        // S = num/den: dS/dnum = 1/den, dS/dden = −num/den².
        const scaleNum = rmsGradScale(tf.div(f32(sigma), den) as tf.Scalar, msNum, dk.size);
        const scaleDen = rmsGradScale(tf.neg(tf.div(tf.mul(f32(sigma), num), tf.square(den))) as tf.Scalar, msDen, dg.size);
        const dK = tf.mul(dk, tf.mul(scaleNum, 2));
        push(kBar, q, dK);
        push(kBar, p, tf.neg(dK));
        const dG = tf.mul(dg, tf.mul(scaleDen, 2));
        push(gBar, q, dG);
        push(gBar, p, tf.neg(dG));
      }
    }

    // ---- dense outputs y(θ) = y + Σ_j dt·b_j(θ)·k_j
    const dense = ct.dense ?? [];
    for (const { dy } of dense) yBar.push(dy);
    if (dense.length === 1) {
      for (const [j, c] of weights(denseWeights[0])) push(kBar, j, tf.mul(dense[0].dy, c));
    } else if (dense.length > 1) {
      // K̄_j += Σ_m dt·b_j(θ_m)·dy_m for every stage at once: one product (stages × outputs)·(outputs × n)
      // instead of a multiply per stage and output (small states pay per kernel, not per element).
      const stages = Array.from({ length: s }, (_, j) => j).filter((j) => denseWeights.some((w) => dt * w[j] !== 0));
      const coeffs = tf.tensor2d(
        stages.flatMap((j) => denseWeights.map((w) => dt * w[j])),
        [stages.length, dense.length],
      );
      const dys = tf.reshape(tf.stack(dense.map((d) => d.dy)), [dense.length, -1]);
      const rows = tf.unstack(tf.matMul(coeffs, dys));
      stages.forEach((j, r) => push(kBar, j, tf.reshape(rows[r], y.shape)));
    }

    // ---- new state
    const y1Ct = sumOf(y1Bar) as tf.Tensor;
    if (tab.fsal) {
      push(gBar, s - 1, y1Ct);
    } else {
      yBar.push(y1Ct);
      for (const [j, c] of weights(tab.b)) push(kBar, j, tf.mul(y1Ct, c));
    }

    // ---- backward sweep over the stages
    const pBar: tf.Tensor[][] = [];
    for (let i = s - 1; i >= 0; i--) {
      const kCt = sumOf(kBar[i]);
      if (kCt !== null) {
        const e = k[i];
        if (e === null) throw new Error(`tfjs-neural-de: rkStepReverse has a cotangent for stage ${i}, which it did not evaluate.`);
        const { dy, dParams } = e.pullback(kCt);
        push(gBar, i, dy);
        dParams.forEach((d, m) => (pBar[m] ??= []).push(d));
      }
      const gCt = sumOf(gBar[i]);
      if (gCt === null) continue;
      yBar.push(gCt);
      if (i > 0) {
        for (const [j, c] of weights(tab.a[i])) push(kBar, j, tf.mul(gCt, c));
      }
    }

    let dParams = pBar.map((ts) => sumOf(ts) as tf.Tensor);
    if (pBar.length === 0) {
      // No stage was pulled back (dt = 0): zeros shaped like the parameters.
      const e = k[0] ?? field(t, y);
      if (k[0] === null) nfe++;
      dParams = e.pullback(tf.zerosLike(e.value)).dParams.map((d) => tf.zerosLike(d));
    }
    // Never hand back the caller's own tensor (ct.y1 or a dense cotangent alone is the cotangent of y when dt = 0).
    const dy = sumOf(yBar) ?? tf.zerosLike(y);
    const own = dy === ct.y1 || (ct.dense ?? []).some((d) => d.dy === dy);
    return { dy: own ? tf.clone(dy) : dy, dParams, nfe };
  });
}

/** The interpolant weights b_j(θ) of each requested dense output (checked: method, shapes). */
function denseStageWeights(tab: ButcherTableau, y: tf.Tensor, dense: readonly { theta: number; dy: tf.Tensor }[]): number[][] {
  if (dense.length === 0) return [];
  const interp = interpolantFor(tab);
  if (!interp) throw new InvalidArgumentError(`rkStepReverse: solver '${tab.name}' has no dense output, but cotangents of dense outputs were given.`);
  return dense.map(({ theta, dy }) => {
    if (!tf.util.arraysEqual(dy.shape, y.shape)) {
      throw new InvalidArgumentError(
        `rkStepReverse: the cotangent of the dense output at θ = ${theta} has shape [${dy.shape}], the state [${y.shape}]; they must match.`,
      );
    }
    return interpolantWeights(interp, theta);
  });
}
