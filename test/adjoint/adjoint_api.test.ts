/**
 * The public `discreteAdjoint` op as a user calls it: public options, parameters that are plain
 * tensors (even intermediates), higher-order gradients refused cleanly, and a backward pass that
 * reuses the forward pass's stiffness decisions instead of re-deciding (and reading back) them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { discreteAdjoint, InvalidArgumentError, neuralODE, stiffness } from '../../src';
import * as tfl from '@tensorflow/tfjs-layers';
import { maxRelErr } from '../support/helpers';

const rotation = (_t: number, y: tf.Tensor, [W]: readonly tf.Tensor[]): tf.Tensor => tf.matMul(y as tf.Tensor2D, W as tf.Tensor2D);

describe('discreteAdjoint with public options', () => {
  test('solves with the options of solve() (README usage) and its gradient matches the exact solution', () => {
    // y' = y·W with W = [[0, w], [-w, 0]]: a rotation by angle w·t; y(1) for y0 = [1, 0] is [cos w, sin w].
    const w = 1.3;
    const W = tf.tensor2d([
      [0, w],
      [-w, 0],
    ]);
    const { op, record } = discreteAdjoint(rotation, { tspan: [0, 1], solver: 'dopri5', rtol: 1e-7, atol: 1e-9 });
    const x = tf.tensor2d([[1, 0]]);
    const y = op(x, W);
    expect(record.forward!.nAccepted).toBeGreaterThan(2);
    const [c, s] = y.dataSync();
    expect(c).toBeCloseTo(Math.cos(w), 5);
    expect(s).toBeCloseTo(Math.sin(w), 5);
    // d/dw of y2(1) = sin(w) is cos(w); through W: dW[0][1] = +1, dW[1][0] = −1 direction
    const [, dW] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(op(xx, ww), tf.tensor2d([[0, 1]]))))([x, W]);
    const g = dW.arraySync() as number[][];
    expect(g[0][1] - g[1][0]).toBeCloseTo(Math.cos(w), 4);
    tf.dispose([W, x, y, dW]);
  });

  test('saveat stacks the states on a new first axis; misspelt or internal options are refused', () => {
    const W = tf.tensor2d([
      [0, 1],
      [-1, 0],
    ]);
    const { op } = discreteAdjoint(rotation, { saveat: [0, 0.5, 1] });
    const y = op(tf.tensor2d([[1, 0]]), W);
    expect(y.shape).toEqual([3, 1, 2]);
    expect(() => discreteAdjoint(rotation, { tspan: [0, 1], solvr: 'dopri5' } as never)).toThrow(/Unknown option 'solvr' \(did you mean 'solver'\?\)/);
    expect(() => discreteAdjoint(rotation, { t0: 0, t1: 1, direction: 1 } as never)).toThrow(InvalidArgumentError);
    tf.dispose([W, y]);
  });

  test('a parameter that is a plain tensor, even an intermediate of the differentiated function, gets its gradient', () => {
    const base = tf.tensor2d([
      [0, 1],
      [-1, 0],
    ]);
    const { op } = discreteAdjoint(rotation, { rtol: 1e-6, atol: 1e-8 });
    const x = tf.tensor2d([[0.5, -0.2]]);
    // W = 2·B is created (and, after the forward pass, disposed) inside the differentiated function
    const loss = (b: tf.Tensor): tf.Scalar => tf.sum(tf.square(op(x, tf.mul(b, 2))));
    const before = tf.memory().numTensors;
    const [g] = tf.grads(loss)([base]);
    expect(tf.memory().numTensors).toBe(before + 1);
    // reference: central differences along a random direction
    const dir = tf.tensor2d([
      [0.3, -0.7],
      [0.2, 0.5],
    ]);
    const eps = 1e-3;
    const L = (s: number): number => tf.tidy(() => loss(tf.add(base, tf.mul(dir, s))).dataSync()[0]);
    const fd = (L(eps) - L(-eps)) / (2 * eps);
    const ad = tf.tidy(() => tf.sum(tf.mul(g, dir)).dataSync()[0]);
    expect(Math.abs(fd - ad)).toBeLessThan(2e-3 * Math.max(1, Math.abs(ad)));
    tf.dispose([base, x, dir, g]);
  });

  test('higher-order gradients throw a clear error and leave the engine clean', () => {
    const W = tf.tensor2d([
      [0, 1],
      [-1, 0],
    ]);
    const { op } = discreteAdjoint(rotation);
    const x = tf.tensor2d([[1, 0]]);
    const before = tf.memory().numTensors;
    const secondOrder = (): unknown => tf.grads((a: tf.Tensor) => tf.sum(tf.grads((b: tf.Tensor) => tf.sum(op(b, W)))([a])[0]))([x]);
    expect(secondOrder).toThrow(/Higher-order gradients .* are not supported/);
    expect(tf.memory().numTensors).toBe(before);
    // first-order gradients still work and match the autodiff of the same op afterwards
    const [g1] = tf.grads((a: tf.Tensor) => tf.sum(op(a, W)))([x]);
    const [g2] = tf.grads((a: tf.Tensor) => tf.sum(op(a, W)))([x]);
    expect(maxRelErr(g1, g2)).toBe(0);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([W, x, g1, g2]);
  });
});

describe('stiffness estimates in the backward pass', () => {
  test('the reverse pass reads back nothing per step: it reuses the forward decision on which S_j are zero', () => {
    const layer = neuralODE({
      inputShape: [2],
      vectorField: [tfl.layers.dense({ units: 8, activation: 'tanh' }), tfl.layers.dense({ units: 2 })],
      regularizers: [stiffness({ weight: 0.1 })],
      arithmetic: 'tensor',
      rtol: 1e-5,
      atol: 1e-7,
    });
    const model = tfl.sequential({ layers: [layer] });
    const x = tf.tensor2d([
      [1, 2],
      [-1, 0.5],
    ]);
    const spy = jest.spyOn(tf.Tensor.prototype, 'dataSync');
    const countReadbacks = (fn: () => void): number => {
      spy.mockClear();
      fn();
      return spy.mock.calls.length;
    };
    const forwardOnly = countReadbacks(() => tf.tidy(() => void model.apply(x, { training: true })));
    const both = countReadbacks(() => {
      const { value, grads } = tf.variableGrads(() => {
        model.apply(x, { training: true });
        return model.calculateLosses()[0] as tf.Scalar;
      });
      tf.dispose([value, ...Object.values(grads)]);
    });
    spy.mockRestore();
    const steps = layer.lastStats!.nAccepted;
    expect(steps).toBeGreaterThan(5);
    // one read-back of the estimate cotangents for the whole backward pass (before: 3 more per step)
    expect(both - forwardOnly).toBeLessThanOrEqual(1);
    x.dispose();
    model.dispose();
  });
});
