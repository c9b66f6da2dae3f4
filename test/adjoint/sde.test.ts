/**
 * discreteAdjointSDE: gradients to the state and to parameters of a drift and a diffusion written with tf ops,
 * against autodiff through the unrolled accepted steps on the same Brownian increments; paths (seeded, fresh,
 * given, returned); memory; errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { discreteAdjointSDE, solveSDE } from '../../src';
import { BrownianTree } from '../../src/noise/brownian';
import { ParametricField } from '../../src/adjoint/discrete';
import { sriStep } from '../../src/solvers/sri/step';
import { SRI_TABLEAUS } from '../../src/solvers/sri/tableaus';
import { maxRelErr } from '../support/helpers';

const drift: ParametricField = (t, y, [W, b]) => tf.sub(tf.tanh(tf.add(tf.matMul(y, W), b)), tf.mul(y, 0.5 * t));
const diffusion: ParametricField = (_t, y, [, , s]) => tf.mul(tf.sigmoid(y), s);

function setup(): { x: tf.Tensor; params: tf.Tensor[]; R: tf.Tensor } {
  return {
    x: tf.randomNormal([3, 4], 0, 1, 'float32', 11),
    params: [tf.randomNormal([4, 4], 0, 0.7, 'float32', 12), tf.randomNormal([4], 0, 0.3, 'float32', 13), tf.randomUniform([4], 0.1, 0.5, 'float32', 14)],
    R: tf.randomNormal([3, 4], 0, 1, 'float32', 15),
  };
}

describe('discreteAdjointSDE', () => {
  test.each(['sosri', 'sriw1'] as const)('%s: gradients to x and every parameter equal autodiff through the unrolled steps on the same path', (solver) => {
    const { x, params, R } = setup();
    const sde = discreteAdjointSDE(drift, diffusion, { solver, seed: 5, tspan: [0, 0.8], rtol: 1e-2, atol: 1e-2 });
    const loss = (...a: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(sde.op(a[0], ...a.slice(1)), R));
    const grads = tf.grads(loss)([x, ...params]);
    const stats = sde.record.forward!;
    const path = sde.lastPath!;
    expect(stats.nAccepted).toBeGreaterThan(3);
    // the reverse pass replayed every accepted step: 4 drift (SRIW1: 2) and 4 diffusion evaluations each, no path queries needed
    expect(sde.record.nfeBackward).toBe(stats.nAccepted * SRI_TABLEAUS[solver].evaluationsPerStep.drift);
    const unrolled = (...a: tf.Tensor[]): tf.Scalar => {
      let y = a[0];
      const ps = a.slice(1);
      stats.dt.forEach((dt, j) => {
        const { dW, H } = path.increment(stats.t[j], Math.min(stats.t[j] + dt, 0.8));
        const dWt = tf.tensor(Float32Array.from(dW), x.shape);
        const dZt = tf.tensor(
          Float32Array.from(H, (h) => 2 * Math.sqrt(3) * h),
          x.shape,
        );
        y = sriStep(
          SRI_TABLEAUS[solver],
          (t, s) => drift(t, s, ps),
          (t, s) => diffusion(t, s, ps),
          stats.t[j],
          y,
          dt,
          dWt,
          dZt,
          { rtol: 1e-2, atol: 1e-2 },
        ).y1;
      });
      return tf.sum(tf.mul(y, R));
    };
    const reference = tf.grads(unrolled)([x, ...params]);
    grads.forEach((g, i) => expect(maxRelErr(g, reference[i])).toBeLessThan(1e-4));
    tf.dispose([x, R, ...params, ...grads, ...reference]);
  });

  test('paths: a seed gives the same path every call, no seed a fresh one, opWithPath the given one; solveSDE returns its path', () => {
    const { x, params } = setup();
    const seeded = discreteAdjointSDE(drift, diffusion, { seed: 3 });
    const a = seeded.op(x, ...params);
    const b = seeded.op(x, ...params);
    expect(tf.util.arraysEqual(a.dataSync(), b.dataSync())).toBe(true);
    const fresh = discreteAdjointSDE(drift, diffusion);
    const c = fresh.op(x, ...params);
    const d = fresh.op(x, ...params);
    expect(tf.util.arraysEqual(c.dataSync(), d.dataSync())).toBe(false);
    // the path of a solveSDE call, reused by the op: the same solve, the same states
    const f = (t: number, y: tf.Tensor): tf.Tensor => drift(t, y, params);
    const g = (t: number, y: tf.Tensor): tf.Tensor => diffusion(t, y, params);
    const solved = solveSDE(f, g, x, { seed: 9 });
    expect(solved.brownian).toBeInstanceOf(BrownianTree);
    const before = tf.memory().numTensors;
    const e = fresh.opWithPath(solved.brownian, x, ...params);
    expect(fresh.lastPath).toBe(solved.brownian);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(tf.util.arraysEqual(e.dataSync(), solved.ys[0].dataSync())).toBe(true);
    tf.dispose([x, a, b, c, d, e, ...solved.ys, ...params]);
  });

  test('bad input: clear errors, nothing leaked', () => {
    const { x, params } = setup();
    expect(() => discreteAdjointSDE('f' as never, diffusion)).toThrow(/drift must be a function/);
    expect(() => discreteAdjointSDE(drift, diffusion, { solver: 'tsit5' as never })).toThrow(/Unknown SDE solver 'tsit5'/);
    const sde = discreteAdjointSDE(drift, diffusion, { seed: 1 });
    const before = tf.memory().numTensors;
    const wrong = new BrownianTree({ seed: 1, t0: 0, t1: 1, shape: [2, 4] });
    expect(() => sde.opWithPath(wrong, x, ...params)).toThrow(/The Brownian path has shape \[2,4\] but the state has shape \[3,4\]/);
    expect(() => sde.opWithPath(new BrownianTree({ seed: 1, t0: 0, t1: 0.5, shape: [3, 4] }), x, ...params)).toThrow(/does not contain tspan \[0, 1\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...params]);
  });
});
