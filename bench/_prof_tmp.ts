import * as tf from '@tensorflow/tfjs-core';
import { solve } from '../src';
import { measure, measureInterleaved, useBackend } from './util';
(async () => {
  await useBackend('wasm');
  const [batch, width] = [64, 32];
  const W1 = tf.randomNormal([width, 64], 0, 0.17, 'float32', 1), b1 = tf.zeros([64]);
  const W2 = tf.randomNormal([64, width], 0, 0.125, 'float32', 2), b2 = tf.zeros([width]);
  const f = (_t: number, y: tf.Tensor) => tf.tidy(() => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y as tf.Tensor2D, W1), b1)), W2), b2));
  const y0 = tf.randomNormal([batch, width], 0, 1, 'float32', 3);
  let nfe = 0;
  const so = () => { const r = solve(f, y0); nfe = r.stats.nfe; r.ys[0].dispose(); };
  const bo = () => { const o = f(0, y0); o.dataSync(); o.dispose(); };
  for (let rep = 0; rep < 6; rep++) {
    const t0 = performance.now();
    const s = measure(so, { warmup: 2, warmupMs: 200, minTimeMs: 300 });
    const b = measure(bo, { warmupMs: 100, minTimeMs: 300, minSampleMs: 2 });
    const [s2, b2_] = measureInterleaved([{ fn: so, opts: { warmupMs: 0, minTimeMs: 300 } }, { fn: bo, opts: { warmupMs: 0, minTimeMs: 300, minSampleMs: 2 } }]);
    console.log(`t=${(t0/1000).toFixed(1)}s seq: ${(s.medianMs*1000/nfe).toFixed(1)} / ${(b.medianMs*1000).toFixed(1)}   interleaved: ${(s2.medianMs*1000/nfe).toFixed(1)} / ${(b2_.medianMs*1000).toFixed(1)}`);
  }
})();
