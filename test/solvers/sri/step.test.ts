import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of the Node bundle
import { eulerMaruyamaStep } from '../../../src/solvers/sri/euler_maruyama';
import { InvalidArgumentError } from '../../../src/solvers/core/errors';
import { stiffnessRatio } from '../../../src/solvers/rk/stepper';
import { DiffusionFn, DriftFn, sriStep } from '../../../src/solvers/sri/step';
import { SriTableau } from '../../../src/solvers/sri/tableau';
import { sosri, sosri2, sriw1 } from '../../../src/solvers/sri/tableaus';
import { mulberry32Words } from '../../../src/noise/prng';
import { expectNoLeak, expectThrowNoLeak, logLogSlope } from '../../support/helpers';

// ---------------------------------------------------------------- seeded Brownian paths with Lévy area

/** mulberry32 uniforms in (0, 1) (open: Box–Muller takes their logarithm). */
function mulberry32(seed: number): () => number {
  const next = mulberry32Words(seed);
  return () => (next() + 0.5) / 4294967296;
}

/** Standard normals by Box–Muller. */
function normals(n: number, rand: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rand()));
    const th = 2 * Math.PI * rand();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

/**
 * Increments on a grid of `steps` equal steps of size h for `paths` independent paths: W (the
 * Brownian increment, N(0, h)) and H (the space-time Lévy area, N(0, h/12), independent of W), stored
 * step-major: element [n·paths + p].
 */
interface Increments {
  readonly steps: number;
  readonly h: number;
  readonly W: Float64Array;
  readonly H: Float64Array;
}

function fineIncrements(paths: number, steps: number, T: number, seed: number): Increments {
  const h = T / steps;
  const rand = mulberry32(seed);
  const W = normals(paths * steps, rand).map((z) => z * Math.sqrt(h));
  const H = normals(paths * steps, rand).map((z) => z * Math.sqrt(h / 12));
  return { steps, h, W, H };
}

/**
 * Merges neighbouring steps pairwise. With I_{s,t} = ∫_s^t (W_u − W_s) du = h·(W_{s,t}/2 + H_{s,t}),
 * for [a,c] = [a,b] ∪ [b,c] (lengths h/2 each): I_{a,c} = I_{a,b} + (h/2)·W_{a,b} + I_{b,c}, which gives
 * H_{a,c} = (H_{a,b} + H_{b,c})/2 + (W_{a,b} − W_{b,c})/4 (and Var = h/48 + h/16 = h/12, as it must).
 */
function coarsen(inc: Increments, paths: number): Increments {
  const steps = inc.steps / 2;
  const W = new Float64Array(steps * paths);
  const H = new Float64Array(steps * paths);
  for (let n = 0; n < steps; n++) {
    for (let p = 0; p < paths; p++) {
      const i1 = 2 * n * paths + p;
      const i2 = i1 + paths;
      W[n * paths + p] = inc.W[i1] + inc.W[i2];
      H[n * paths + p] = (inc.H[i1] + inc.H[i2]) / 2 + (inc.W[i1] - inc.W[i2]) / 4;
    }
  }
  return { steps, h: inc.h * 2, W, H };
}

type Method = (f: DriftFn, g: DiffusionFn, t: number, y: tf.Tensor, h: number, dW: tf.Tensor, dZ: tf.Tensor) => tf.Tensor;
const TOL = { atol: 1e-2, rtol: 1e-2 };
const sri =
  (tab: SriTableau): Method =>
  (f, g, t, y, h, dW, dZ) =>
    sriStep(tab, f, g, t, y, h, dW, dZ, TOL).y1;
const em: Method = (f, g, t, y, h, dW) => eulerMaruyamaStep(f, g, t, y, h, dW).y1;

/** Mean |y_N − y_exact(T)| over the paths of one grid. */
function meanAbsError(method: Method, f: DriftFn, g: DiffusionFn, y0: number, inc: Increments, paths: number, exact: Float64Array): number {
  let y = tf.fill([paths], y0);
  for (let n = 0; n < inc.steps; n++) {
    const next = tf.tidy(() => {
      const dW = tf.tensor1d(Float32Array.from(inc.W.subarray(n * paths, (n + 1) * paths)));
      const dZ = tf.tensor1d(Float32Array.from(inc.H.subarray(n * paths, (n + 1) * paths), (x) => 2 * Math.sqrt(3) * x));
      return method(f, g, n * inc.h, y, inc.h, dW, dZ);
    });
    y.dispose();
    y = next;
  }
  const v = y.dataSync();
  y.dispose();
  let s = 0;
  for (let p = 0; p < paths; p++) s += Math.abs(v[p] - exact[p]);
  return s / paths;
}

// ---------------------------------------------------------------- strong convergence

const PATHS = 2000;
const T = 1;
const LEVELS = [3, 4, 5, 6, 7, 8]; // dt = 2^-3 … 2^-8
const FINE_LEVEL = 10; // the path is drawn on 2^-10 and coarsened pairwise: every level sees the same path

const grids = new Map<number, Increments>();
{
  let inc = fineIncrements(PATHS, 2 ** FINE_LEVEL, T, 20240607);
  for (let l = FINE_LEVEL; l >= LEVELS[0]; l--) {
    grids.set(l, inc);
    if (l > LEVELS[0]) inc = coarsen(inc, PATHS);
  }
}
const fine = grids.get(FINE_LEVEL)!;

const methods: { name: string; method: Method; order: number }[] = [
  { name: 'euler_maruyama', method: em, order: 0.5 },
  { name: 'sosri', method: sri(sosri), order: 1.5 },
  { name: 'sosri2', method: sri(sosri2), order: 1.5 },
  { name: 'sriw1', method: sri(sriw1), order: 1.5 },
];

/** Runs `method` on every level, checks for leaks, logs and returns the fitted slope. */
function convergenceSlope(label: string, method: Method, f: DriftFn, g: DiffusionFn, y0: number, exact: Float64Array, levels = LEVELS): number {
  const dts: number[] = [];
  const errs: number[] = [];
  const before = tf.memory().numTensors;
  for (const l of levels) {
    const grid = grids.get(l)!;
    dts.push(grid.h);
    errs.push(meanAbsError(method, f, g, y0, grid, PATHS, exact));
  }
  expect(tf.memory().numTensors).toBe(before);
  const s = logLogSlope(dts, errs);
  console.log(`${label}: slope ${s.toFixed(3)}; mean |error| ${errs.map((e) => e.toExponential(2)).join(', ')} at dt = 2^-${levels.join(', 2^-')}`);
  return s;
}

test('the coarsened increments keep their laws: Var W = h, Var H = h/12, Cov(W, H) = 0 (2^-3 grid)', () => {
  const c = grids.get(3)!;
  const n = c.W.length;
  let sWW = 0;
  let sHH = 0;
  let sWH = 0;
  for (let i = 0; i < n; i++) {
    sWW += c.W[i] ** 2;
    sHH += c.H[i] ** 2;
    sWH += c.W[i] * c.H[i];
  }
  // Relative standard error of a variance estimate from n = 16000 normals: √(2/n) ≈ 1.1%; test at 5%.
  expect(Math.abs(sWW / n / c.h - 1)).toBeLessThan(0.05);
  expect(Math.abs(sHH / n / (c.h / 12) - 1)).toBeLessThan(0.05);
  // Correlation estimate: standard error 1/√n ≈ 0.008; test at 4σ.
  expect(Math.abs(sWH / n / Math.sqrt(c.h * (c.h / 12)))).toBeLessThan(0.032);
});

describe('strong convergence on geometric Brownian motion dy = μy dt + σy dW (exact: y0·exp((μ − σ²/2)t + σW_t))', () => {
  const MU = 1.5;
  const SIGMA = 0.8;
  const f: DriftFn = (_t, y) => tf.mul(y, MU);
  const g: DiffusionFn = (_t, y) => tf.mul(y, SIGMA);
  const exact = new Float64Array(PATHS);
  for (let p = 0; p < PATHS; p++) {
    let W = 0;
    for (let n = 0; n < fine.steps; n++) W += fine.W[n * PATHS + p];
    exact[p] = Math.exp((MU - SIGMA ** 2 / 2) * T + SIGMA * W);
  }
  test.each(methods)('$name: mean |error| at t = 1 falls with slope $order ± 0.25', ({ name, method, order }) => {
    expect(Math.abs(convergenceSlope(`GBM ${name}`, method, f, g, 1, exact) - order)).toBeLessThan(0.25);
  });
});

/**
 * GBM's solution is a function of (t, W_t) only, so the Lévy area cancels out of it (a scheme that
 * ignores dZ converges just as well). The Ornstein–Uhlenbeck process dy = −λy dt + σ dW needs it:
 * y(T) = e^{−λT}y0 + σ∫e^{−λ(T−s)}dW_s. Per fine step [s, s+δ], ∫_0^δ e^{λu}dW_u = W + λ∫u dW + (λ²/2)∫u² dW + …
 * with ∫u dW = δ(W/2 − H) and E[∫u² dW | W, H] = δ²(W/3 − H) (from E[W_u | W, H] = (u/δ)W + 6H(u/δ)(1 − u/δ));
 * what is left is O(λ²δ^{2.5}) per step, ≈ 1e-6 at t = 1 on the 2^-10 grid.
 */
describe('strong convergence on Ornstein–Uhlenbeck dy = −λy dt + σ dW (needs the Lévy area)', () => {
  const LAMBDA = 2;
  const SIGMA = 1;
  const f: DriftFn = (_t, y) => tf.mul(y, -LAMBDA);
  const g: DiffusionFn = (_t, y) => tf.fill(y.shape, SIGMA);
  const exact = new Float64Array(PATHS);
  const d = fine.h;
  for (let p = 0; p < PATHS; p++) {
    let integral = 0;
    for (let n = 0; n < fine.steps; n++) {
      const W = fine.W[n * PATHS + p];
      const H = fine.H[n * PATHS + p];
      const local = W + LAMBDA * d * (W / 2 - H) + (LAMBDA ** 2 / 2) * d * d * (W / 3 - H);
      integral += Math.exp(-LAMBDA * (T - n * d)) * local;
    }
    exact[p] = Math.exp(-LAMBDA * T) + SIGMA * integral;
  }
  // Linear drift and additive noise: every Itô–Taylor term of order 2 but the deterministic h²/2·a'a
  // vanishes, and the SRI methods (deterministic order 2: αᵀA0e = 1/2) converge with order 2 here.
  const OU_LEVELS = [3, 4, 5, 6, 7];
  test.each(methods.filter((m) => m.order === 1.5))('$name: slope 2 ± 0.25', ({ name, method }) => {
    expect(Math.abs(convergenceSlope(`OU ${name}`, method, f, g, 1, exact, OU_LEVELS) - 2)).toBeLessThan(0.25);
  });
  test('sosri without the Lévy area (dZ = 0) drops to order 1: the test sees it', () => {
    const noArea: Method = (ff, gg, t, y, h, dW, dZ) => tf.tidy(() => sri(sosri)(ff, gg, t, y, h, dW, tf.zerosLike(dZ)));
    expect(convergenceSlope('OU sosri with dZ = 0', noArea, f, g, 1, exact, OU_LEVELS)).toBeLessThan(1.2);
  });
});

// ---------------------------------------------------------------- one step against sde.md's formulas in float64

/** A nonlinear, time-dependent test SDE, as tfjs ops and as float64 scalar functions. */
const fJs = (t: number, y: number): number => -0.5 * y ** 3 + Math.sin(3 * t) * y + 0.2;
const gJs = (t: number, y: number): number => (0.3 * (1 + Math.cos(2 * t)) * y) / (1 + y * y) + 0.1;
const fTf: DriftFn = (t, y) => tf.add(tf.add(tf.mul(tf.pow(y, 3), -0.5), tf.mul(y, Math.sin(3 * t))), 0.2);
const gTf: DiffusionFn = (t, y) => tf.add(tf.div(tf.mul(y, 0.3 * (1 + Math.cos(2 * t))), tf.add(tf.square(y), 1)), 0.1);

interface RefStep {
  y1: number;
  E: number; // δ·E1 + E2 (unscaled)
  stiffNum: number; // k4 − k3
  stiffDen: number; // H03 − H02
  H03: number;
}

/** sde.md §1, unrolled as written there (one state element, float64). SRIW1's E1 = h(k1 + k2) as StochasticDiffEq's SRIW1. */
function referenceStep(tab: SriTableau, t: number, y: number, h: number, dW: number, dZ: number): RefStep {
  const [A0, A1, B0, B1] = [tab.A0, tab.A1, tab.B0, tab.B1];
  const sq = Math.sqrt(h);
  const chi1 = (dW * dW - h) / (2 * sq);
  const chi2 = (dW + dZ / Math.sqrt(3)) / 2;
  const chi3 = (dW ** 3 - 3 * dW * h) / (6 * h);
  const k1 = fJs(t, y);
  const g1 = gJs(t + tab.c1[0] * h, y);
  const H01 = y + h * A0[1][0] * k1 + chi2 * B0[1][0] * g1;
  const H11 = y + h * A1[1][0] * k1 + sq * B1[1][0] * g1;
  const k2 = fJs(t + tab.c0[1] * h, H01);
  const g2 = gJs(t + tab.c1[1] * h, H11);
  const H02 = y + h * (A0[2][0] * k1 + A0[2][1] * k2) + chi2 * (B0[2][0] * g1 + B0[2][1] * g2);
  const H12 = y + h * (A1[2][0] * k1 + A1[2][1] * k2) + sq * (B1[2][0] * g1 + B1[2][1] * g2);
  const k3 = fJs(t + tab.c0[2] * h, H02);
  const g3 = gJs(t + tab.c1[2] * h, H12);
  const H03 = y + h * (A0[3][0] * k1 + A0[3][1] * k2 + A0[3][2] * k3) + chi2 * (B0[3][0] * g1 + B0[3][1] * g2 + B0[3][2] * g3);
  const H13 = y + h * (A1[3][0] * k1 + A1[3][1] * k2 + A1[3][2] * k3) + sq * (B1[3][0] * g1 + B1[3][1] * g2 + B1[3][2] * g3);
  const k4 = fJs(t + tab.c0[3] * h, H03);
  const g4 = gJs(t + tab.c1[3] * h, H13);
  const gsum = (b: readonly number[]): number => b[0] * g1 + b[1] * g2 + b[2] * g3 + b[3] * g4;
  const E2 = chi2 * gsum(tab.beta3) + chi3 * gsum(tab.beta4);
  const a = tab.alpha;
  const y1 = y + h * (a[0] * k1 + a[1] * k2 + a[2] * k3 + a[3] * k4) + E2 + dW * gsum(tab.beta1) + chi1 * gsum(tab.beta2);
  const E1 = tab.name === 'sriw1' ? h * (k1 + k2) : h * (k1 + k2 + k3 + k4);
  return { y1, E: tab.delta * E1 + E2, stiffNum: k4 - k3, stiffDen: H03 - H02, H03 };
}

const STATE = [0.7, -0.4, 1.1, 0.05, -1.3, 0.9];
const DW = [0.21, -0.35, 0.02, 0.4, -0.12, -0.27];
const DZ = [-0.3, 0.1, 0.33, -0.05, 0.25, -0.4];

describe('one SRI step', () => {
  const t0 = 0.3;
  const h = 0.1;
  const tol = { atol: 1e-3, rtol: 1e-3 };

  test.each([sosri, sosri2, sriw1].map((tab) => [tab.name, tab] as const))('%s: y1, EEst and the stiffness estimate match sde.md §1 in float64', (_, tab) => {
    const y = tf.tensor1d(STATE);
    const dW = tf.tensor1d(DW);
    const dZ = tf.tensor1d(DZ);
    const r = expectNoLeak(() => sriStep(tab, fTf, gTf, t0, y, h, dW, dZ, tol, { error: true, stiffness: true }), tab.stiffnessStages ? 4 : 2);
    const refs = STATE.map((yi, i) => referenceStep(tab, t0, yi, h, DW[i], DZ[i]));
    const y1 = r.y1.dataSync();
    refs.forEach((ref, i) => expect(Math.abs(y1[i] - ref.y1)).toBeLessThan(2e-6 * (1 + Math.abs(ref.y1))));
    // EEst = RMS((δE1 + E2) / (atol + max(|y|, |y1|)·rtol)).
    const eest = Math.sqrt(
      refs.reduce((s, ref, i) => s + (ref.E / (tol.atol + Math.max(Math.abs(STATE[i]), Math.abs(ref.y1)) * tol.rtol)) ** 2, 0) / refs.length,
    );
    expect(Math.abs(r.error!.dataSync()[0] / eest - 1)).toBeLessThan(1e-4);
    if (tab.stiffnessStages) {
      const rms = (xs: number[]): number => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);
      const S = rms(refs.map((q) => q.stiffNum)) / rms(refs.map((q) => q.stiffDen));
      expect(Math.abs(r.stiffness!.dataSync()[0] / S - 1)).toBeLessThan(1e-3);
      expect(r.stiffnessReliable!.dtype).toBe('bool');
      expect(r.stiffnessReliable!.dataSync()[0]).toBe(1);
    } else {
      expect(r.stiffness).toBeUndefined();
    }
    tf.dispose([y, dW, dZ, r.y1, r.error!, r.stiffness!, r.stiffnessReliable!].filter((x) => x));
  });

  test('drift and diffusion are called at t + c0·h and t + c1·h, as often as the plan says', () => {
    for (const tab of [sosri, sosri2, sriw1]) {
      const ft: number[] = [];
      const gt: number[] = [];
      const f: DriftFn = (t, y) => (ft.push(t), fTf(t, y));
      const g: DiffusionFn = (t, y) => (gt.push(t), gTf(t, y));
      tf.tidy(() => {
        sriStep(tab, f, g, t0, tf.tensor1d(STATE), h, tf.tensor1d(DW), tf.tensor1d(DZ), tol);
      });
      expect(ft).toHaveLength(tab.evaluationsPerStep.drift);
      expect(gt).toHaveLength(tab.evaluationsPerStep.diffusion);
      const expectedF = tab.c0.filter((_, i) => tab.driftPlan[i] === 'evaluate').map((c) => t0 + c * h);
      const expectedG = tab.c1.filter((_, i) => tab.diffusionPlan[i] === 'evaluate').map((c) => t0 + c * h);
      ft.forEach((t, i) => expect(t).toBeCloseTo(expectedF[i], 14));
      gt.forEach((t, i) => expect(t).toBeCloseTo(expectedG[i], 14));
    }
    expect(sosri.evaluationsPerStep).toEqual({ drift: 4, diffusion: 4 });
    expect(sriw1.evaluationsPerStep).toEqual({ drift: 2, diffusion: 4 });
  });

  test('no leaks: y1 only, and nothing on failures; clear errors for bad input', () => {
    const y = tf.tensor1d(STATE);
    const dW = tf.tensor1d(DW);
    const dZ = tf.tensor1d(DZ);
    const r = expectNoLeak(() => sriStep(sosri, fTf, gTf, t0, y, h, dW, dZ, tol), 1);
    expect(r.error).toBeUndefined();
    r.y1.dispose();
    const em1 = expectNoLeak(() => eulerMaruyamaStep(fTf, gTf, t0, y, h, dW), 1);
    em1.y1.dispose();
    const short = tf.tensor1d([0.1, 0.2]);
    const cases: [() => unknown, RegExp][] = [
      [() => sriStep(sosri, fTf, gTf, t0, y, -h, dW, dZ, tol), /h = -0.1; the step size must be a finite number > 0/],
      [() => sriStep(sosri, fTf, gTf, t0, y, 0, dW, dZ, tol), /h = 0/],
      [() => sriStep(sosri, fTf, gTf, t0, y, h, short, dZ, tol), /dW has shape \[2\] but y has shape \[6\]; pass one increment per state element/],
      [() => sriStep(sosri, fTf, gTf, t0, y, h, dW, short, tol), /dZ has shape \[2\]/],
      [() => sriStep(sosri, fTf, (_t, yy) => tf.sum(yy), t0, y, h, dW, dZ, tol), /diffusion returned shape \[\] .* diagonal noise/],
      [() => sriStep(sosri, (_t, yy) => tf.reshape(yy, [2, 3]), gTf, t0, y, h, dW, dZ, tol), /drift returned shape \[2,3\]/],
      [() => eulerMaruyamaStep(fTf, gTf, t0, y, Number.NaN, dW), /h = NaN/],
      [() => eulerMaruyamaStep(fTf, gTf, t0, y, h, short), /dW has shape \[2\]/],
      [() => eulerMaruyamaStep(fTf, (_t, yy) => tf.sum(yy), t0, y, h, dW), /diffusion returned shape \[\]/],
    ];
    for (const [fn, msg] of cases) {
      const err = expectThrowNoLeak(fn);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(msg);
    }
    tf.dispose([y, dW, dZ, short]);
  });

  test('Euler–Maruyama: y1 = y + h·f(t, y) + g(t, y)·dW', () => {
    const y = tf.tensor1d(STATE);
    const dW = tf.tensor1d(DW);
    const { y1 } = eulerMaruyamaStep(fTf, gTf, t0, y, h, dW);
    const v = y1.dataSync();
    STATE.forEach((yi, i) => expect(v[i]).toBeCloseTo(yi + h * fJs(t0, yi) + gJs(t0, yi) * DW[i], 6));
    tf.dispose([y, dW, y1]);
  });
});

// ---------------------------------------------------------------- stiffness estimate and its mask

describe('SOSRI2 stiffness estimate', () => {
  const LAMBDA = -50;
  const f: DriftFn = (_t, y) => tf.mul(y, LAMBDA);
  const zero: DiffusionFn = (_t, y) => tf.zerosLike(y);
  const tol = { atol: 1e-2, rtol: 1e-2 };

  function run(h: number, reliable?: tf.Tensor): { S: number; used: number } {
    return tf.tidy(() => {
      const y = tf.tensor1d(STATE);
      const d = tf.zerosLike(y);
      const r = sriStep(sosri2, f, zero, 0, y, h, d, d, tol, { stiffness: true, stiffnessReliable: reliable });
      return { S: r.stiffness!.dataSync()[0], used: r.stiffnessReliable!.dataSync()[0] };
    });
  }

  test("linear drift y' = λy: the estimate is |λ|; at float32 rounding level it is 0, decided without read-back", () => {
    const before = tf.memory().numTensors;
    for (const h of [1e-1, 1e-2, 1e-3]) {
      const { S, used } = run(h);
      expect(used).toBe(1);
      expect(Math.abs(S / Math.abs(LAMBDA) - 1)).toBeLessThan(1e-3);
    }
    // h = 1e-9: H03 − H02 = O(h·|λy|) = 5e-8 ≪ 1e-5·‖H03‖, the rule of stiffnessRatio (rk_stepper.ts) says 0.
    expect(stiffnessRatio(5e-8 * 50, 5e-8, () => 1)).toBe(0);
    expect(run(1e-9)).toEqual({ S: 0, used: 0 });
    // A decision passed in is reused: forcing "unreliable" at h = 0.1 gives 0.
    const no = tf.scalar(false, 'bool');
    expect(run(0.1, no)).toEqual({ S: 0, used: 0 });
    no.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('the gradient through a zeroed estimate is finite (the unused branch divides by 1)', () => {
    const y = tf.tensor1d(STATE);
    const d = tf.zerosLike(y);
    const [dy] = tf.grads((yy: tf.Tensor) => sriStep(sosri2, f, zero, 0, yy, 1e-9, d, d, tol, { stiffness: true }).stiffness!)([y]);
    expect(Array.from(dy.dataSync()).every((x) => x === 0)).toBe(true);
    tf.dispose([y, d, dy]);
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients through one step (tf.grads vs central finite differences, float32)', () => {
  const t0 = 0.3;
  const h = 0.1;
  const tol = { atol: 1e-3, rtol: 1e-3 };
  const W = [0.3, -0.7, 0.5, 0.9, -0.2, 0.4];

  /** L(y) = Σ w·y1 + EEst + 0.1·S (the terms the regularizers differentiate). */
  function loss(step: (y: tf.Tensor) => { y1: tf.Tensor; error?: tf.Scalar; stiffness?: tf.Scalar }): (y: tf.Tensor) => tf.Scalar {
    return (y) =>
      tf.tidy(() => {
        const r = step(y);
        let L = tf.sum(tf.mul(r.y1, tf.tensor1d(W)));
        if (r.error) L = tf.add(L, r.error);
        if (r.stiffness) L = tf.add(L, tf.mul(r.stiffness, 0.1));
        return L as tf.Scalar;
      });
  }

  const cases: [string, (y: tf.Tensor, dW: tf.Tensor, dZ: tf.Tensor) => { y1: tf.Tensor; error?: tf.Scalar; stiffness?: tf.Scalar }][] = [
    ['sosri2 (y1, EEst, S)', (y, dW, dZ) => sriStep(sosri2, fTf, gTf, t0, y, h, dW, dZ, tol, { error: true, stiffness: true })],
    ['sosri (y1, EEst)', (y, dW, dZ) => sriStep(sosri, fTf, gTf, t0, y, h, dW, dZ, tol, { error: true })],
    ['sriw1 (y1, EEst)', (y, dW, dZ) => sriStep(sriw1, fTf, gTf, t0, y, h, dW, dZ, tol, { error: true })],
    ['euler_maruyama (y1)', (y, dW) => eulerMaruyamaStep(fTf, gTf, t0, y, h, dW)],
  ];
  test.each(cases)('%s', (_, step) => {
    const dW = tf.tensor1d(DW);
    const dZ = tf.tensor1d(DZ);
    const L = loss((y) => step(y, dW, dZ));
    const y = tf.tensor1d(STATE);
    const before = tf.memory().numTensors;
    const [g] = tf.grads((yy: tf.Tensor) => L(yy))([y]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const ad = Array.from(g.dataSync());
    const eps = 5e-3;
    let worst = 0;
    STATE.forEach((_, i) => {
      const at = (d: number): number => {
        const yi = tf.tensor1d(STATE.map((v, j) => (j === i ? v + d : v)));
        const Li = L(yi);
        const v = Li.dataSync()[0];
        tf.dispose([yi, Li]);
        return v;
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      worst = Math.max(worst, Math.abs(ad[i] - fd) / (1 + Math.abs(fd)));
    });
    console.log(`grad ${_}: max |AD − FD| / (1 + |FD|) = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(2e-3);
    tf.dispose([dW, dZ, y, g]);
  });
});
