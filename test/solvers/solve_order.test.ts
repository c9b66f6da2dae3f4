/**
 * Empirical order of convergence: global error at t = T against a fixed step size, log-log slope.
 * Adaptive methods are run at fixed steps by making every step acceptable (huge tolerances) and
 * capping dt at dt0.
 *
 * float32 limits what can be measured: the state carries ~7 digits, so the usable error range is
 * about 1e-1 .. 1e-5 and each method gets the step range (as data below) where its error sits
 * there. On linear autonomous problems a method's global error comes from R(z) − e^z, with R its
 * stability polynomial; for tsit5 the z^6 coefficient of R is within 3.1% of 1/720, so its
 * order-5 error term is ~30x smaller than usual and the measurable range shows a slope between 5
 * and 6 (its order-5 conditions themselves are checked exactly in tableau.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { solve, SolverName } from '../../src';
import { logLogSlope } from '../support/helpers';

interface Case {
  solver: SolverName;
  order: number;
  /** rotation rate w and decay a of y' = [[-a, -w], [w, -a]] y, and end time T */
  a: number;
  w: number;
  T: number;
  steps: number[];
  /** allowed slope range */
  lo: number;
  hi: number;
}

const CASES: Case[] = [
  { solver: 'euler', order: 1, a: 0.5, w: 2, T: 4, steps: [256, 512, 1024], lo: 0.7, hi: 1.3 },
  { solver: 'midpoint', order: 2, a: 0.5, w: 2, T: 4, steps: [64, 128, 256], lo: 1.7, hi: 2.3 },
  { solver: 'bosh3', order: 3, a: 0.5, w: 2, T: 4, steps: [32, 64, 128], lo: 2.7, hi: 3.3 },
  { solver: 'rk4', order: 4, a: 0.5, w: 2, T: 4, steps: [16, 32, 64], lo: 3.7, hi: 4.3 },
  { solver: 'dopri5', order: 5, a: 0, w: 1, T: 200, steps: [283, 400, 566, 800], lo: 4.7, hi: 5.3 },
  // See the header: tsit5's linear-problem error constant makes 5 ≤ slope ≤ 6 in the float32 range.
  { solver: 'tsit5', order: 5, a: 0, w: 1, T: 200, steps: [283, 400, 566, 800], lo: 4.7, hi: 6.3 },
];

function globalError(c: Case, n: number): number {
  const f = (_t: number, y: tf.Tensor): tf.Tensor =>
    tf.tidy(() =>
      tf.matMul(
        y as tf.Tensor2D,
        tf.tensor2d([
          [-c.a, c.w],
          [-c.w, -c.a],
        ]),
      ),
    );
  const dt = c.T / n;
  const { ys, stats } = solve(f, tf.tensor2d([[1, 0]]), {
    solver: c.solver,
    tspan: [0, c.T],
    dt0: dt,
    dtmax: dt,
    rtol: 1e10,
    atol: 1e10,
  });
  expect(stats.nAccepted).toBe(n);
  expect(stats.nRejected).toBe(0);
  const [x, y] = ys[0].dataSync();
  ys[0].dispose();
  const e = Math.exp(-c.a * c.T);
  return Math.hypot(x - e * Math.cos(c.w * c.T), y - e * Math.sin(c.w * c.T));
}

describe('empirical order of convergence (fixed steps)', () => {
  test.each(CASES.map((c) => [c.solver, c]))('%s', (_name, c) => {
    const errors = c.steps.map((n) => globalError(c, n));
    const dts = c.steps.map((n) => c.T / n);
    // Errors must sit above the float32 floor for the slope to mean anything.
    for (const e of errors) expect(e).toBeGreaterThan(1e-6);
    const p = logLogSlope(dts, errors);
    expect(p).toBeGreaterThanOrEqual(c.lo);
    expect(p).toBeLessThanOrEqual(c.hi);
  });
});
