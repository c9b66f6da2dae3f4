/** Statistics, saveat, backwards integration and tensor bookkeeping of `solve`. */
import * as tf from '@tensorflow/tfjs-core';
import { solve, SolverName, VectorField } from '../../src';
import { expectNoLeak, rotationExact, rotationField } from '../support/helpers';

function counting(f: VectorField): { f: VectorField; calls: () => number } {
  let n = 0;
  return {
    f: (t, y) => {
      n++;
      return f(t, y);
    },
    calls: () => n,
  };
}

const vdp: VectorField = (_t, y) =>
  tf.tidy(() => {
    const [x, v] = tf.split(y, 2, 1);
    return tf.concat([v, tf.sub(tf.mul(tf.sub(1, tf.square(x)), v), x)], 1);
  });

describe('statistics', () => {
  test.each([
    ['tsit5', 6],
    ['dopri5', 6],
    ['bosh3', 3],
  ] as [SolverName, number][])('%s: nfe = 2 + %i·attempted (f(t0, y0) evaluated once), attempted = accepted + rejected', (solver, perStep) => {
    const c = counting(vdp);
    // a tight tolerance and a large first step so that some steps are rejected
    // the stiffness estimate is computed when asked (bosh3 has none)
    const { ys, stats } = solve(c.f, tf.tensor2d([[2, 0]]), { solver, tspan: [0, 6], rtol: 1e-6, atol: 1e-6, estimateStiffness: solver !== 'bosh3' });
    tf.dispose(ys);
    expect(stats.nfe).toBe(c.calls());
    expect(stats.nfe).toBe(2 + perStep * stats.nSteps);
    expect(stats.nAccepted + stats.nRejected).toBe(stats.nSteps);
    expect(stats.dt).toHaveLength(stats.nAccepted);
    expect(stats.t).toHaveLength(stats.nAccepted);
    expect(stats.errorEstimate).toHaveLength(stats.nAccepted);
    stats.errorEstimate.forEach((e) => expect(e).toBeLessThanOrEqual(1));
    expect(stats.dt.reduce((s, d) => s + d, 0)).toBeCloseTo(6, 10);
    expect(stats.stiffnessEstimate).toHaveLength(solver === 'bosh3' ? 0 : stats.nAccepted);
  });

  test('rejections happen and are counted (large dt0)', () => {
    const c = counting(vdp);
    const { ys, stats } = solve(c.f, tf.tensor2d([[2, 0]]), { tspan: [0, 6], dt0: 3, rtol: 1e-6, atol: 1e-6 });
    tf.dispose(ys);
    expect(stats.nRejected).toBeGreaterThan(0);
    expect(stats.nfe).toBe(c.calls());
    expect(stats.nfe).toBe(1 + 6 * stats.nSteps); // dt0 given: no initial-step heuristic
    expect(stats.dtInitial).toBe(3);
  });

  test.each([
    ['rk4', 4],
    ['midpoint', 2],
    ['euler', 1],
  ] as [SolverName, number][])('%s: nfe = %i per step, exact step count', (solver, perStep) => {
    const c = counting(rotationField);
    const { ys, stats } = solve(c.f, tf.tensor2d([[1, 0]]), { solver, tspan: [0, 1], dt0: 0.1 });
    tf.dispose(ys);
    expect(stats.nAccepted).toBe(10);
    expect(stats.nfe).toBe(c.calls());
    expect(stats.nfe).toBe(perStep * 10);
    expect(stats.errorEstimate).toHaveLength(0);
  });

  test('stiffness estimate tracks the dominant eigenvalue of a linear problem', () => {
    // y' = -L y: ‖k7 − k6‖/‖g7 − g6‖ = |L| exactly for a linear field.
    const L = 7;
    const { ys, stats } = solve((_t, y) => tf.mul(y, -L), tf.tensor2d([[1, 2, 3]]), { tspan: [0, 1], estimateStiffness: true });
    tf.dispose(ys);
    expect(stats.stiffnessEstimate).toHaveLength(stats.nAccepted);
    for (const s of stats.stiffnessEstimate) expect(s).toBeCloseTo(L, 2);
  });

  test('NaN from a too-large step means reject and shrink, not accept', () => {
    // Valid only for y > 0.001; the true solution stays above 0.0067 but a step of 5 overshoots.
    const f: VectorField = (_t, y) => {
      const bad = Math.min(...y.dataSync()) < 1e-3;
      return bad ? tf.fill(y.shape, NaN) : tf.neg(y);
    };
    const { ys, stats } = solve(f, tf.tensor2d([[1]]), { tspan: [0, 5], dt0: 5 });
    const v = ys[0].dataSync()[0];
    tf.dispose(ys);
    expect(stats.nRejected).toBeGreaterThan(0);
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v - Math.exp(-5))).toBeLessThan(1e-4);
  });
});

describe('saveat, direction, shapes and memory', () => {
  test("saveatMode 'step' returns the states at the requested times, stepping exactly onto them", () => {
    const saveat = [0, 0.25, 0.5, 1.7, 3];
    const { ys, ts, stats } = expectNoLeak(
      () =>
        solve(
          rotationField,
          tf.tidy(() => tf.tensor2d([[1, 0]])),
          { tspan: [0, 3], saveat, saveatMode: 'step', rtol: 1e-6, atol: 1e-8 },
        ),
      saveat.length + 1, // the outputs, plus the y0 tensor created in the call
    );
    expect(ts).toEqual(saveat);
    ys.forEach((y, i) => {
      const [a, b] = y.dataSync();
      const [ea, eb] = rotationExact([1, 0], saveat[i]);
      expect(Math.abs(a - ea)).toBeLessThan(1e-5);
      expect(Math.abs(b - eb)).toBeLessThan(1e-5);
    });
    // every requested time is a step boundary
    const ends = [...stats.t.slice(1), 3]; // each step ends where the next starts
    for (const s of saveat.slice(1)) expect(ends).toContain(s);
    tf.dispose(ys);
  });

  test('saveat that stops before t1 still integrates to t1 and returns only the requested states', () => {
    const { ys, ts, stats } = solve(rotationField, tf.tensor2d([[1, 0]]), { tspan: [0, 2], saveat: [0.5] });
    expect(ts).toEqual([0.5]);
    expect(ys).toHaveLength(1);
    expect(stats.t[stats.t.length - 1] + stats.dt[stats.dt.length - 1]).toBe(2);
    tf.dispose(ys);
  });

  test('integrates backwards in time (t1 < t0)', () => {
    const y0 = rotationExact([1, 0], 2);
    const { ys, stats } = solve(rotationField, tf.tensor2d([y0]), { tspan: [2, 0.5], rtol: 1e-6, atol: 1e-8 });
    const [a, b] = ys[0].dataSync();
    const [ea, eb] = rotationExact([1, 0], 0.5);
    expect(Math.abs(a - ea)).toBeLessThan(1e-5);
    expect(Math.abs(b - eb)).toBeLessThan(1e-5);
    stats.dt.forEach((d) => expect(d).toBeLessThan(0));
    expect(stats.dtInitial).toBeLessThan(0);
    tf.dispose(ys);
  });

  test('states of any rank, batch first; a batch shares one step sequence', () => {
    const y0 = tf.ones([4, 3, 2]);
    const { ys, stats } = solve((_t, y) => tf.neg(y), y0, { tspan: [0, 1] });
    expect(ys[0].shape).toEqual([4, 3, 2]);
    const v = ys[0].dataSync();
    v.forEach((x) => expect(Math.abs(x - Math.exp(-1))).toBeLessThan(1e-4));
    expect(stats.nAccepted).toBeGreaterThan(1);
    tf.dispose([y0, ...ys]);
  });

  test('y0 is neither modified nor disposed; an identity vector field is safe', () => {
    const y0 = tf.tensor2d([[1, 2]]);
    const { ys } = expectNoLeak(() => solve((_t, y) => y, y0, { tspan: [0, 1] }), 1);
    expect(y0.isDisposed).toBe(false);
    expect(Array.from(y0.dataSync())).toEqual([1, 2]);
    expect(ys[0].dataSync()[1]).toBeCloseTo(2 * Math.E, 3);
    tf.dispose([y0, ...ys]);
  });

  test.each(['tsit5', 'dopri5', 'bosh3', 'rk4'] as SolverName[])('%s leaks nothing: numTensors grows by the outputs only', (solver) => {
    const y0 = tf.tensor2d([[1, 0]]);
    const { ys } = expectNoLeak(() => solve(rotationField, y0, { solver, tspan: [0, 2], dt0: 0.05, saveat: [1, 2] }), 2);
    tf.dispose([y0, ...ys]);
  });

  test('host and tensor arithmetic give the same solve (up to float32 noise in E)', () => {
    // At tiny steps E is dominated by float32 rounding of the stages, so the two paths may pick
    // slightly different step sequences; the answers must agree to the tolerance.
    const y0 = tf.tensor2d([[1, 0]]);
    const a = solve(rotationField, y0, { tspan: [0, 3], arithmetic: 'host' });
    const b = solve(rotationField, y0, { tspan: [0, 3], arithmetic: 'tensor' });
    expect(Math.abs(a.stats.nAccepted - b.stats.nAccepted)).toBeLessThanOrEqual(2);
    expect(a.stats.dtInitial).toBeCloseTo(b.stats.dtInitial, 9);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a.ys[0], b.ys[0]))).dataSync()[0]);
    expect(d).toBeLessThan(5e-4);
    tf.dispose([y0, ...a.ys, ...b.ys]);
  });
});
