/**
 * The MNIST demo's NODE model on a few hundred real images: trains with plain `model.fit` and the
 * package's callbacks, keeps the tensor count flat across epochs, and reports NFE.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, findNeuralODELayers, nfeLogger } from '../../src';
import { buildNodeModel, evaluate, makeOptimizer, makeRegularizers, NodeSettings, preset, settingsFromArgs, table } from '../../demos/mnist';
import { loadMnist, mnistTensors } from '../../demos/lib/mnist';

const SMALL: NodeSettings = {
  ...preset('quick').node,
  state: 16,
  hidden: 32,
  epochs: 2,
  batchSize: 128,
  dt0: 1,
  lr: 0.01,
};

async function trainTwoEpochs(run: 'vanilla' | 'error' | 'local', dt0: number | undefined, extra: Partial<NodeSettings> = {}) {
  const slice = loadMnist('train', { count: 256 });
  const { x, y } = mnistTensors(slice);
  const s = { ...SMALL, dt0, ...extra };
  const { regularizers, schedules } = makeRegularizers(run, s);
  const model = buildNodeModel(s, regularizers);
  const optimizer = makeOptimizer(s);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const tensorsAtEpochEnd: number[] = [];
  const nfe = nfeLogger();
  const h = await model.fit(x, y, {
    epochs: 2,
    batchSize: s.batchSize,
    shuffle: false,
    verbose: 0,
    callbacks: [nfe, ...schedules, new tfl.CustomCallback({ onEpochEnd: async () => void tensorsAtEpochEnd.push(tf.memory().numTensors) })],
  });
  const ev = evaluate(model, x, slice.labels, s.batchSize);
  const stats = findNeuralODELayers(model)[0].lastStats!;
  const out = { tensorsAtEpochEnd, nfeHistory: nfe.history.slice(), logNfe: h.history.nfe as number[], loss: h.history.loss as number[], ev, stats };
  model.dispose();
  optimizer.dispose();
  tf.dispose([x, y]);
  return out;
}

describe('MNIST demo, NODE', () => {
  let vanilla: Awaited<ReturnType<typeof trainTwoEpochs>>;

  it('trains on 256 images with flat memory and reports NFE (vanilla, dt0 = 1)', async () => {
    const before = tf.memory().numTensors;
    const r = (vanilla = await trainTwoEpochs('vanilla', 1));
    expect(r.tensorsAtEpochEnd[1]).toBe(r.tensorsAtEpochEnd[0]);
    // the NFE callback logs a mean per training batch; tsit5 with a fixed dt0 costs 1 + 6·(attempted steps)
    expect(r.logNfe).toEqual(r.nfeHistory);
    for (const n of r.nfeHistory) {
      expect(n).toBeGreaterThanOrEqual(7);
      expect(n).toBeLessThan(200);
    }
    expect(r.ev.nfePerBatch).toBe(r.stats.nfe);
    expect((r.ev.nfePerBatch - 1) % 6).toBe(0);
    // learning happened: loss fell and the training images are classified far above chance (10%)
    expect(r.loss[1]).toBeLessThan(r.loss[0]);
    expect(r.ev.accuracy).toBeGreaterThan(0.5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the error regularizer (dt0 = 1) cuts the prediction NFE with flat memory', async () => {
    const before = tf.memory().numTensors;
    const v = vanilla;
    // 4 batches only: a λ well above the default preset's (100 → 1 over 8 epochs), as the saturated penalty's
    // slope is r/E per step
    const e = await trainTwoEpochs('error', 1, { lambdaError: { from: 1000, to: 1000 } });
    expect(e.tensorsAtEpochEnd[1]).toBe(e.tensorsAtEpochEnd[0]);
    expect(e.ev.nfePerBatch).toBeLessThan(v.ev.nfePerBatch);
    expect(e.ev.accuracy).toBeGreaterThan(0.5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the local regularizer keeps memory flat too', async () => {
    const before = tf.memory().numTensors;
    const r = await trainTwoEpochs('local', 1);
    expect(r.tensorsAtEpochEnd[1]).toBe(r.tensorsAtEpochEnd[0]);
    expect(r.nfeHistory.every((n) => n >= 7)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('predicts with the heuristic first step; countNFE reports the mean per batch', () => {
    const before = tf.memory().numTensors;
    const slice = loadMnist('test', { count: 256 });
    const { x, y } = mnistTensors(slice);
    const model = buildNodeModel({ ...SMALL, dt0: undefined }, []);
    const { nfe, calls, nfePerCall } = countNFE(model, () => tf.dispose(model.predict(x, { batchSize: 128 }) as tf.Tensor));
    expect(calls).toBe(2);
    expect(nfePerCall).toBe(nfe / 2);
    // 1 (first stage, reused by the heuristic) + 1 (the heuristic's trial evaluation) + 6 per attempted step
    const last = findNeuralODELayers(model)[0].lastStats!;
    expect(last.nfe).toBe(2 + 6 * last.nSteps);
    expect(last.nSteps).toBeGreaterThan(1);
    model.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('MNIST demo settings and table', () => {
  it('parses presets and overrides with node:util parseArgs', () => {
    const q = settingsFromArgs(['--quick']).settings;
    expect(q.preset).toBe('quick');
    expect(q.jobs).toHaveLength(8);
    const p = settingsFromArgs(['--preset', 'paper']).settings;
    expect(p.node).toMatchObject({
      state: 784,
      hidden: 100,
      rtol: 1.4e-8,
      epochs: 75,
      batchSize: 512,
      optimizer: 'momentum',
      lambdaError: { from: 100, to: 10 },
    });
    expect(p.nodeOverrides.local).toMatchObject({ optimizer: 'adam', lr: 1e-3, finalActivation: 'linear' });
    const c = settingsFromArgs(['--runs', 'vanilla,error', '--dt0', '1,auto', '--tol', '1e-6', '--lambda-error', '5,0.5']).settings;
    expect(c.jobs).toEqual([
      { run: 'vanilla', dt0: 1 },
      { run: 'error', dt0: 1 },
      { run: 'vanilla', dt0: undefined },
      { run: 'error', dt0: undefined },
    ]);
    expect(c.node).toMatchObject({ rtol: 1e-6, atol: 1e-6, lambdaError: { from: 5, to: 0.5 } });
    expect(() => settingsFromArgs(['--runs', 'bogus'])).toThrow(/Unknown run 'bogus'/);
    expect(() => settingsFromArgs(['--epochs'])).toThrow();
  });

  it('puts the paper figure beside each measured one', () => {
    const t = table([
      {
        model: 'node',
        run: 'error',
        dt0: 1,
        testAccuracy: 0.9,
        trainAccuracy: 0.95,
        predictionNFE: 7,
        trainSeconds: 12.34,
        predictSecondsPerBatch: 0.0312,
        settings: { ...SMALL, nTrain: 1, nTest: 1, backend: 'cpu' },
        paper: { source: 'P21 ERNODE', trainAccuracy: 99.71, testAccuracy: 97.32, trainHours: 0.82, predictSecondsPerBatch: 0.06, predictionNFE: 177 },
        history: { trainNFE: [], testNFE: [], trainAccuracy: [], testAccuracy: [], loss: [] },
      },
    ]);
    expect(t).toContain('95.00 (99.71)');
    expect(t).toContain('90.00 (97.32)');
    expect(t).toContain('7.0 (177.0)');
    expect(t).toContain('12.3 s (0.82 h)');
    expect(t).toContain('0.031 (0.060)');
  });
});
