/** The spiral benchmark system of the NeuralODE literature: dy/dt = A·y³, A = [[-0.1, 2], [-2, -0.1]]. */
import * as tf from '@tensorflow/tfjs-core';
import { solve } from '../../src';
import { SPIRAL_A } from './spiral_shared';

export { SPIRAL_A };

/**
 * True trajectories from y(0) = y0 (one row per trajectory), at times `ts` (increasing, > 0 or
 * starting at 0), shape [batch, ts.length, 2], from a tight-tolerance solve.
 */
export function spiralTrajectories(y0: number[][], ts: number[]): tf.Tensor3D {
  return tf.tidy(() => {
    const A = tf.tensor2d(SPIRAL_A);
    const { ys } = solve((_t, y) => tf.matMul(tf.pow(y, 3) as tf.Tensor2D, A, false, true), tf.tensor2d(y0), {
      tspan: [0, ts[ts.length - 1]],
      saveat: ts,
      rtol: 1e-7,
      atol: 1e-9,
    });
    return tf.stack(ys, 1) as tf.Tensor3D;
  });
}
