// A NeuralODE that learns the time-1 map of a damped rotation, trained with model.fit and an error-estimate
// regularizer that keeps the learned dynamics cheap to solve.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { countNFE, errorEstimate, neuralODE, nfeLogger } from 'tfjs-neural-de';

await tf.setBackend('wasm');

// Data: y(1) of dy/dt = A·y, A = [[-0.5, 2], [-2, -0.5]], from 256 random starting points.
const rotate = (y: tf.Tensor2D): tf.Tensor2D => {
  const [c, s, e] = [Math.cos(2), Math.sin(2), Math.exp(-0.5)];
  return tf.mul(
    e,
    tf.matMul(
      y,
      tf.tensor2d([
        [c, s],
        [-s, c],
      ]),
    ),
  ) as tf.Tensor2D;
};
const x = tf.randomUniform([256, 2], -1, 1, 'float32', 1) as tf.Tensor2D;
const y = rotate(x);
const xTest = tf.randomUniform([64, 2], -1, 1, 'float32', 2) as tf.Tensor2D;
const yTest = rotate(xTest);

const model = tfl.sequential({
  layers: [
    neuralODE({
      inputShape: [2],
      tspan: [0, 1],
      rtol: 1e-4,
      atol: 1e-6,
      vectorField: [tfl.layers.dense({ units: 32, activation: 'tanh' }), tfl.layers.dense({ units: 2 })],
      regularizers: [errorEstimate({ weight: 0.1 })],
    }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
const history = await model.fit(x, y, { epochs: 20, batchSize: 64, verbose: 0, callbacks: [nfeLogger()] });
console.log('forward NFE per epoch:', history.history.nfe.map((n) => Number(n).toFixed(1)).join(' '));

const { result, nfePerCall } = countNFE(model, () => model.predict(xTest, { batchSize: 64 }) as tf.Tensor);
console.log(`test MSE ${tf.losses.meanSquaredError(yTest, result).dataSync()[0].toFixed(4)} at ${nfePerCall} NFE per solve`);
