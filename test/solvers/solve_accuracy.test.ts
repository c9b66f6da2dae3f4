/**
 * Adaptive accuracy: the global error shrinks with the tolerance and stays within a small multiple
 * of it, for rtol = atol from 1e-3 down to 1e-6. Reference values: closed forms, and for Van der
 * Pol (mu = 1, y0 = [2, 0]) a float64 RK4 solve with 4e5 and 8e5 steps that agree to 1e-13.
 *
 * The float32 floor: a state near 1 carries ~6e-8 of rounding per operation, so at rtol = 1e-6
 * the observed error is a mix of truncation and rounding (Van der Pol with tsit5: 1.4e-6); below
 * 1e-6 tolerances stop buying accuracy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { solve, SolverName, VectorField } from '../../src';
import { rotationField, rotationExact } from '../support/helpers';

interface Problem {
  name: string;
  f: VectorField;
  y0: number[][];
  T: number;
  exact: number[][];
}

const VDP_REF_T2 = [0.32331666704607992, -1.8329745679859362];

const PROBLEMS: Problem[] = [
  {
    name: 'exponential decay',
    f: (_t, y) => tf.neg(y),
    y0: [[1], [2], [0.5]],
    T: 2,
    exact: [[Math.exp(-2)], [2 * Math.exp(-2)], [0.5 * Math.exp(-2)]],
  },
  {
    name: 'damped rotation',
    f: rotationField,
    y0: [
      [1, 0],
      [0, 1],
    ],
    T: 3,
    exact: [rotationExact([1, 0], 3), rotationExact([0, 1], 3)],
  },
  {
    name: 'Van der Pol (mu = 1)',
    f: (_t, y) =>
      tf.tidy(() => {
        const [x, v] = tf.split(y, 2, 1);
        return tf.concat([v, tf.sub(tf.mul(tf.sub(1, tf.square(x)), v), x)], 1);
      }),
    y0: [[2, 0]],
    T: 2,
    exact: [VDP_REF_T2],
  },
];

const TOLS = [1e-3, 1e-4, 1e-5, 1e-6];

function maxError(p: Problem, solver: SolverName, tol: number): { err: number; nfe: number } {
  const { ys, stats } = solve(p.f, tf.tensor2d(p.y0), { solver, tspan: [0, p.T], rtol: tol, atol: tol });
  const v = ys[0].arraySync() as number[][];
  ys[0].dispose();
  let err = 0;
  v.forEach((row, i) => row.forEach((x, j) => (err = Math.max(err, Math.abs(x - p.exact[i][j])))));
  return { err, nfe: stats.nfe };
}

describe.each(['tsit5', 'dopri5', 'bosh3'] as SolverName[])('%s adaptive accuracy', (solver) => {
  test.each(PROBLEMS.map((p) => [p.name, p]))('%s', (_name, p) => {
    const runs = TOLS.map((tol) => maxError(p, solver, tol));
    runs.forEach(({ err }, i) => {
      // within a small multiple of the tolerance
      expect(err).toBeLessThan(5 * TOLS[i]);
    });
    // tighter tolerance: more work, and a smaller error down to 1e-5 (the float32 floor blurs 1e-6)
    for (let i = 1; i < TOLS.length; i++) expect(runs[i].nfe).toBeGreaterThan(runs[i - 1].nfe);
    expect(runs[2].err).toBeLessThan(runs[0].err);
    if (process.env.VERBOSE_ACCURACY) console.log(solver, p.name, runs.map((r) => `${r.err.toExponential(2)}@${r.nfe}`).join(' '));
  });
});
