/**
 * Butcher tableaus as data, checked when they are defined.
 *
 * A tableau with `s` stages has nodes `c` (length s, c[0] = 0), a strictly lower-triangular
 * matrix `a` given as rows (row i has i entries), solution weights `b` and, for adaptive methods,
 * error weights `bError` (the embedded solution's weights minus `b`; they sum to 0) so that the
 * local error estimate of a step of size h is `h·Σ bError_i·k_i`.
 */

import { ControllerCoefficients } from '../core/controller';

export interface TableauSpec {
  /** Lowercase solver name, e.g. `tsit5`. */
  readonly name: string;
  readonly c: readonly number[];
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  /** Error weights (embedded minus main weights); absent for fixed-step methods. */
  readonly bError?: readonly number[];
  /** Order of the propagated solution (`alg_order`, used by the initial-step heuristic). */
  readonly order: number;
  /**
   * Stage indices (0-based) of two stages evaluated at the same node whose difference gives the
   * stiffness estimate ‖k_q − k_p‖ / ‖g_q − g_p‖ (Shampine; Hairer II p. 22).
   */
  readonly stiffnessStages?: readonly [number, number];
  /** Size of the method's stability region along the negative real axis (`alg_stability_size`). */
  readonly stabilitySize?: number;
  /** PI-controller exponents; default beta1 = 7/(10·order), beta2 = 2/(5·order). */
  readonly controller?: ControllerCoefficients;
}

export interface ButcherTableau extends TableauSpec {
  readonly stages: number;
  /** First-same-as-last: the last stage is evaluated at the new state and reused as the next step's first stage. */
  readonly fsal: boolean;
  readonly adaptive: boolean;
  readonly controller: ControllerCoefficients;
}

const TOL = 1e-10;

function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

function fail(name: string, what: string): never {
  throw new Error(`Butcher tableau '${name}' is inconsistent: ${what}.`);
}

/**
 * Order conditions for explicit RK methods up to order 5 (the 17 rooted trees), as residuals
 * (b·Φ(tree) − 1/γ(tree)). Used to check that coefficients typed in as data match the order they claim.
 */
export function orderConditionResiduals(t: Pick<TableauSpec, 'a' | 'b' | 'c'>, upToOrder: number): number[] {
  const s = t.c.length;
  type V = number[];
  const c: V = t.c.slice();
  const mul = (x: V, y: V): V => x.map((xi, i) => xi * y[i]);
  const A = (x: V): V => x.map((_, i) => t.a[i].reduce((r, aij, j) => r + aij * x[j], 0));
  const b = (x: V): number => t.b.reduce((r, bi, i) => r + bi * x[i], 0);
  const one: V = new Array<number>(s).fill(1);
  const c2 = mul(c, c);
  const c3 = mul(c2, c);
  const Ac = A(c);
  const conditions: [number, number, () => number][] = [
    [1, 1, () => b(one)],
    [2, 1 / 2, () => b(c)],
    [3, 1 / 3, () => b(c2)],
    [3, 1 / 6, () => b(Ac)],
    [4, 1 / 4, () => b(c3)],
    [4, 1 / 8, () => b(mul(c, Ac))],
    [4, 1 / 12, () => b(A(c2))],
    [4, 1 / 24, () => b(A(Ac))],
    [5, 1 / 5, () => b(mul(c3, c))],
    [5, 1 / 10, () => b(mul(c2, Ac))],
    [5, 1 / 15, () => b(mul(c, A(c2)))],
    [5, 1 / 30, () => b(mul(c, A(Ac)))],
    [5, 1 / 20, () => b(mul(Ac, Ac))],
    [5, 1 / 20, () => b(A(c3))],
    [5, 1 / 40, () => b(A(mul(c, Ac)))],
    [5, 1 / 60, () => b(A(A(c2)))],
    [5, 1 / 120, () => b(A(A(Ac)))],
  ];
  return conditions.filter(([order]) => order <= upToOrder).map(([, rhs, lhs]) => lhs() - rhs);
}

/** Validates a tableau spec and derives `stages`, `fsal`, `adaptive` and controller defaults. */
export function defineTableau(spec: TableauSpec): ButcherTableau {
  const { name, c, a, b, bError } = spec;
  const s = c.length;
  if (s < 1) fail(name, 'no stages');
  if (a.length !== s) fail(name, `a has ${a.length} rows for ${s} stages`);
  if (b.length !== s) fail(name, `b has ${b.length} weights for ${s} stages`);
  if (c[0] !== 0) fail(name, 'c[0] must be 0 for an explicit method');
  for (let i = 0; i < s; i++) {
    if (a[i].length !== i) fail(name, `row ${i} of a must have ${i} entries (explicit method)`);
    const rowSum = sum(a[i]);
    if (Math.abs(rowSum - c[i]) > TOL) fail(name, `row ${i} of a sums to ${rowSum}, not c[${i}] = ${c[i]}`);
  }
  if (Math.abs(sum(b) - 1) > TOL) fail(name, `weights b sum to ${sum(b)}, not 1`);
  if (bError) {
    if (bError.length !== s) fail(name, `bError has ${bError.length} weights for ${s} stages`);
    if (Math.abs(sum(bError)) > TOL) fail(name, `error weights sum to ${sum(bError)}, not 0`);
    if (bError.every((x) => x === 0)) fail(name, 'error weights are all zero');
  }
  const maxCheckedOrder = Math.min(spec.order, 5);
  orderConditionResiduals(spec, maxCheckedOrder).forEach((r, i) => {
    if (Math.abs(r) > 1e-9) fail(name, `order condition #${i + 1} has residual ${r} (claimed order ${spec.order})`);
  });
  const last = a[s - 1];
  const fsal = s > 1 && c[s - 1] === 1 && b[s - 1] === 0 && last.every((x, j) => Math.abs(x - b[j]) <= TOL);
  if (spec.stiffnessStages) {
    const [p, q] = spec.stiffnessStages;
    if (!(p >= 0 && q < s && p < q && c[p] === c[q])) {
      fail(name, `stiffness stages [${p}, ${q}] must be two distinct stages at the same node`);
    }
  }
  const controller = spec.controller ?? { beta1: 7 / (10 * spec.order), beta2: 2 / (5 * spec.order) };
  return Object.freeze({ ...spec, stages: s, fsal, adaptive: bError !== undefined, controller });
}
