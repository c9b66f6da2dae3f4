/** A small NeuralSDE (state 2, seeded weights) and a 3-row input, shared by the NeuralSDE layer tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { neuralSDE, NeuralSDE } from '../../src';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

export function sdeLayer(extra: Record<string, unknown> = {}, seed = 1): NeuralSDE {
  return neuralSDE({
    drift: [
      tfl.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: init(seed) }),
      tfl.layers.dense({ units: 2, kernelInitializer: init(seed + 1) }),
    ],
    diffusion: [tfl.layers.dense({ units: 2, activation: 'sigmoid', kernelInitializer: init(seed + 2) })],
    rtol: 1e-2,
    atol: 1e-2,
    ...extra,
  });
}

export const X = (): tf.Tensor2D =>
  tf.tensor2d([
    [0.5, -1],
    [1.5, 0.2],
    [-0.3, 0.8],
  ]);
