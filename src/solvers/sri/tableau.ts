/**
 * Stochastic Runge–Kutta tableaus of Rößler's SRI form (Itô SDEs, diagonal or scalar noise) as data,
 * checked when they are defined.
 *
 * An s-stage SRI method has drift nodes `c0`, diffusion nodes `c1`, four strictly lower-triangular
 * matrices given as rows (row i has i entries): `A0` (drift into drift stages), `A1` (drift into
 * diffusion stages), `B0` (diffusion into drift stages, times chi2 = I_(1,0)/h) and `B1` (diffusion
 * into diffusion stages, times √h), the drift weights `alpha` and the four diffusion weight vectors
 * `beta1` (× ΔW), `beta2` (× I_(1,1)/√h), `beta3` (× I_(1,0)/h), `beta4` (× I_(1,1,1)/h).
 * The step itself is in `step.ts`; the formulas are those of Rößler (2010), "Runge–Kutta methods for
 * the strong approximation of solutions of stochastic differential equations", SIAM J. Numer. Anal.
 * 48(3), and Rackauckas & Nie (2017, 2018) for the error estimate and the stability-optimized methods.
 */
import { ControllerDefaults } from '../core/controller';

export interface SriTableauSpec {
  /** Lowercase solver name, e.g. `sosri`. */
  readonly name: string;
  /** Drift nodes c⁽⁰⁾ (row sums of A0). */
  readonly c0: readonly number[];
  /** Diffusion nodes c⁽¹⁾ (row sums of A1). */
  readonly c1: readonly number[];
  readonly A0: readonly (readonly number[])[];
  readonly A1: readonly (readonly number[])[];
  readonly B0: readonly (readonly number[])[];
  readonly B1: readonly (readonly number[])[];
  /** Drift weights α. */
  readonly alpha: readonly number[];
  /** Weights of the diffusion stages times ΔW. */
  readonly beta1: readonly number[];
  /** Weights of the diffusion stages times chi1 = I_(1,1)/√h. */
  readonly beta2: readonly number[];
  /** Weights of the diffusion stages times chi2 = I_(1,0)/h (part of the error estimate E2). */
  readonly beta3: readonly number[];
  /** Weights of the diffusion stages times chi3 = I_(1,1,1)/h (part of the error estimate E2). */
  readonly beta4: readonly number[];
  /** Weight δ of the drift error estimate E1 in EEst = RMS((δ·E1 + E2)/scale). */
  readonly delta: number;
  /**
   * Number of leading drift stages summed in E1 = h·Σ_{i < errorDriftStages} k_i (default: all
   * stages). SRIW1 uses 2 (StochasticDiffEq's `error_terms`), the four-stage SOSRI methods all 4.
   */
  readonly errorDriftStages?: number;
  /** Strong order; the order conditions are checked for 1.5 (the only order implemented). */
  readonly order: number;
  /**
   * Drift stage indices (0-based) [p, q] at (about) the same node whose difference gives the stiffness
   * estimate ‖k_q − k_p‖ / ‖H0_q − H0_p‖.
   */
  readonly stiffnessStages?: readonly [number, number];
  /** Size of the stability region along the negative real axis (`alg_stability_size`). */
  readonly stabilitySize?: number;
  /** Overrides of the SDE controller defaults. */
  readonly controller?: Partial<ControllerDefaults>;
}

export interface SriTableau extends SriTableauSpec {
  readonly stages: number;
  readonly errorDriftStages: number;
  readonly controller: ControllerDefaults;
  /** Default tolerances of an adaptive SDE solve (abstol = reltol = 1e-2). */
  readonly tolerances: { readonly atol: number; readonly rtol: number };
  /** How a step obtains each drift stage k_i (see `SriStagePlan`). SRIW1 evaluates 2 of its 4. */
  readonly driftPlan: readonly SriStagePlan[];
  /** How a step obtains each diffusion stage g_i. */
  readonly diffusionPlan: readonly SriStagePlan[];
  /** Drift and diffusion evaluations per step (the `evaluate` entries of the plans). */
  readonly evaluationsPerStep: { readonly drift: number; readonly diffusion: number };
}

/**
 * How a step obtains stage i: `evaluate` it; reuse stage 0 (`first`: its row of the stage matrices is
 * zero and its node equals stage 0's, so its argument and time are those of stage 0); or `skip` it
 * (no weight in the result, the error or stiffness estimate, and no later stage reads it).
 */
export type SriStagePlan = 'evaluate' | 'first' | 'skip';

/** One order condition of an SRI method: a label (the formula) and its residual lhs − rhs. */
export interface SriOrderCondition {
  readonly label: string;
  readonly residual: number;
}

/** Residual bound above which `defineSriTableau` rejects a tableau. */
export const SRI_ORDER_TOL = 1e-10;

/**
 * StochasticDiffEq's step-size control defaults for adaptive SDE methods of strong order `order`: a PI controller on
 * the strong order, growth per accepted step capped at `qmax` = 9/8 (much tighter than the ODE default of 10).
 */
export function sdeControllerDefaults(order: number): ControllerDefaults {
  return { beta1: 7 / (10 * order), beta2: 2 / (5 * order), safety: 9 / 10, qmax: 9 / 8, qmin: 1 / 5, qoldinit: 1e-4 };
}

type Vec = readonly number[];
type Rows = readonly (readonly number[])[];

const dot = (x: Vec, y: Vec): number => x.reduce((r, xi, i) => r + xi * y[i], 0);
/** M·x for a lower-triangular matrix given as rows (row i has i entries). */
const matVec = (M: Rows, x: Vec): number[] => M.map((row) => row.reduce((r, mij, j) => r + mij * x[j], 0));
const square = (x: Vec): number[] => x.map((xi) => xi * xi);

/**
 * Rößler's conditions for strong order 1.5 of an SRI method applied to Itô SDEs with scalar or
 * diagonal noise (Rößler 2010, SIAM J. Numer. Anal. 48(3); the list StochasticDiffEq's
 * `checkSRIOrder` checks), as residuals lhs − rhs. Vectors are products with e = (1, …, 1); squares
 * are elementwise. Conditions 1–5 give order 0.5, 6–9 order 1, 10–25 order 1.5.
 */
export function sriOrderConditions(t: Pick<SriTableauSpec, 'A0' | 'A1' | 'B0' | 'B1' | 'alpha' | 'beta1' | 'beta2' | 'beta3' | 'beta4'>): SriOrderCondition[] {
  const e = t.alpha.map(() => 1);
  const A0e = matVec(t.A0, e);
  const A1e = matVec(t.A1, e);
  const B0e = matVec(t.B0, e);
  const B1e = matVec(t.B1, e);
  const B1e2 = square(B1e);
  const B1B1e = matVec(t.B1, B1e);
  const A1B0e = matVec(t.A1, B0e);
  const betas = [t.beta1, t.beta2, t.beta3, t.beta4];
  const cond: [string, number, number][] = [];
  cond.push(['αᵀe', dot(t.alpha, e), 1]);
  betas.forEach((b, i) => cond.push([`β${i + 1}ᵀe`, dot(b, e), i === 0 ? 1 : 0]));
  betas.forEach((b, i) => cond.push([`β${i + 1}ᵀB1e`, dot(b, B1e), i === 1 ? 1 : 0]));
  cond.push(['αᵀA0e', dot(t.alpha, A0e), 1 / 2]);
  cond.push(['αᵀB0e', dot(t.alpha, B0e), 1]);
  cond.push(['αᵀ(B0e)²', dot(t.alpha, square(B0e)), 3 / 2]);
  const rhsA1e = [1, 0, -1, 0];
  const rhsB1e2 = [1, 0, -1, 2];
  const rhsB1B1e = [0, 0, 0, 1];
  betas.forEach((b, i) => cond.push([`β${i + 1}ᵀA1e`, dot(b, A1e), rhsA1e[i]]));
  betas.forEach((b, i) => cond.push([`β${i + 1}ᵀ(B1e)²`, dot(b, B1e2), rhsB1e2[i]]));
  betas.forEach((b, i) => cond.push([`β${i + 1}ᵀB1(B1e)`, dot(b, B1B1e), rhsB1B1e[i]]));
  cond.push(['½β1ᵀA1(B0e) + ⅓β3ᵀA1(B0e)', dot(t.beta1, A1B0e) / 2 + dot(t.beta3, A1B0e) / 3, 0]);
  return cond.map(([label, lhs, rhs]) => ({ label, residual: lhs - rhs }));
}

function fail(name: string, what: string): never {
  throw new Error(`SRI tableau '${name}' is inconsistent: ${what}.`);
}

function checkLowerTriangular(name: string, label: string, M: Rows, s: number): void {
  if (M.length !== s) fail(name, `${label} has ${M.length} rows for ${s} stages`);
  M.forEach((row, i) => {
    if (row.length !== i) fail(name, `row ${i} of ${label} must have ${i} entries (explicit method)`);
  });
}

function checkRowSums(name: string, label: string, M: Rows, c: Vec, cLabel: string): void {
  M.forEach((row, i) => {
    const rowSum = row.reduce((r, x) => r + x, 0);
    if (Math.abs(rowSum - c[i]) > SRI_ORDER_TOL) {
      fail(name, `row ${i} of ${label} sums to ${rowSum}, not ${cLabel}[${i}] = ${c[i]}`);
    }
  });
}

/** Stage j of M's column feeds a later stage (some row i > j has a nonzero entry j). */
const feedsLater = (M: Rows, j: number): boolean => M.some((row, i) => i > j && row[j] !== 0);

function stagePlan(used: boolean[], A: Rows, B: Rows, c: Vec): SriStagePlan[] {
  return used.map((u, i) => {
    if (!u) return 'skip';
    const sameAsFirst = i > 0 && c[i] === c[0] && A[i].every((x) => x === 0) && B[i].every((x) => x === 0);
    return sameAsFirst ? 'first' : 'evaluate';
  });
}

/**
 * Validates an SRI tableau spec (shapes, row sums against c0 and c1, Σα = 1 and every order condition
 * of strong order 1.5 to 1e-10) and derives the stage counts, the stages a step must evaluate, and the
 * controller and tolerance defaults.
 */
export function defineSriTableau(spec: SriTableauSpec): SriTableau {
  const { name } = spec;
  const s = spec.alpha.length;
  if (s < 1) fail(name, 'no stages');
  if (spec.order !== 1.5) fail(name, `strong order ${spec.order} is not supported (only SRI methods of order 1.5 are checked)`);
  for (const [label, v] of [
    ['c0', spec.c0],
    ['c1', spec.c1],
    ['beta1', spec.beta1],
    ['beta2', spec.beta2],
    ['beta3', spec.beta3],
    ['beta4', spec.beta4],
  ] as const) {
    if (v.length !== s) fail(name, `${label} has ${v.length} entries for ${s} stages`);
  }
  for (const [label, M] of [
    ['A0', spec.A0],
    ['A1', spec.A1],
    ['B0', spec.B0],
    ['B1', spec.B1],
  ] as const) {
    checkLowerTriangular(name, label, M, s);
  }
  checkRowSums(name, 'A0', spec.A0, spec.c0, 'c0');
  checkRowSums(name, 'A1', spec.A1, spec.c1, 'c1');
  const sumAlpha = spec.alpha.reduce((r, x) => r + x, 0);
  if (Math.abs(sumAlpha - 1) > SRI_ORDER_TOL) fail(name, `weights α sum to ${sumAlpha}, not 1`);
  sriOrderConditions(spec).forEach(({ label, residual }, i) => {
    if (!(Math.abs(residual) <= SRI_ORDER_TOL)) {
      fail(name, `order condition #${i + 1} (${label}) has residual ${residual} (strong order 1.5 needs |residual| ≤ ${SRI_ORDER_TOL})`);
    }
  });
  if (!(spec.delta >= 0 && Number.isFinite(spec.delta))) fail(name, `δ = ${spec.delta} must be a finite number ≥ 0`);
  const errorDriftStages = spec.errorDriftStages ?? s;
  if (!(Number.isInteger(errorDriftStages) && errorDriftStages >= 1 && errorDriftStages <= s)) {
    fail(name, `errorDriftStages = ${errorDriftStages} must be an integer in [1, ${s}]`);
  }
  const stiff = spec.stiffnessStages;
  if (stiff) {
    const [p, q] = stiff;
    if (!(p >= 0 && q < s && p < q && Math.abs(spec.c0[p] - spec.c0[q]) <= 1e-10)) {
      fail(name, `stiffness stages [${p}, ${q}] must be two distinct drift stages at the same node c0`);
    }
  }
  const driftPlan = stagePlan(
    spec.alpha.map((a, j) => a !== 0 || j < errorDriftStages || (stiff !== undefined && stiff.includes(j)) || feedsLater(spec.A0, j) || feedsLater(spec.A1, j)),
    spec.A0,
    spec.B0,
    spec.c0,
  );
  const diffusionPlan = stagePlan(
    spec.alpha.map(
      (_, j) => spec.beta1[j] !== 0 || spec.beta2[j] !== 0 || spec.beta3[j] !== 0 || spec.beta4[j] !== 0 || feedsLater(spec.B0, j) || feedsLater(spec.B1, j),
    ),
    spec.A1,
    spec.B1,
    spec.c1,
  );
  if (stiff && stiff.some((j) => driftPlan[j] !== 'evaluate')) {
    fail(name, `stiffness stages [${stiff}] must be evaluated stages (not copies of stage 0)`);
  }
  const count = (plan: SriStagePlan[]): number => plan.filter((p) => p === 'evaluate').length;
  const controller = { ...sdeControllerDefaults(spec.order), ...spec.controller };
  return Object.freeze({
    ...spec,
    stages: s,
    errorDriftStages,
    controller,
    tolerances: { atol: 1e-2, rtol: 1e-2 },
    driftPlan,
    diffusionPlan,
    evaluationsPerStep: { drift: count(driftPlan), diffusion: count(diffusionPlan) },
  });
}
