/** Pins the tfjs engine behaviour that `src/adjoint/vjp.ts` relies on. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients of the Node bundle
import { vjp } from '../../src/adjoint/vjp';

describe('vjp inside a custom gradient', () => {
  test('engine internals it needs are present', () => {
    const e = tf.engine() as unknown as { state: Record<string, unknown>; gradients: unknown };
    const x = tf.scalar(1);
    tf.grad((z: tf.Tensor) => tf.square(z))(x).dispose();
    x.dispose();
    expect('activeTape' in e.state).toBe(true);
    expect(e.state.activeTape).toBeNull(); // reset after a top-level gradient
    expect(typeof e.gradients).toBe('function');
  });

  test('plain tf.grads inside gradFunc breaks the outer pass (why vjp.ts exists)', () => {
    const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x]);
      return {
        value: tf.square(x),
        gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => [tf.mul(dy, tf.grad((z: tf.Tensor) => tf.sum(tf.square(z)))(xs))],
      };
    }) as never) as (x: tf.Tensor) => tf.Tensor;
    const x = tf.tensor1d([1, 2, 3]);
    expect(() => tf.grad((z: tf.Tensor) => tf.sum(op(z)))(x)).toThrow();
    x.dispose();
  });

  test('vjp inside gradFunc gives exact gradients and leaks nothing', () => {
    const w = tf.tensor1d([0.5, -1, 2]);
    const op = tf.customGrad(((x: tf.Tensor, wIn: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x]);
      return {
        value: tf.sum(tf.sin(tf.mul(x, wIn))),
        gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
          const [gx, gw] = vjp(() => tf.sum(tf.sin(tf.mul(xs, wIn))) as tf.Scalar, [xs, wIn]);
          return [tf.mul(dy, gx), tf.mul(dy, gw)];
        },
      };
    }) as never) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
    const x = tf.tensor1d([0.3, 0.1, -0.7]);
    const before = tf.memory().numTensors;
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(op(a, b), 3))([x, w]);
    const xv = x.dataSync();
    const wv = w.dataSync();
    const gxv = gx.dataSync();
    const gwv = gw.dataSync();
    for (let i = 0; i < 3; i++) {
      expect(gxv[i]).toBeCloseTo(3 * wv[i] * Math.cos(xv[i] * wv[i]), 5);
      expect(gwv[i]).toBeCloseTo(3 * xv[i] * Math.cos(xv[i] * wv[i]), 5);
    }
    tf.dispose([gx, gw]);
    expect(tf.memory().numTensors).toBe(before);
    // the engine is usable afterwards
    const g = tf.grad((z: tf.Tensor) => tf.sum(tf.square(z)))(x);
    expect(Array.from(g.dataSync()).map((v) => +v.toFixed(5))).toEqual([0.6, 0.2, -1.4]);
    tf.dispose([g, x, w]);
  });

  test('zeros for inputs the objective does not depend on', () => {
    const a = tf.scalar(2);
    const b = tf.tensor1d([1, 1]);
    const [ga, gb] = vjp(() => tf.square(a) as tf.Scalar, [a, b]);
    expect(ga.dataSync()[0]).toBe(4);
    expect(Array.from(gb.dataSync())).toEqual([0, 0]);
    tf.dispose([a, b, ga, gb]);
  });
});
