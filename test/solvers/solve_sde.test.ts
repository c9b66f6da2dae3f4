/**
 * solveSDE: strong convergence on the same Brownian path (adaptive and fixed-step SRI, Euler–Maruyama),
 * no bias from rejected steps, weak statistics, determinism and NFE counts, the stiffness estimate of
 * SOSRI2, the SDE controller settings, replay of accepted steps, errors and leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BrownianTree, brownianTree } from '../../src/noise/brownian';
import { brownianInterval } from '../../src/noise/brownian_interval';
import { InvalidArgumentError, SolverError } from '../../src/solvers/core/errors';
import { chooseArithmetic } from '../../src/solvers/core/arithmetic';
import { resolveOptions, SdeSolveOptions } from '../../src/solvers/options';
import { sdeMethod as getSdeMethod, SDE_SOLVER_NAMES } from '../../src/solvers/registry';
import { SdeSolveStats, solveSDE, solveSDEResolved } from '../../src/solvers/solve_sde';
import { sriStep } from '../../src/solvers/sri/step';
import { stepNoise } from '../../src/solvers/sri/stepper';
import { sosri } from '../../src/solvers/sri/tableaus';
import { VectorField } from '../../src/solvers/core/stepper';
import { expectNoLeak, expectThrowNoLeak, logLogSlope } from '../support/helpers';

// ---------------------------------------------------------------- geometric Brownian motion

/** dy = μ y dt + σ y dW: drift and diffusion, and the exact solution y0·exp((μ − σ²/2)t + σW_t) on a path. */
function gbm(mu: number, sigma: number): { f: VectorField; g: VectorField; exact: (tree: BrownianTree, t: number) => Float64Array } {
  return {
    f: (_t, y) => tf.mul(y, mu),
    g: (_t, y) => tf.mul(y, sigma),
    exact: (tree, t) => tree.increment(tree.t0, t).dW.map((w) => Math.exp((mu - (sigma * sigma) / 2) * t + sigma * w)),
  };
}

/** Mean |y − exact| over all elements; disposes y. */
function meanAbsErr(y: tf.Tensor, exact: Float64Array): number {
  const v = y.dataSync();
  y.dispose();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.abs(v[i] - exact[i]);
  return s / v.length;
}

/** Counts calls of a field. */
function counted(fn: VectorField): VectorField & { calls: number } {
  const w = ((t: number, y: tf.Tensor) => {
    w.calls++;
    return fn(t, y);
  }) as VectorField & { calls: number };
  w.calls = 0;
  return w;
}

const N = 200;
let y0: tf.Tensor;
beforeAll(() => {
  y0 = tf.ones([N]);
});
afterAll(() => y0.dispose());

describe('strong convergence on one Brownian path (GBM)', () => {
  test("adaptive sosri: the error falls as rtol = atol go 1e-1 → 1e-4; with saveatMode 'step' outputs land on steps", () => {
    // No drift: the drift part δ·h·Σk of the error estimate would otherwise force h ∝ tol/|μ| and push the
    // solution into float32 rounding (≈3e-6 here) before 1e-4.
    const { f, g, exact } = gbm(0, 1);
    const tree = brownianTree({ seed: 11, t0: 0, t1: 1, shape: [N] });
    const tols = [1e-1, 1e-2, 1e-3, 1e-4];
    const errs: number[] = [];
    const nfes: number[] = [];
    for (const tol of tols) {
      const r = expectNoLeak(() => solveSDE(f, g, y0, { brownian: tree, rtol: tol, atol: tol, saveat: [0.25, 0.5, 1], saveatMode: 'step' }), 3);
      expect(r.ts).toEqual([0.25, 0.5, 1]);
      expect(r.stats.t).toEqual(expect.arrayContaining([0.25, 0.5]));
      expect(meanAbsErr(r.ys[0], exact(tree, 0.25))).toBeLessThan(0.05);
      expect(meanAbsErr(r.ys[1], exact(tree, 0.5))).toBeLessThan(0.05);
      errs.push(meanAbsErr(r.ys[2], exact(tree, 1)));
      nfes.push(r.stats.nfe);
    }
    // Measured: errors 1.2e-2, 1.0e-2, 2.9e-3, 2.7e-4 with 166, 214, 334, 1094 NFE. From 1e-1 to 1e-2 the
    // step sizes barely change (growth from the initial step is capped at 9/8 per step), hence a small gain.
    for (let i = 1; i < tols.length; i++) {
      expect(errs[i]).toBeLessThan(errs[i - 1]);
      expect(nfes[i]).toBeGreaterThan(nfes[i - 1]);
    }
    expect(errs[3]).toBeLessThan(errs[0] / 20);
    expect(errs[3]).toBeLessThan(1e-3);
  });

  test('fixed-step SRI converges with strong order ≈ 1.5, Euler–Maruyama with ≈ 0.5', () => {
    const { f, g, exact } = gbm(1, 0.5);
    const tree = brownianTree({ seed: 3, t0: 0, t1: 1, shape: [N] });
    const ref = exact(tree, 1);
    const hs = [1 / 8, 1 / 16, 1 / 32, 1 / 64];
    // An adaptive method with dtmax = dt0 and tolerances it always meets takes fixed steps of dt0.
    const sri = hs.map((h) => {
      const r = solveSDE(f, g, y0, { brownian: tree, dt0: h, dtmax: h, rtol: 1e6, atol: 1e6 });
      expect(r.stats.nAccepted).toBe(Math.round(1 / h));
      expect(r.stats.nRejected).toBe(0);
      return meanAbsErr(r.ys[0], ref);
    });
    const em = hs.map((h) => meanAbsErr(solveSDE(f, g, y0, { brownian: tree, solver: 'euler_maruyama', dt0: h }).ys[0], ref));
    for (let i = 1; i < hs.length; i++) {
      expect(sri[i]).toBeLessThan(sri[i - 1]);
      expect(em[i]).toBeLessThan(em[i - 1]);
    }
    expect(logLogSlope(hs, sri)).toBeGreaterThan(1.2);
    expect(logLogSlope(hs, em)).toBeGreaterThan(0.3);
    expect(logLogSlope(hs, em)).toBeLessThan(0.9);
    expect(sri[3]).toBeLessThan(em[3] / 10);
  });

  test('rejected steps re-query the same path: many rejections, no bias', () => {
    const { f, g, exact } = gbm(0, 1);
    // The rejection counts depend on the path: seed 6 gives 1 and 5 with the ziggurat normals (seeds 5–12: 3 to 5).
    const tree = brownianTree({ seed: 6, t0: 0, t1: 1, shape: [N] });
    const ref = exact(tree, 1);
    const plain = solveSDE(f, g, y0, { brownian: tree, rtol: 1e-3, atol: 1e-3 });
    const rejecting = solveSDE(f, g, y0, { brownian: tree, rtol: 1e-3, atol: 1e-3, dt0: 1 });
    expect(rejecting.stats.nRejected).toBeGreaterThanOrEqual(5);
    expect(rejecting.stats.nRejected).toBeGreaterThan(plain.stats.nRejected + 3);
    const ePlain = meanAbsErr(plain.ys[0], ref);
    const eRejecting = meanAbsErr(rejecting.ys[0], ref);
    // Redrawing the noise of a rejected step would land on another path: an O(1) error (mean |y| ≈ 0.8).
    expect(eRejecting).toBeLessThan(3 * ePlain);
    expect(eRejecting).toBeLessThan(1e-2);
  });
});

test('weak: Ornstein–Uhlenbeck mean and variance at t = 1 over 4000 paths within 3 standard errors', () => {
  const theta = 1;
  const sigma = 0.5;
  const n = 4000;
  const x0 = tf.fill([n], 1);
  const r = solveSDE(
    (_t, y) => tf.mul(y, -theta),
    (_t, y) => tf.fill(y.shape, sigma),
    x0,
    { seed: 2024 },
  );
  x0.dispose();
  const v = r.ys[0].dataSync();
  r.ys[0].dispose();
  let m = 0;
  for (const x of v) m += x;
  m /= n;
  let s2 = 0;
  for (const x of v) s2 += (x - m) ** 2;
  s2 /= n - 1;
  const mean = Math.exp(-theta);
  const variance = ((sigma * sigma) / (2 * theta)) * (1 - Math.exp(-2 * theta));
  expect(Math.abs(m - mean)).toBeLessThan(3 * Math.sqrt(variance / n));
  expect(Math.abs(s2 - variance)).toBeLessThan(3 * variance * Math.sqrt(2 / (n - 1)));
});

describe('determinism and counts', () => {
  const { f, g } = gbm(0.5, 0.5);

  test('same seed: identical bits; another seed: another path', () => {
    const run = (seed: number): Float32Array => {
      const r = solveSDE(f, g, y0, { seed });
      const out = r.ys[0].dataSync().slice() as Float32Array;
      r.ys[0].dispose();
      return out;
    };
    const a = run(42);
    expect(Buffer.from(run(42).buffer).equals(Buffer.from(a.buffer))).toBe(true);
    const b = run(43);
    let differ = 0;
    for (let i = 0; i < N; i++) if (a[i] !== b[i]) differ++;
    expect(differ).toBe(N);
    // No seed: a fresh one per call.
    const c = solveSDE(f, g, y0);
    const d = solveSDE(f, g, y0);
    expect(tf.util.arraysEqual(c.ys[0].dataSync(), d.ys[0].dataSync())).toBe(false);
    tf.dispose([...c.ys, ...d.ys]);
  });

  test.each(SDE_SOLVER_NAMES.map((s) => [s]))('%s: nfe = drift calls, nfeDiffusion = diffusion calls', (solver) => {
    const fc = counted(f);
    const gc = counted(g);
    const fixed = !getSdeMethod(solver).adaptive;
    const r = solveSDE(fc, gc, y0, { solver, seed: 1, dt0: fixed ? 0.05 : undefined });
    tf.dispose(r.ys);
    expect(r.stats.nfe).toBe(fc.calls);
    expect(r.stats.nfeDiffusion).toBe(gc.calls);
    const per = getSdeMethod(solver).evaluationsPerStep;
    const init = fixed ? 0 : 2; // the initial-step heuristic: 2 drift and 2 diffusion evaluations
    expect(fc.calls).toBe(per.drift * r.stats.nSteps + init);
    expect(gc.calls).toBe(per.diffusion * r.stats.nSteps + init);
    expect(r.stats.nAccepted + r.stats.nRejected).toBe(r.stats.nSteps);
    expect(r.stats.dt.length).toBe(r.stats.nAccepted);
    expect(r.stats.errorEstimate.length).toBe(fixed ? 0 : r.stats.nAccepted);
    if (!fixed) expect(Math.max(...r.stats.errorEstimate)).toBeLessThanOrEqual(1);
  });

  test('registry: adaptivity, stiffness and stability size per method', () => {
    expect(SDE_SOLVER_NAMES.map((n) => [getSdeMethod(n).adaptive, getSdeMethod(n).estimates.stiffness, getSdeMethod(n).stabilitySize])).toEqual([
      [true, false, undefined],
      [true, true, 10.6],
      [true, false, undefined],
      [false, false, undefined],
    ]);
    expect(getSdeMethod('sosri2').stepper({ arithmetic: chooseArithmetic() }).stabilitySize).toBe(10.6);
    expect(getSdeMethod('euler_maruyama').stepper({ arithmetic: chooseArithmetic() }).adaptive).toBe(false);
    expect(() => getSdeMethod('SOSRI')).toThrow(/Unknown SDE solver 'SOSRI'\. Valid SDE solvers: 'sosri'/);
  });

  test('the SDE controller settings reach the loop: accepted steps grow by at most qmax = 9/8', () => {
    expect(getSdeMethod('sosri').controller).toMatchObject({ beta1: 7 / 15, beta2: 4 / 15, safety: 0.9, qmax: 9 / 8, qmin: 1 / 5, qoldinit: 1e-4 });
    const r = solveSDE(f, g, y0, { seed: 9, rtol: 0.5, atol: 0.5, dt0: 1e-3 });
    tf.dispose(r.ys);
    const ratios = r.stats.dt.slice(1, -1).map((dt, i) => dt / r.stats.dt[i]);
    expect(Math.max(...ratios)).toBeLessThanOrEqual((9 / 8) * (1 + 1e-12));
    expect(Math.max(...ratios)).toBeGreaterThan(1.12); // growth-limited at this loose tolerance
  });
});

test('SOSRI2 reports stiffness estimates ≈ |λ| on dy = λy dt + small noise; SOSRI reports none', () => {
  const lambda = -20;
  const f: VectorField = (_t, y) => tf.mul(y, lambda);
  const g: VectorField = (_t, y) => tf.mul(y, 0.01);
  const x0 = tf.ones([16]);
  const r = solveSDE(f, g, x0, { solver: 'sosri2', seed: 4 });
  tf.dispose(r.ys);
  const S = r.stats.stiffnessEstimate;
  expect(S.length).toBe(r.stats.nAccepted);
  const sorted = S.slice().sort((a, b) => a - b);
  expect(Math.abs(sorted[Math.floor(S.length / 2)] - 20)).toBeLessThan(0.5);
  expect(S.filter((s) => Math.abs(s - 20) < 1).length).toBeGreaterThan(0.9 * S.length);
  const plain = solveSDE(f, g, x0, { seed: 4 });
  tf.dispose(plain.ys);
  expect(plain.stats.stiffnessEstimate).toEqual([]);
  x0.dispose();
});

test('a sequential BrownianInterval drives a solve: ~2 normals per element per attempted step (the tree: ~30)', () => {
  const { f, g } = gbm(1, 0.5);
  const counts = [brownianInterval({ seed: 3, t0: 0, t1: 1, shape: y0.shape }), brownianTree({ seed: 3, t0: 0, t1: 1, shape: y0.shape })].map((path) => {
    const r = solveSDE(f, g, y0, { brownian: path, rtol: 0.02, atol: 0.02 });
    expect(r.brownian).toBe(path);
    tf.dispose(r.ys);
    return path.normalsDrawn / (y0.size * r.stats.nSteps);
  });
  expect(counts[0]).toBeLessThanOrEqual(2.05);
  expect(counts[1]).toBeGreaterThan(10);
});

test('kept step states replay bit for bit from the same increments (what the discrete adjoint needs)', () => {
  const { f, g } = gbm(1, 0.5);
  const o = resolveOptions({ seed: 8, rtol: 0.05, atol: 0.05, saveat: [0.5, 1] }, 'sde');
  const before = tf.memory().numTensors;
  const { stats, stepStates, ys, outputStep, brownian } = solveSDEResolved(f, g, y0, o, true);
  expect(stepStates.length).toBe(stats.nAccepted);
  expect(tf.memory().numTensors - before).toBe(stepStates.length + ys.length);
  expect(outputStep[outputStep.length - 1]).toBe(stats.nAccepted - 1);
  const tol = { atol: 0.05, rtol: 0.05 };
  for (let j = 0; j < stats.nAccepted; j++) {
    const { dW, dZ } = stepNoise(brownian, stats.t[j], stats.dt[j], y0.shape, true);
    const r = sriStep(sosri, f, g, stats.t[j], stepStates[j], stats.dt[j], dW, dZ as tf.Tensor, tol, { error: true });
    const next = j + 1 < stats.nAccepted ? stepStates[j + 1] : ys[1];
    expect(tf.util.arraysEqual(r.y1.dataSync(), next.dataSync())).toBe(true);
    // the state bit for bit; E to float32 rounding: on cpu/wasm the forward step's norm accumulates in float64
    // (host arithmetic), the replay's in float32
    expect(Math.abs(r.error!.dataSync()[0] / stats.errorEstimate[j] - 1)).toBeLessThan(1e-6);
    tf.dispose([r.y1, r.error!, dW, dZ!]);
  }
  tf.dispose([...stepStates, ...ys]);
});

describe('saveat: linear interpolation between accepted steps (default) or stepping onto the times', () => {
  test('interpolation takes the steps of a solve without saveat and returns (1 − θ)·y_j + θ·y_j+1; step mode steps onto the times', () => {
    const { f, g } = gbm(0.5, 1);
    const tree = brownianTree({ seed: 8, t0: 0, t1: 1, shape: [N] });
    const plain = solveSDE(f, g, y0, { brownian: tree, rtol: 1e-2, atol: 1e-2 });
    const { t, dt } = plain.stats;
    expect(t.length).toBeGreaterThan(4);
    // outputs at two step ends and at a time 30% into the step between them
    const [a, b] = [t[2], t[3]];
    const s = a + 0.3 * dt[2];
    const interp = solveSDE(f, g, y0, { brownian: tree, rtol: 1e-2, atol: 1e-2, saveat: [a, s, b, 1] });
    expect(interp.stats.dt).toEqual(dt); // the same steps: outputs cost no steps
    expect(Array.from(interp.ys[3].dataSync())).toEqual(Array.from(plain.ys[0].dataSync()));
    const [ya, ys, yb] = interp.ys.map((y) => y.dataSync());
    const theta = (s - a) / dt[2];
    for (let i = 0; i < N; i++) expect(ys[i]).toBeCloseTo(ya[i] + theta * (yb[i] - ya[i]), 5);
    const stepped = solveSDE(f, g, y0, { brownian: tree, rtol: 1e-2, atol: 1e-2, saveat: [a, s, b, 1], saveatMode: 'step' });
    expect(stepped.stats.t).toEqual(expect.arrayContaining([s]));
    expect(stepped.stats.nAccepted).toBeGreaterThan(plain.stats.nAccepted);
    tf.dispose([...plain.ys, ...interp.ys, ...stepped.ys]);
    expect(() => solveSDE(f, g, y0, { saveatMode: 'dense' as never })).toThrow(/'saveatMode' must be 'interpolate' or 'step'/);
  });
});

describe('fixed-step SRI (adaptive: false)', () => {
  test('steps of dt0, every one accepted, the same states as an adaptive solve held at dt0; dt0 required', () => {
    const { f, g } = gbm(1, 0.5);
    const tree = brownianTree({ seed: 5, t0: 0, t1: 1, shape: [N] });
    const fixed = solveSDE(f, g, y0, { brownian: tree, adaptive: false, dt0: 1 / 32 });
    expect([fixed.stats.nAccepted, fixed.stats.nRejected]).toEqual([32, 0]);
    expect(fixed.stats.errorEstimate).toEqual([]);
    // the tolerance trick of the convergence test: an adaptive solve that always accepts dt0
    const held = solveSDE(f, g, y0, { brownian: tree, dt0: 1 / 32, dtmax: 1 / 32, rtol: 1e6, atol: 1e6 });
    expect(held.stats.dt).toEqual(fixed.stats.dt);
    expect(Array.from(fixed.ys[0].dataSync())).toEqual(Array.from(held.ys[0].dataSync()));
    tf.dispose([...fixed.ys, ...held.ys]);
    expect(() => solveSDE(f, g, y0, { adaptive: false })).toThrow(/With adaptive: false, 'sosri' takes fixed steps: set 'dt0'/);
    expect(() => solveSDE(f, g, y0, { solver: 'euler_maruyama', dt0: 0.1, adaptive: true })).toThrow(/'euler_maruyama' has no error estimate and cannot adapt/);
    expect(() => solveSDE(f, g, y0, { adaptive: false, dt0: 0.1, qmax: 2 })).toThrow(
      /'qmax' tunes the step-size control of adaptive methods; this solve takes fixed steps \('sosri' with adaptive: false\)/,
    );
  });
});

describe('step-size control options (delta, qmax)', () => {
  test("defaults are StochasticDiffEq's; δ = 0 drops the drift term (far fewer steps here), a larger qmax lets steps grow faster", () => {
    expect(resolveOptions({}, 'sde').delta).toBe(1);
    expect(resolveOptions({}, 'sde').controller.qmax).toBe(9 / 8);
    expect(resolveOptions({ solver: 'sriw1' }, 'sde').delta).toBe(1 / 6);
    expect(resolveOptions({ solver: 'euler_maruyama', dt0: 0.1 }, 'sde').delta).toBeUndefined();
    // a strong drift and weak noise: with δ = 1 the drift term δ·h·Σk bounds the step
    const { f, g } = gbm(2, 0.1);
    const steps = (o: SdeSolveOptions): number => {
      const r = solveSDE(f, g, tf.ones([64]), { seed: 3, rtol: 1e-2, atol: 1e-2, ...o });
      tf.dispose(r.ys);
      return r.stats.nAccepted;
    };
    // measured: 978 steps; δ = 0: 40; δ = 0 and qmax = 10: 15
    const base = steps({});
    expect(steps({ delta: 1 })).toBe(base);
    const noDrift = steps({ delta: 0 });
    expect(noDrift).toBeLessThan(0.1 * base);
    expect(steps({ delta: 0, qmax: 10 })).toBeLessThan(0.6 * noDrift);
  });
});

describe('errors name the fix and leak nothing', () => {
  const { f, g } = gbm(0.5, 0.5);
  const tree = brownianTree({ seed: 1, t0: 0, t1: 1, shape: [N] });

  test.each<[string, SdeSolveOptions, RegExp]>([
    ['unknown option', { rtoll: 1e-3 } as never, /Unknown option 'rtoll' \(did you mean 'rtol'\?\)\. Valid options: .*seed, brownian/],
    ['an ODE-only option', { arithmetic: 'host' } as never, /Unknown option 'arithmetic'/],
    ['unknown solver', { solver: 'tsit5' as never }, /Unknown SDE solver 'tsit5'\. Valid SDE solvers: 'sosri', 'sosri2', 'sriw1', 'euler_maruyama'/],
    ['reversed tspan', { tspan: [1, 0] }, /forward in time only: option 'tspan' must have t0 < t1, got \[1, 0\]/],
    ['Euler–Maruyama without dt0', { solver: 'euler_maruyama' }, /'euler_maruyama' takes fixed steps: set 'dt0'.*'sosri'/],
    ['fractional seed', { seed: 1.5 }, /'seed' must be an integer in \[0, 9007199254740991\], got 1.5/],
    ['seed and brownian', { seed: 1, brownian: tree }, /either 'seed' or 'brownian', not both/],
    ['brownian not a path', { brownian: {} as never }, /'brownian' must be a Brownian path \(brownianInterval\(\{seed, t0, t1, shape\}\) or brownianTree/],
    ['brownian too short', { brownian: tree, tspan: [0, 2] }, /covers \[0, 1\], which does not contain tspan \[0, 2\]/],
    ['rtol zero (shared check)', { rtol: 0 }, /'rtol' must be a finite positive number, got 0/],
    ['saveat outside tspan', { saveat: [0.5, 2] }, /'saveat' entry 1 \(2\) lies outside tspan/],
    ['negative delta', { delta: -1 }, /'delta' must be a finite number ≥ 0/],
    ['qmax not above 1', { qmax: 1 }, /'qmax' must be a finite number > 1/],
    [
      'delta on a fixed-step method',
      { solver: 'euler_maruyama', dt0: 0.1, delta: 0 },
      /'delta' tunes the step-size control of adaptive methods; this solve takes fixed steps \('euler_maruyama'\)/,
    ],
  ])('%s', (_name, opts, msg) => {
    const e = expectThrowNoLeak(() => solveSDE(f, g, y0, opts));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toMatch(msg);
  });

  test('bad arguments', () => {
    expect(() => solveSDE(f, g, [1] as never)).toThrow(/y0 must be a tf.Tensor/);
    expect(() => solveSDE(f, 'g' as never, y0)).toThrow(/diffusion g\(t, y\) must be a function/);
    expect(() => solveSDE(f, g, y0, [] as never)).toThrow(/SDE solver options must be an object/);
    const small = tf.ones([3]);
    const e = expectThrowNoLeak(() => solveSDE(f, g, small, { brownian: tree }));
    expect(e.message).toMatch(/'brownian' has shape \[200\] but y0 has shape \[3\]/);
    small.dispose();
  });

  function solverError(fn: () => unknown): SolverError {
    const e = expectThrowNoLeak(fn);
    expect(e).toBeInstanceOf(SolverError);
    return e as SolverError;
  }

  test.each(['sosri', 'euler_maruyama'] as const)('%s: diffusion of the wrong shape names g', (solver) => {
    const e = solverError(() => solveSDE(f, (_t, y) => tf.concat([y, y]), y0, { solver, seed: 1, dt0: 0.1 }));
    expect(e.code).toBe('bad_derivative');
    expect(e.message).toMatch(/diffusion g\(t, y\) returned a float32 tensor of shape \[400\] for a state of shape \[200\]: diagonal noise/);
    expect((e.stats as SdeSolveStats).nfeDiffusion).toBe(1);
  });

  test('drift of the wrong shape names f', () => {
    const e = solverError(() => solveSDE((_t, y) => tf.sum(y), g, y0, { seed: 1 }));
    expect(e.code).toBe('bad_derivative');
    expect(e.message).toMatch(/drift f\(t, y\) returned a float32 tensor of shape \[\]/);
  });

  test('NaN: initial state, drift blowing up, Euler–Maruyama', () => {
    const bad = tf.fill([4], NaN);
    expect(solverError(() => solveSDE(f, g, bad, { seed: 1 })).code).toBe('non_finite_state');
    bad.dispose();
    // Finite at t0 only: every attempted step is non-finite, so the solve fails after 10 attempts.
    const nanDrift: VectorField = (t, y) => (t === 0 ? tf.mul(y, 0.5) : tf.fill(y.shape, NaN));
    const e = solverError(() => solveSDE(nanDrift, g, y0, { seed: 1 }));
    expect(e.code).toBe('non_finite_state');
    expect(e.message).toMatch(/The last 10 attempted steps all produced NaN or Infinity/);
    expect(e.stats.nSteps).toBe(10);
    const nanDiffusion: VectorField = (t, y) => (t === 0 ? tf.mul(y, 0.5) : tf.fill(y.shape, NaN));
    expect(solverError(() => solveSDE(f, nanDiffusion, y0, { seed: 1 })).code).toBe('non_finite_state');
    const em = solverError(() => solveSDE(nanDrift, g, y0, { seed: 1, solver: 'euler_maruyama', dt0: 0.1 }));
    expect(em.code).toBe('non_finite_state');
    expect(em.message).toMatch(/fixed step/);
  });

  test('maxSteps', () => {
    const e = solverError(() => solveSDE(f, g, y0, { seed: 1, maxSteps: 3 }));
    expect(e.code).toBe('max_steps');
    expect(e.stats.nSteps).toBe(3);
    expect(e.stats.nfe).toBe(3 * 4 + 2);
    expect((e.stats as SdeSolveStats).nfeDiffusion).toBe(3 * 4 + 2);
  });

  test('a step backwards in time is refused by the stepper', () => {
    const stepper = getSdeMethod('sosri').stepper({ arithmetic: chooseArithmetic() });
    const term = { drift: f, diffusion: g, brownian: tree };
    const e = expectThrowNoLeak(() => stepper.step(term, 0.5, y0, -0.1, null, { atol: 1, rtol: 1 }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toMatch(/forward in time only, got a step dt=-0.1/);
  });
});
