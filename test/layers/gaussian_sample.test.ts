/** GaussianSample: the reparameterized sample, its KL term (value, gradient, weight), options, serialization, memory. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GaussianSample, gaussianSample, InvalidArgumentError } from '../../src';
import { maxAbsDiff } from '../support/helpers';

const MEAN = [
  [0.5, -1, 2],
  [0, 0.3, -0.2],
];
const LOGVAR = [
  [-1, 0, 0.5],
  [-2, 1, -0.3],
];

/** KL(N(μ, σ²) ‖ N(0, 1)) summed over features, averaged over rows, on the host. */
function klHost(mean: number[][], logVar: number[][]): number {
  let total = 0;
  mean.forEach((row, i) => row.forEach((m, j) => (total += 0.5 * (Math.exp(logVar[i][j]) + m * m - 1 - logVar[i][j]))));
  return total / mean.length;
}

describe('GaussianSample', () => {
  test('inference returns μ, for [μ, log σ²] and for one [μ | log σ²] tensor', () => {
    const layer = gaussianSample();
    const m = tf.tensor2d(MEAN);
    const lv = tf.tensor2d(LOGVAR);
    const both = tf.concat([m, lv], 1);
    const a = layer.apply([m, lv]) as tf.Tensor;
    const b = gaussianSample().apply(both) as tf.Tensor;
    expect(maxAbsDiff(a, m)).toBe(0);
    expect(maxAbsDiff(b, m)).toBe(0);
    tf.dispose([m, lv, both, a, b]);
  });

  test('training samples have mean μ and standard deviation σ; a seed repeats them', () => {
    const n = 20000;
    const m = tf.tile(tf.tensor2d([[0.5, -1]]), [n, 1]);
    const lv = tf.tile(tf.tensor2d([[Math.log(0.25), Math.log(4)]]), [n, 1]);
    const layer = gaussianSample({ seed: 3 });
    const z = layer.apply([m, lv], { training: true }) as tf.Tensor;
    const { mean, variance } = tf.moments(z, 0);
    const mu = mean.dataSync();
    const sd = tf.sqrt(variance).dataSync();
    expect(Math.abs(mu[0] - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(mu[1] + 1)).toBeLessThan(0.06);
    expect(Math.abs(sd[0] - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(sd[1] - 2)).toBeLessThan(0.06);
    const again = gaussianSample({ seed: 3 }).apply([m, lv], { training: true }) as tf.Tensor;
    expect(maxAbsDiff(again, z)).toBe(0);
    const next = layer.apply([m, lv], { training: true }) as tf.Tensor;
    expect(maxAbsDiff(next, z)).toBeGreaterThan(0.1);
    expect(layer.calls).toBe(2);
    tf.dispose([m, lv, z, mean, variance, again, next]);
  });

  test('the KL term: value, weight, and gradient to μ and log σ² (closed form)', () => {
    const layer = gaussianSample({ klWeight: 0.5 });
    const m = tf.tensor2d(MEAN);
    const lv = tf.tensor2d(LOGVAR);
    tf.dispose(layer.apply([m, lv], { training: true }) as tf.Tensor);
    const kl = layer.klLoss();
    expect(Math.abs(kl.dataSync()[0] - 0.5 * klHost(MEAN, LOGVAR))).toBeLessThan(1e-5);
    const [gm, glv] = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      tf.dispose(layer.apply([a, b], { training: true }) as tf.Tensor);
      return layer.klLoss();
    })([m, lv]);
    // d/dμ (w/B)·½Σ(e^lv + μ² − 1 − lv) = w·μ/B; d/dlv = w·½(e^lv − 1)/B
    const B = MEAN.length;
    expect(maxAbsDiff(gm, tf.tensor2d(MEAN.map((r) => r.map((x) => (0.5 * x) / B))))).toBeLessThan(1e-6);
    expect(maxAbsDiff(glv, tf.tensor2d(LOGVAR.map((r) => r.map((x) => (0.5 * 0.5 * (Math.exp(x) - 1)) / B))))).toBeLessThan(1e-6);
    layer.klWeight = 0;
    expect(layer.klLoss().dataSync()[0]).toBe(0);
    tf.dispose([m, lv, kl, gm, glv]);
  });

  test('in a model: fit trains the KL term (μ → 0, σ → 1 with no other loss), memory flat, save/load round trip', async () => {
    const inp = tfl.input({ shape: [2] });
    const q = tfl.layers
      .dense({ units: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' })
      .apply(inp) as tfl.SymbolicTensor;
    const sampler = gaussianSample({ seed: 5 });
    const model = tfl.model({ inputs: inp, outputs: sampler.apply(q) as tfl.SymbolicTensor });
    // the data loss is zero: only the KL term (added by the layer) is minimized
    model.compile({ optimizer: tf.train.adam(0.05), loss: (_y: tf.Tensor, p: tf.Tensor) => tf.mul(tf.sum(p), 0) as tf.Scalar });
    const x = tf.randomNormal([32, 2], 0, 1, 'float32', 2);
    const y = tf.zeros([32, 2]);
    const counts: number[] = [];
    const h = await model.fit(x, y, { epochs: 8, batchSize: 8, verbose: 0, callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) } });
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(0.3 * loss[0]);
    expect(new Set(counts).size).toBe(1);

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const restored = loaded.layers.find((l) => l instanceof GaussianSample) as GaussianSample;
    expect([restored.klWeight, restored.seed, restored.sampleAtInference]).toEqual([1, 5, false]);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, y, a, b]);
    model.dispose();
    loaded.dispose();
  });

  test('bad options and shapes get errors that name the fix', () => {
    expect(() => gaussianSample({ klweight: 1 } as never)).toThrow(/klWeight/);
    expect(() => gaussianSample({ klWeight: -1 })).toThrow(InvalidArgumentError);
    expect(() => gaussianSample({ seed: 1.5 })).toThrow(/'seed' must be an integer/);
    expect(() => gaussianSample({ sampleAtInference: 'yes' as never })).toThrow(/boolean/);
    expect(() => gaussianSample().apply(tfl.input({ shape: [3] }))).toThrow(/even feature count, got 3/);
    expect(() => gaussianSample().apply([tfl.input({ shape: [3] }), tfl.input({ shape: [2] })])).toThrow(/mean has 3 features but logVar 2/);
    expect(() => gaussianSample().apply(tfl.input({ shape: [2, 2] }))).toThrow(/takes \[mean, logVar\]/);
    const layer = gaussianSample();
    expect(() => (layer.klWeight = NaN)).toThrow(/finite number ≥ 0/);
  });
});
