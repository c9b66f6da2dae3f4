import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { errorEstimate, nfeLogger, countNFE, stiffness } from './src';
import { spiralNODE, spiralTrajectory, linspace } from './test/spiral';
(async () => { await tf.setBackend(process.env.BE ?? 'wasm');
const ts = linspace(0, 1.5, 30);
const yTrue = spiralTrajectory([[2, 0]], ts);
const x = tf.tensor2d([[2, 0]]);
for (const reg of [0, Number(process.env.LAM ?? 10)]) {
  const model = tfl.sequential({ layers: [spiralNODE({ inputShape: [2], tspan: [0, 1.5], saveat: ts, seed: 1, rtol: 1e-5, atol: 1e-6, regularizers: reg ? [errorEstimate({ weight: reg })] : [] })] });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
  const t0 = Date.now();
  const h = await model.fit(x, yTrue, { epochs: Number(process.env.EP ?? 60), verbose: 0, callbacks: [nfeLogger()] });
  const { result, nfePerCall } = countNFE(model, () => model.predict(x) as tf.Tensor);
  const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(result, yTrue))).dataSync()[0]);
  console.log('lambda', reg, 'time', Date.now() - t0, 'loss', (h.history.loss as number[]).slice(-1)[0].toFixed(4), 'mse', mse.toFixed(4), 'pred nfe', nfePerCall, 'train nfe', (h.history.nfe as number[]).filter((_, i) => i % 10 === 0).join(' '));
}
})();
