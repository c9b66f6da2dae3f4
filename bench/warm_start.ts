// warmStart (issue 18): training and prediction NFE with and without warm-started steps, vanilla and error-regularized,
// on the z(0) -> z(1) map of test/regularizers/nfe_reduction.test.ts (cpu backend). Run: npx tsx bench/warm_start.ts
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, errorEstimate, neuralODE, nfeLogger } from '../src';
(async () => {
  await tf.setBackend('cpu');
  const x = tf.randomNormal([32, 2], 0, 1, 'float32', 1);
  const c = 0.8 * Math.cos(1),
    s = 0.8 * Math.sin(1);
  const y = tf.matMul(
    x,
    tf.tensor2d([
      [c, s],
      [-s, c],
    ]),
  );
  for (const warmStart of [false, true])
    for (const lambda of [0, 100]) {
      const model = tfl.sequential({
        layers: [
          neuralODE({
            inputShape: [2],
            rtol: 1e-5,
            atol: 1e-6,
            warmStart,
            regularizers: lambda ? [errorEstimate({ weight: lambda })] : [],
            vectorField: [
              tfl.layers.dense({ units: 32, activation: 'tanh', kernelInitializer: tfl.initializers.randomNormal({ stddev: 1, seed: 1 }) }),
              tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.randomNormal({ stddev: 1, seed: 2 }) }),
            ],
          }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
      const t0 = Date.now();
      const h = await model.fit(x, y, { epochs: 60, verbose: 0, callbacks: [nfeLogger()] });
      const trainNfe = (h.history.nfe as number[]).reduce((a, b) => a + b, 0);
      const { result, nfePerCall } = countNFE(model, () => model.predict(x) as tf.Tensor);
      const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(result, y))).dataSync()[0]);
      console.log(
        `warmStart=${warmStart} lambda=${lambda}: train forward NFE ${trainNfe}, ${((Date.now() - t0) / 1000).toFixed(1)} s; prediction NFE ${nfePerCall}, MSE ${mse.toFixed(4)}`,
      );
      tf.dispose(result);
      model.dispose();
    }
})();
