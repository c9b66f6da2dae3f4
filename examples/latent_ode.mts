// A latent ODE on irregularly sampled, partly observed series: a GRU reads the observations backward in time,
// GaussianSample draws z0, a NeuralODE applied to [z0, times] gives the latent states at the observation times,
// and a Dense layer decodes them. Unobserved entries are NaN in the targets; the loss masks them.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { gaussianSample, neuralODE } from 'tfjs-neural-de';

await tf.setBackend('wasm');

// 128 series sin(3t + φ) on one irregular grid of 16 times in [0, 1]; each entry observed with probability 0.5.
const N = 128;
const grid = [0, 0.04, 0.1, 0.13, 0.25, 0.31, 0.38, 0.5, 0.52, 0.6, 0.71, 0.77, 0.8, 0.88, 0.95, 1];
const phases = Array.from({ length: N }, (_, n) => (2 * Math.PI * n) / N);
const observed = (n: number, i: number): boolean => (7 * n + 13 * i + ((n * i) % 3)) % 10 < 5;
const values = phases.map((p, n) => grid.map((t, i) => (observed(n, i) ? Math.sin(3 * t + p) : NaN)));
// The encoder sees [value (0 if missing), mask, Δt] at every grid time.
const encIn = tf.tensor3d(values.map((row) => row.map((v, i) => [Number.isNaN(v) ? 0 : v, Number.isNaN(v) ? 0 : 1, i ? grid[i] - grid[i - 1] : 0])));
const target = tf.tensor3d(values.map((row) => row.map((v) => [v])));
// model.fit splits every input along its first axis, so the grid goes in once per series ([batch, T]).
const times = tf.tensor2d(values.map(() => grid));

const obs = tfl.input({ shape: [null, 3] });
const t = tfl.input({ shape: [null] });
const h = tfl.layers.gru({ units: 16, goBackwards: true, recurrentInitializer: 'glorotUniform' }).apply(obs) as tfl.SymbolicTensor;
const mean = tfl.layers.dense({ units: 4 }).apply(h) as tfl.SymbolicTensor;
const logVar = tfl.layers.dense({ units: 4, biasInitializer: tfl.initializers.constant({ value: -4 }) }).apply(h) as tfl.SymbolicTensor;
const z0 = gaussianSample({ klWeight: 0.01, seed: 1 }).apply([mean, logVar]) as tfl.SymbolicTensor;
const field = [tfl.layers.dense({ units: 32, activation: 'tanh' }), tfl.layers.dense({ units: 4 })];
const zs = neuralODE({ vectorField: field, tspan: [0, 1], rtol: 1e-3, atol: 1e-4 }).apply([z0, t]) as tfl.SymbolicTensor; // [batch, T, 4]
const model = tfl.model({ inputs: [obs, t], outputs: tfl.layers.dense({ units: 1 }).apply(zs) as tfl.SymbolicTensor });

// Mean squared error over the observed entries (NaN targets masked; NaN must not reach the arithmetic at all).
const maskedMSE = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar =>
  tf.tidy(() => {
    const seen = tf.logicalNot(tf.isNaN(yTrue));
    const diff = tf.where(seen, tf.sub(yPred, tf.where(seen, yTrue, tf.zerosLike(yTrue))), tf.zerosLike(yPred));
    return tf.div(tf.sum(tf.square(diff)), tf.sum(tf.cast(seen, 'float32')));
  });
model.compile({ optimizer: tf.train.adam(0.02), loss: maskedMSE });
const history = await model.fit([encIn, times], target, { epochs: 12, batchSize: 32, verbose: 0 });
const loss = history.history.loss.map((l) => Number(l));
console.log(`training loss (masked MSE + KL): ${loss[0].toFixed(3)} → ${loss[loss.length - 1].toFixed(3)}`);

// Interpolation: the same model evaluated on a fine grid of 50 times (any increasing grid inside tspan).
const fine = tf.tensor2d(values.slice(0, 2).map(() => Array.from({ length: 50 }, (_, i) => i / 49)));
const curve = model.predict([tf.slice(encIn, 0, 2), fine]) as tf.Tensor;
console.log('interpolated shape', curve.shape);
