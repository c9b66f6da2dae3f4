/** The spiral benchmark of the NeuralODE literature: dy/dt = A·y³, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0]. */
import * as tfl from '@tensorflow/tfjs-layers';
import { spiralTrajectories } from '../../demos/lib/spiral_system';
import { neuralODE, NeuralODE, NeuralODEOptions, power } from '../../src';

/** True trajectory at `ts` from y(0) = y0, shape [batch, ts.length, 2]. */
export const spiralTrajectory = spiralTrajectories;

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
