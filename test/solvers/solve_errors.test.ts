/** Every bad input gives an error that names the fix, carries the statistics so far, and leaks nothing. */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, solve, SolveOptions, SolverError, VectorField } from '../../src';
import { expectThrowNoLeak, rotationField } from '../support/helpers';

let y0: tf.Tensor;
beforeEach(() => {
  y0 = tf.tensor2d([[1, 0]]);
});
afterEach(() => y0.dispose());

function solverError(f: VectorField, x: tf.Tensor, opts: SolveOptions): SolverError {
  const e = expectThrowNoLeak(() => solve(f, x, opts));
  expect(e).toBeInstanceOf(SolverError);
  return e as SolverError;
}

describe('option validation', () => {
  test.each<[string, SolveOptions, RegExp]>([
    ['tspan equal ends', { tspan: [1, 1] }, /'tspan' must be two finite, distinct numbers/],
    ['tspan NaN', { tspan: [0, NaN] }, /'tspan' must be two finite, distinct numbers/],
    ['tspan Infinity', { tspan: [0, Infinity] }, /'tspan'/],
    ['tspan one number', { tspan: [1] as unknown as [number, number] }, /'tspan'/],
    ['rtol zero', { rtol: 0 }, /'rtol' must be a finite positive number, got 0/],
    ['atol negative', { atol: -1e-6 }, /'atol' must be a finite positive number/],
    ['atol NaN', { atol: NaN }, /'atol'/],
    ['unknown solver', { solver: 'RK45' as never }, /Unknown solver 'RK45'\. Valid solvers: 'tsit5', 'dopri5', 'bosh3', 'euler', 'midpoint', 'rk4'/],
    ['fixed step without dt0', { solver: 'rk4' }, /Solver 'rk4' takes fixed steps: set 'dt0'/],
    ['dt0 negative', { dt0: -0.1 }, /'dt0' must be a finite positive number/],
    ['dtmin above dtmax', { dtmin: 0.5, dtmax: 0.1 }, /'dtmin' \(0.5\) must not exceed 'dtmax'/],
    ['maxSteps fractional', { maxSteps: 2.5 }, /'maxSteps' must be a positive integer/],
    ['saveat outside tspan', { saveat: [0.5, 2] }, /'saveat' entry 1 \(2\) lies outside tspan/],
    ['saveat not increasing', { saveat: [0.5, 0.2] }, /'saveat' must be strictly increasing/],
    ['saveat against direction', { tspan: [1, 0], saveat: [0.2, 0.5] }, /strictly decreasing/],
    ['saveat empty', { saveat: [] }, /'saveat' must be a non-empty array/],
    ['unknown option', { rtoll: 1e-3 } as never, /Unknown option 'rtoll' \(did you mean 'rtol'\?\)\. Valid options: .*rtol/],
    ['bad arithmetic', { arithmetic: 'gpu' as never }, /'arithmetic' must be 'auto', 'host' or 'tensor'/],
  ])('%s', (_name, opts, msg) => {
    const e = expectThrowNoLeak(() => solve(rotationField, y0, opts));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toMatch(msg);
  });

  test('bad y0 and f', () => {
    expect(() => solve(rotationField, [1, 2] as never)).toThrow(/y0 must be a tf.Tensor/);
    const ints = tf.tensor2d([[1, 0]], undefined, 'int32');
    expect(() => solve(rotationField, ints)).toThrow(/dtype float32, got int32: cast it/);
    ints.dispose();
    expect(() => solve('f' as never, y0)).toThrow(/vector field must be a function/);
  });
});

describe('solver failures', () => {
  test('non-finite initial state', () => {
    const bad = tf.tensor2d([[NaN, 0]]);
    const e = solverError(rotationField, bad, {});
    expect(e.code).toBe('non_finite_state');
    expect(e.message).toMatch(/initial state contains NaN or Infinity/);
    bad.dispose();
  });

  test('non-finite initial derivative', () => {
    const e = solverError((_t, y) => tf.div(y, 0), y0, {});
    expect(e.code).toBe('non_finite_derivative');
    expect(e.stats.nfe).toBe(1);
  });

  test('vector field of the wrong shape names both shapes', () => {
    const e = solverError((_t, y) => tf.concat([y, y], 1), y0, {});
    expect(e.code).toBe('bad_derivative');
    expect(e.message).toMatch(/shape \[1,4\] for a state of shape \[1,2\]: f\(t, y\) must return a float32 tensor shaped like y/);
  });

  test('vector field returning a non-tensor', () => {
    const e = solverError(() => 3 as never, y0, {});
    expect(e.code).toBe('bad_derivative');
  });

  test('maxSteps reached, with the statistics so far', () => {
    const e = solverError(rotationField, y0, { tspan: [0, 10], maxSteps: 5, rtol: 1e-8, atol: 1e-8 });
    expect(e.code).toBe('max_steps');
    expect(e.message).toMatch(/Reached maxSteps=5 .* Increase 'maxSteps'/);
    expect(e.stats.nSteps).toBe(5);
    // f(t0, y0) once (shared by the initial-step heuristic and the first stage), one more for the heuristic, 6 per attempt
    expect(e.stats.nfe).toBe(2 + 6 * 5);
    expect(e.t).toBeGreaterThan(0);
    expect(e.t).toBeLessThan(10);
  });

  test('controller asks for a step below dtmin (stiff problem)', () => {
    // y' = -1e5 (y - cos t): explicit stability forces dt ~ 3.5e-5
    const f: VectorField = (t, y) => tf.mul(tf.sub(y, Math.cos(t)), -1e5);
    const e = solverError(
      f,
      tf.tidy(() => tf.ones([1, 1])),
      { tspan: [0, 1], dtmin: 1e-3, dt0: 0.01 },
    );
    expect(e.code).toBe('dt_below_dtmin');
    expect(e.message).toMatch(/below dtmin=0.001/);
  });

  test('step size underflow at a finite-time blow-up', () => {
    // y' = y², y(0) = 1 blows up at t = 1
    const e = solverError(
      (_t, y) => tf.square(y),
      tf.tidy(() => tf.ones([1, 1])),
      { tspan: [0, 2], maxSteps: 100000 },
    );
    expect(['dt_underflow', 'dt_below_dtmin']).toContain(e.code);
    expect(e.t).toBeGreaterThan(0.99);
    expect(e.t).toBeLessThan(1.0001);
    expect(e.message).toMatch(/non-finite|underflow/);
  });

  test('fixed-step method whose state blows up', () => {
    const e = solverError((_t, y) => tf.mul(y, 1e30), y0, { solver: 'euler', dt0: 1, tspan: [0, 20] });
    expect(e.code).toBe('non_finite_state');
    expect(e.message).toMatch(/smaller 'dt0' or an adaptive solver/);
  });
});

describe('diagnosis of hard failures', () => {
  test('a diverging vector field fails fast after a run of non-finite attempts, not after maxSteps', () => {
    // finite at the initial state, NaN as soon as the state moves: every attempted step is non-finite
    const f: VectorField = (t, y) => (t === 0 ? tf.mul(y, 1) : tf.div(tf.mul(y, 0), 0));
    const e = solverError(f, y0, { tspan: [0, 1], maxSteps: 10000 });
    expect(e.code).toBe('non_finite_state');
    expect(e.message).toMatch(/The last 10 attempted steps all produced NaN or Infinity/);
    expect(e.stats.nSteps).toBe(10);
    expect(e.stats.nfe).toBeLessThan(100);
  });

  test('a stiff problem that runs out of steps is called stiff (Robertson)', () => {
    // Robertson's chemical kinetics: the classic stiff test problem (eigenvalues down to about −1e4)
    const robertson: VectorField = (_t, y) =>
      tf.tidy(() => {
        const [a, b, c] = tf.split(y, 3, 1);
        const da = tf.add(tf.mul(a, -0.04), tf.mul(1e4, tf.mul(b, c)));
        const db = tf.sub(tf.sub(tf.mul(a, 0.04), tf.mul(1e4, tf.mul(b, c))), tf.mul(3e7, tf.square(b)));
        return tf.concat([da, db, tf.mul(3e7, tf.square(b))], 1);
      });
    const x = tf.tensor2d([[1, 0, 0]]);
    const e = solverError(robertson, x, { tspan: [0, 100], maxSteps: 2000, rtol: 1e-4, atol: 1e-8 });
    x.dispose();
    expect(e.code).toBe('max_steps');
    expect(e.message).toMatch(/The problem looks stiff: the stiffness estimate is .* \|dt\|·S = .* sits at this method.s stability limit \(3.5068\)/);
    // a non-stiff problem that runs out of steps is not called stiff
    const e2 = solverError(rotationField, y0, { tspan: [0, 10], maxSteps: 20, rtol: 1e-8, atol: 1e-8 });
    expect(e2.message).not.toMatch(/looks stiff/);
  });
});
