/**
 * Dense output (continuous extensions) of explicit Runge–Kutta methods, as data checked when defined.
 *
 * A continuous extension of a step from (t, y) with stages k_1..k_s gives
 * y(t + θ·dt) ≈ y + dt·Σ_i b_i(θ)·k_i for θ ∈ [0, 1], where each b_i is a polynomial in θ with
 * b_i(0) = 0 and b_i(1) = b_i (the method's weights), so θ = 1 reproduces the step's y1. Its order
 * p* means the order conditions hold as polynomials in θ for all rooted trees of order ≤ p*
 * (b(θ)·Φ(tree) = θ^ρ/γ(tree), ρ the tree's order; Hairer–Nørsett–Wanner I, §II.6), so the local
 * error at any θ is O(dt^(p*+1)).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Term } from '../core/arithmetic';
import { ButcherTableau, orderConditionResiduals } from './tableau';

export interface InterpolantSpec {
  /** Order p* of the continuous extension (checked up to 5). */
  readonly order: number;
  /**
   * One row per stage of the tableau; `coefficients[i][p]` is the coefficient of θ^p in b_i(θ),
   * p = 0..degree (the θ^0 column is 0). Every row has the same length.
   */
  readonly coefficients: readonly (readonly number[])[];
  /** Where the coefficients come from (paper or formula). */
  readonly source: string;
}

export interface Interpolant extends InterpolantSpec {
  /** Name of the tableau this interpolant extends, e.g. `tsit5`. */
  readonly method: string;
  /** Number of stage values k_i it combines (the tableau's stage count). */
  readonly stages: number;
  /** Polynomial degree in θ. */
  readonly degree: number;
}

const TOL = 1e-10;
/** θ may exceed [0, 1] by this much (rounding of (t_out − t)/dt); beyond, it is extrapolation. */
const THETA_SLACK = 1e-9;

function fail(method: string, what: string): never {
  throw new Error(`Interpolant for '${method}' is inconsistent: ${what}.`);
}

/** Coefficients of the polynomials b(θ)·Φ(tree) − θ^ρ/γ, by power of θ, for the trees up to `upToOrder`. */
export function continuousOrderResiduals(tab: Pick<ButcherTableau, 'a' | 'c'>, coefficients: readonly (readonly number[])[], upToOrder: number): number[][] {
  const zeros = coefficients.map(() => 0);
  // orderConditionResiduals returns b·Φ(tree) − 1/γ(tree); with b = 0 it yields −1/γ.
  const invGamma = orderConditionResiduals({ ...tab, b: zeros }, upToOrder).map((r) => -r);
  const treeOrder: number[] = [];
  for (let rho = 1; rho <= upToOrder; rho++) {
    const n = orderConditionResiduals({ ...tab, b: zeros }, rho).length;
    while (treeOrder.length < n) treeOrder.push(rho);
  }
  const degree = coefficients[0].length - 1;
  const out = invGamma.map(() => new Array<number>(degree + 1).fill(0));
  for (let p = 0; p <= degree; p++) {
    const column = coefficients.map((row) => row[p]);
    orderConditionResiduals({ ...tab, b: column }, upToOrder).forEach((r, tree) => {
      const lhs = r + invGamma[tree]; // Σ_i r_ip·Φ_i(tree)
      out[tree][p] = lhs - (p === treeOrder[tree] ? invGamma[tree] : 0);
    });
  }
  return out;
}

/**
 * Validates interpolant data against its tableau: one row per stage, b_i(0) = 0, b_i(1) = b_i,
 * Σ_i b_i(θ) = θ, and the continuous order conditions up to `order`, each as polynomials in θ.
 */
export function defineInterpolant(tab: ButcherTableau, spec: InterpolantSpec): Interpolant {
  const method = tab.name;
  const rows = spec.coefficients;
  if (rows.length !== tab.stages) fail(method, `${rows.length} coefficient rows for ${tab.stages} stages`);
  const width = rows[0].length;
  if (width < 2) fail(method, 'rows need at least the θ^0 and θ^1 coefficients');
  rows.forEach((row, i) => {
    if (row.length !== width) fail(method, `row ${i} has ${row.length} coefficients, row 0 has ${width}`);
    if (!row.every(Number.isFinite)) fail(method, `row ${i} has a non-finite coefficient`);
    if (Math.abs(row[0]) > TOL) fail(method, `b_${i}(0) = ${row[0]}, not 0`);
    const atOne = row.reduce((s, x) => s + x, 0);
    if (Math.abs(atOne - tab.b[i]) > TOL) {
      fail(method, `b_${i}(1) = ${atOne}, not the method's weight b[${i}] = ${tab.b[i]}`);
    }
  });
  if (!(Number.isInteger(spec.order) && spec.order >= 1 && spec.order <= 5)) {
    fail(method, `order ${spec.order} must be an integer from 1 to 5 (the checked order conditions)`);
  }
  // Tree #1 (order 1) is consistency: Σ_i b_i(θ) = θ.
  continuousOrderResiduals(tab, rows, spec.order).forEach((poly, tree) => {
    poly.forEach((r, p) => {
      if (Math.abs(r) > TOL) {
        fail(method, `continuous order condition #${tree + 1} has residual ${r} at θ^${p} (claimed order ${spec.order})`);
      }
    });
  });
  return Object.freeze({ ...spec, method, stages: tab.stages, degree: width - 1 });
}

/** The weights b_i(θ), i = 1..s, of the interpolant at θ ∈ [0, 1] (Horner's rule per row). */
export function interpolantWeights(interp: Interpolant, theta: number): number[] {
  if (!(theta >= -THETA_SLACK && theta <= 1 + THETA_SLACK)) {
    throw new Error(
      `Dense output of '${interp.method}' needs θ in [0, 1] (the fraction of the step dt), got ${theta}; ` + 'pick the step that contains the output time.',
    );
  }
  return interp.coefficients.map((row) => {
    let v = 0;
    for (let p = row.length - 1; p >= 0; p--) v = v * theta + row[p];
    return v;
  });
}

/**
 * Terms for `combine(y, terms)` (`combineTensor` or a `StateArithmetic`) that give the dense
 * output y(t + θ·dt) ≈ y + dt·Σ_i b_i(θ)·k_i, with `k` the step's stage values in order.
 */
export function interpolantTerms(interp: Interpolant, theta: number, dt: number, k: readonly tf.Tensor[]): Term[] {
  if (k.length !== interp.stages) {
    throw new Error(`Dense output of '${interp.method}' needs all ${interp.stages} stage values of the step, got ${k.length}.`);
  }
  return interpolantWeights(interp, theta).map((w, i): Term => [dt * w, k[i]]);
}
