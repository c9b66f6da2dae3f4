/**
 * Dense output: the coefficient data is consistent with its tableau, and the interpolation error of
 * one step at interior θ shrinks like dt^(p*+1) (p* the interpolant's order), measured in float64
 * plain JS against a fine float64 RK4 reference. One float32 tensor test checks the `Term[]` helper.
 */
import * as tf from '@tensorflow/tfjs-core';
import { combineTensor, hostArithmetic } from '../../../src/solvers/core/arithmetic';
import { continuousOrderResiduals, defineInterpolant, Interpolant, interpolantTerms, interpolantWeights } from '../../../src/solvers/rk/interpolant';
import { rkStages } from '../../../src/solvers/rk/stepper';
import { ButcherTableau } from '../../../src/solvers/rk/tableau';
import { bosh3 } from '../../../src/solvers/rk/tableaus/bosh3';
import { dopri5 } from '../../../src/solvers/rk/tableaus/dopri5';
import { euler, midpoint, rk4 } from '../../../src/solvers/rk/tableaus/fixed';
import { bosh3Interpolant, dopri5Interpolant, interpolantFor, tsit5Interpolant } from '../../../src/solvers/rk/tableaus/interpolants';
import { tsit5 } from '../../../src/solvers/rk/tableaus/tsit5';
import { logLogSlope } from '../../support/helpers';

type Vec = number[];
type Field = (t: number, y: Vec) => Vec;

const METHODS: [ButcherTableau, Interpolant][] = [
  [tsit5, tsit5Interpolant],
  [dopri5, dopri5Interpolant],
  [bosh3, bosh3Interpolant],
];

// ------------------------------------------------------------ float64 helpers (plain JS)

/** y + Σ c_j·v_j. */
function axpy(y: Vec, terms: [number, Vec][]): Vec {
  return y.map((yi, n) => terms.reduce((s, [c, v]) => s + c * v[n], yi));
}

/** Stage values k_i and y1 of one step, in float64. */
function stages64(tab: ButcherTableau, f: Field, t: number, y: Vec, dt: number): { k: Vec[]; y1: Vec } {
  const k: Vec[] = [];
  for (let i = 0; i < tab.stages; i++) {
    const g = axpy(
      y,
      tab.a[i].map((aij, j): [number, Vec] => [dt * aij, k[j]]),
    );
    k.push(f(t + tab.c[i] * dt, g));
  }
  return {
    k,
    y1: axpy(
      y,
      tab.b.map((bj, j): [number, Vec] => [dt * bj, k[j]]),
    ),
  };
}

function dense64(interp: Interpolant, y: Vec, k: Vec[], dt: number, theta: number): Vec {
  return axpy(
    y,
    interpolantWeights(interp, theta).map((w, i): [number, Vec] => [dt * w, k[i]]),
  );
}

/** Classical RK4 with n equal substeps from t0 to t1: the float64 reference solution. */
function rk4Reference(f: Field, t0: number, y0: Vec, t1: number, n: number): Vec {
  const h = (t1 - t0) / n;
  let y = y0;
  for (let m = 0; m < n; m++) {
    const t = t0 + m * h;
    const k1 = f(t, y);
    const k2 = f(t + h / 2, axpy(y, [[h / 2, k1]]));
    const k3 = f(t + h / 2, axpy(y, [[h / 2, k2]]));
    const k4 = f(t + h, axpy(y, [[h, k3]]));
    y = axpy(y, [
      [h / 6, k1],
      [h / 3, k2],
      [h / 3, k3],
      [h / 6, k4],
    ]);
  }
  return y;
}

const maxAbsDiff = (x: Vec, y: Vec): number => Math.max(...x.map((xi, n) => Math.abs(xi - y[n])));

const MU = 1;
const PROBLEMS: { name: string; f: Field; t0: number; y0: Vec }[] = [
  { name: "y' = -y", f: (_t, y) => [-y[0]], t0: 0, y0: [1] },
  { name: 'damped rotation', f: (_t, y) => [-0.2 * y[0] - 2 * y[1], 2 * y[0] - 0.2 * y[1]], t0: 0, y0: [1, 0.5] },
  { name: 'Van der Pol (mu = 1)', f: (_t, y) => [y[1], MU * (1 - y[0] * y[0]) * y[1] - y[0]], t0: 0.3, y0: [2, -0.5] },
];

const DTS = [0.2, 0.1, 0.05, 0.025];
const THETAS = [0.3, 0.5, 0.7];
/** RK4 substeps of the reference over [t, t + θ·dt]: its error is ~1e-10 of the measured one. */
const REF_SUBSTEPS = 400;

/** max over interior θ of ‖dense output − reference‖_∞ after one step of size dt. */
function interiorError(tab: ButcherTableau, interp: Interpolant, p: (typeof PROBLEMS)[number], dt: number): number {
  const { k } = stages64(tab, p.f, p.t0, p.y0, dt);
  return Math.max(...THETAS.map((th) => maxAbsDiff(dense64(interp, p.y0, k, dt, th), rk4Reference(p.f, p.t0, p.y0, p.t0 + th * dt, REF_SUBSTEPS))));
}

// ------------------------------------------------------------ coefficient data

describe('interpolant data', () => {
  test.each(METHODS.map(([tab, it]) => [tab.name, tab, it] as const))('%s: b(0) = 0, b(1) = b, Σ b(θ) = θ', (_n, tab, it) => {
    expect(it.stages).toBe(tab.stages);
    expect(interpolantWeights(it, 0)).toEqual(new Array(tab.stages).fill(0));
    interpolantWeights(it, 1).forEach((w, i) => expect(Math.abs(w - tab.b[i])).toBeLessThan(1e-14));
    for (const th of [0.1, 0.37, 0.5, 0.9]) {
      expect(Math.abs(interpolantWeights(it, th).reduce((s, w) => s + w, 0) - th)).toBeLessThan(1e-14);
    }
  });

  test('continuous order conditions hold as polynomials up to the claimed order, and fail one order higher', () => {
    for (const [tab, it] of METHODS) {
      const claimed = continuousOrderResiduals(tab, it.coefficients, it.order).flat();
      expect(Math.max(...claimed.map(Math.abs))).toBeLessThan(1e-13);
      const higher = continuousOrderResiduals(tab, it.coefficients, it.order + 1).flat();
      expect(Math.max(...higher.map(Math.abs))).toBeGreaterThan(1e-2);
    }
    expect([tsit5Interpolant.order, dopri5Interpolant.order, bosh3Interpolant.order]).toEqual([4, 4, 3]);
  });

  test('θ = 1 reproduces the step y1 in float64', () => {
    const p = PROBLEMS[2];
    for (const [tab, it] of METHODS) {
      const { k, y1 } = stages64(tab, p.f, p.t0, p.y0, 0.1);
      expect(maxAbsDiff(dense64(it, p.y0, k, 0.1, 1), y1)).toBeLessThan(1e-15);
    }
  });

  test('self-check rejects inconsistent data with a message naming the defect', () => {
    const rows = tsit5Interpolant.coefficients.map((r) => r.slice());
    const spec = { order: 4, source: 'test', coefficients: rows };
    expect(() => defineInterpolant(tsit5, spec)).not.toThrow();
    expect(() => defineInterpolant(tsit5, { ...spec, coefficients: rows.slice(1) })).toThrow(
      "Interpolant for 'tsit5' is inconsistent: 6 coefficient rows for 7 stages.",
    );
    const shifted = rows.map((r, i) => (i === 1 ? [1e-3, ...r.slice(1)] : r));
    expect(() => defineInterpolant(tsit5, { ...spec, coefficients: shifted })).toThrow(/b_1\(0\) = 0.001, not 0/);
    const wrongEnd = rows.map((r, i) => (i === 2 ? [...r.slice(0, 4), r[4] + 1e-6] : r));
    expect(() => defineInterpolant(tsit5, { ...spec, coefficients: wrongEnd })).toThrow(/b_2\(1\) = .* not the method's weight b\[2\]/);
    // Moving weight between two θ powers of one row keeps b(0), b(1) but breaks Σ b(θ) = θ (tree #1).
    const skew = rows.map((r, i) => (i === 3 ? [0, r[1], r[2] + 1e-6, r[3] - 1e-6, r[4]] : r));
    expect(() => defineInterpolant(tsit5, { ...spec, coefficients: skew })).toThrow(/continuous order condition #1 has residual/);
    // Hermite interpolation of bosh3 is order 3, not 4.
    expect(() => defineInterpolant(bosh3, { ...bosh3Interpolant, order: 4 })).toThrow(/claimed order 4/);
    expect(() => defineInterpolant(bosh3, { ...bosh3Interpolant, order: 6 })).toThrow(/order 6 must be an integer from 1 to 5/);
  });

  test('lookup: adaptive methods have dense output, fixed-step methods none', () => {
    expect(interpolantFor(tsit5)).toBe(tsit5Interpolant);
    expect(interpolantFor('dopri5')).toBe(dopri5Interpolant);
    expect(interpolantFor('bosh3')).toBe(bosh3Interpolant);
    for (const tab of [euler, midpoint, rk4]) expect(interpolantFor(tab)).toBeUndefined();
    expect(interpolantFor('toString')).toBeUndefined();
  });

  test('θ outside [0, 1] and a wrong number of stages are rejected', () => {
    expect(() => interpolantWeights(tsit5Interpolant, 1.01)).toThrow(/needs θ in \[0, 1\].*got 1.01/);
    expect(() => interpolantWeights(tsit5Interpolant, NaN)).toThrow(/got NaN/);
    expect(() => interpolantWeights(tsit5Interpolant, 1 + 1e-12)).not.toThrow();
    const k = [tf.zeros([2])];
    expect(() => interpolantTerms(bosh3Interpolant, 0.5, 0.1, k)).toThrow('needs all 4 stage values of the step, got 1');
    k.forEach((x) => x.dispose());
  });
});

// ------------------------------------------------------------ convergence (float64)

describe('interpolation error of one step at interior θ (float64)', () => {
  const cases = METHODS.flatMap(([tab, it]) => PROBLEMS.map((p) => [tab.name, p.name, tab, it, p] as const));
  test.each(cases)('%s on %s: log-log slope of the error ≈ order + 1', (_m, _p, tab, it, p) => {
    const errs = DTS.map((dt) => interiorError(tab, it, p, dt));
    const s = logLogSlope(DTS, errs);
    // Measured errors stay far above the float64 rounding of the reference (~400 steps · 1e-16).
    expect(errs[errs.length - 1]).toBeGreaterThan(1e-12);
    // Measured: tsit5 4.96–5.28, dopri5 4.98–5.14, bosh3 3.90–4.01 (a lower-order interpolant would be ≤ order).
    expect(s).toBeGreaterThan(it.order + 1 - 0.2);
    expect(s).toBeLessThan(it.order + 1 + 0.35);
    // Successive halvings each gain at least 2^(order + 0.5).
    for (let i = 1; i < errs.length; i++) expect(errs[i - 1] / errs[i]).toBeGreaterThan(2 ** (it.order + 0.5));
  });
});

// ------------------------------------------------------------ float32 tensors

describe('interpolantTerms with combine (float32 tensors)', () => {
  test('combineTensor and host combine match the float64 dense output to float32 accuracy', () => {
    const states: Vec[] = [
      [2, -0.5],
      [1, -1],
      [-0.5, 1.5],
    ];
    const t0 = 0.3;
    const dt = 0.125;
    const vdp = (_t: number, y: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        const [x, v] = tf.split(y, 2, 1);
        return tf.concat([v, tf.sub(tf.mul(tf.mul(tf.scalar(MU), tf.sub(1, tf.square(x))), v), x)], 1);
      });
    const before = tf.memory().numTensors;
    for (const [tab, it] of METHODS) {
      const k64 = states.map((y) => stages64(tab, PROBLEMS[2].f, t0, y, dt).k);
      let worst = 0;
      tf.tidy(() => {
        const y = tf.tensor2d(states);
        const { k } = rkStages(tab, { combine: combineTensor }, vdp, t0, y, dt, null);
        for (const th of [0.25, 0.5, 0.8, 1]) {
          const terms = interpolantTerms(it, th, dt, k);
          const viaTensor = combineTensor(y, terms).arraySync() as Vec[];
          const viaHost = hostArithmetic.combine(y, terms).arraySync() as Vec[];
          states.forEach((y0, b) => {
            const want = dense64(it, y0, k64[b], dt, th);
            worst = Math.max(worst, maxAbsDiff(viaTensor[b], want), maxAbsDiff(viaHost[b], want));
          });
        }
      });
      // |y| ≤ 2.3 here, float32 ulp(2) = 2.4e-7. Measured worst: tsit5 1.1e-7, dopri5 7.4e-8, bosh3 5.3e-8.
      expect(worst).toBeLessThan(5e-7);
      expect(worst).toBeGreaterThan(0); // float32 did round: the comparison is not vacuous
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
