/** The spiral benchmark of the NeuralODE literature: dy/dt = A·y³, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0]. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { neuralODE, NeuralODE, NeuralODEOptions, power, solve } from '../src';

export const SPIRAL_A = [
  [-0.1, 2],
  [-2, -0.1],
];

/** True trajectory at `ts` from y0, shape [batch, ts.length, 2], from a tight-tolerance solve. */
export function spiralTrajectory(y0: number[][], ts: number[]): tf.Tensor3D {
  return tf.tidy(() => {
    const A = tf.tensor2d(SPIRAL_A);
    const { ys } = solve((_t, y) => tf.matMul(tf.pow(y, 3) as tf.Tensor2D, A, false, true), tf.tensor2d(y0), {
      tspan: [ts[0], ts[ts.length - 1]],
      saveat: ts,
      rtol: 1e-7,
      atol: 1e-9,
    });
    return tf.stack(ys, 1) as tf.Tensor3D;
  });
}

/** The usual spiral NODE: f(y) = W2·tanh(W1·y³ + b1) + b2, seeded. */
export function spiralNODE(opts: NeuralODEOptions & { hidden?: number; seed?: number; name?: string; inputShape?: number[] }): NeuralODE {
  const { hidden = 50, seed = 1, ...rest } = opts;
  return neuralODE({
    ...rest,
    vectorField: [
      power({ exponent: 3 }),
      tfl.layers.dense({ units: hidden, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

export function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}
