/**
 * What the regularizers are for: on a z(0) ↦ z(1) map (many dynamics fit), error-estimate regularization ends
 * with fewer prediction NFE at a comparable loss. Its own file: it trains two models (the suite's slowest test).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, errorEstimate, neuralODE } from '../../src';

describe('the point of it all', () => {
  // A small z(0) -> z(1) map on a fixed seed: learn y = 0.8·R(1 rad)·x for 32 inputs x ~ N(0, I)
  // with a 2-32-2 tanh MLP vector field (weights ~ N(0, 1)), Adam(0.02), 60 full-batch epochs,
  // tsit5 at rtol 1e-5 / atol 1e-6. Only the final state is observed, so many dynamics fit; the
  // error-estimate penalty selects cheap ones. Measured (cpu and wasm alike):
  //   vanilla                     MSE 0.259, prediction NFE 153
  //   errorEstimate({weight: 1})  MSE 0.014 (cpu) / 0.015 (wasm), prediction NFE 69 (cpu) / 75 (wasm)
  test('error-estimate regularization ends with fewer prediction NFE at a comparable (here: lower) loss', async () => {
    const x = tf.randomNormal([32, 2], 0, 1, 'float32', 1);
    const c = 0.8 * Math.cos(1);
    const s = 0.8 * Math.sin(1);
    const M = tf.tensor2d([
      [c, s],
      [-s, c],
    ]);
    const y = tf.matMul(x, M);
    const train = async (lambda: number): Promise<{ mse: number; nfe: number }> => {
      const model = tfl.sequential({
        layers: [
          neuralODE({
            inputShape: [2],
            rtol: 1e-5,
            atol: 1e-6,
            regularizers: lambda ? [errorEstimate({ weight: lambda })] : [],
            vectorField: [
              tfl.layers.dense({ units: 32, activation: 'tanh', kernelInitializer: tfl.initializers.randomNormal({ stddev: 1, seed: 1 }) }),
              tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.randomNormal({ stddev: 1, seed: 2 }) }),
            ],
          }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
      await model.fit(x, y, { epochs: 60, verbose: 0 });
      const { result, nfePerCall } = countNFE(model, () => model.predict(x) as tf.Tensor);
      const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(result, y))).dataSync()[0]);
      tf.dispose(result);
      model.dispose();
      return { mse, nfe: nfePerCall };
    };
    const vanilla = await train(0);
    const regularized = await train(100);
    expect(regularized.nfe).toBeLessThanOrEqual(0.6 * vanilla.nfe);
    expect(regularized.mse).toBeLessThanOrEqual(1.1 * vanilla.mse);
    tf.dispose([x, M, y]);
  });
});
