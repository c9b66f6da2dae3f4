// A NeuralSDE classifier (the paper's MNIST NSDE, on stand-in data): Dense → NeuralSDE → Dense,
// trained with model.fit; predictions averaged over 10 sampled Brownian paths.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { errorEstimate, meanOverPaths, neuralSDE } from 'tfjs-neural-de';

await tf.setBackend('wasm');

// 256 stand-in "images" of 784 pixels, labelled by a fixed random linear rule (10 classes).
const x = tf.randomUniform([256, 784], 0, 0.1, 'float32', 3);
const labels = tf.argMax(tf.matMul(x, tf.randomNormal([784, 10], 0, 1, 'float32', 4)), 1);
const y = tf.oneHot(labels, 10);

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ inputShape: [784], units: 32 }),
    neuralSDE({
      drift: [tfl.layers.dense({ units: 64, activation: 'tanh' }), tfl.layers.dense({ units: 32 })],
      diffusion: [tfl.layers.dense({ units: 32 })], // diagonal noise: returns the state's shape
      solver: 'sosri',
      rtol: 0.14,
      atol: 0.14,
      seed: 1,
      regularizers: [errorEstimate({ weight: 10, aggregation: 'mean' })],
    }),
    tfl.layers.dense({ units: 10 }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.01), loss: tf.losses.softmaxCrossEntropy, metrics: ['accuracy'] });
const history = await model.fit(x, y, { epochs: 3, batchSize: 64, verbose: 0 });
console.log('training loss per epoch:', history.history.loss.map((l) => Number(l).toFixed(3)).join(' '));

const logits = meanOverPaths(model, x, 10); // prediction averaged over 10 sampled paths
console.log('logits of the first image, mean over 10 paths:', Array.from(tf.slice(logits, 0, 1).dataSync(), (v) => v.toFixed(2)).join(' '));
