/** The NeuralSDE layer: paths and seeds, errors (gradients and training: neural_sde_gradients.test.ts). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, errorEstimate, InvalidArgumentError, meanOverPaths, neuralSDE, NeuralSDE, stiffness } from '../../src';
import { warmStep } from '../../src/layers/de_layer';
import { expectThrowNoLeak, maxAbsDiff } from '../support/helpers';
import { sdeLayer, X } from '../support/sde_layer';

describe('paths and seeds', () => {
  test('a fixed seed makes inference reproducible; training calls draw new paths; no seed draws fresh paths', () => {
    const layer = sdeLayer({ seed: 7 });
    const x = X();
    const a = layer.apply(x) as tf.Tensor;
    // a second call in the same synchronous run is the next piece of a batch: its own path
    const next = layer.apply(x) as tf.Tensor;
    expect(maxAbsDiff(a, next)).toBeGreaterThan(1e-4);
    layer.restartPaths();
    const b = layer.apply(x) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    next.dispose();
    const c = layer.apply(x, { training: true }) as tf.Tensor;
    const d = layer.apply(x, { training: true }) as tf.Tensor;
    expect(maxAbsDiff(c, d)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-4);
    const free = sdeLayer({}, 11);
    const e = free.apply(x) as tf.Tensor;
    const f = free.apply(x) as tf.Tensor;
    expect(maxAbsDiff(e, f)).toBeGreaterThan(1e-4);
    tf.dispose([x, a, b, c, d, e, f]);
  });

  test('predict: every row of a seeded batch has its own path however tfjs cuts it; predictions repeat after an await', async () => {
    const model = tfl.sequential({ layers: [sdeLayer({ seed: 2, inputShape: [2], rtol: 5e-2, atol: 5e-2 })] });
    const x = tf.tile(tf.tensor2d([[0.5, -1]]), [70, 1]);
    /** Number of distinct output rows (to float32 bits). */
    const distinctRows = (y: tf.Tensor): number => new Set(tf.split(y, y.shape[0]).map((r) => (r.dataSync() as Float32Array).join(','))).size;
    const pieces = model.predict(x) as tf.Tensor; // tfjs cuts 70 rows into 32 + 32 + 6: three calls
    expect(distinctRows(pieces)).toBe(70);
    await Promise.resolve();
    const again = model.predict(x) as tf.Tensor; // a new run numbers its pieces from 0 again: same values
    expect(maxAbsDiff(pieces, again)).toBe(0);
    const whole = model.predict(x, { batchSize: 70 }) as tf.Tensor; // one call; its rows are independent too
    expect(distinctRows(whole)).toBe(70);
    // the first piece of any run uses the seed's own path, as a single call does
    await Promise.resolve();
    const first = (model.layers[0] as NeuralSDE).apply(tf.slice(x, 0, 32)) as tf.Tensor;
    expect(maxAbsDiff(first, tf.slice(pieces, 0, 32))).toBe(0);
    // evaluate cuts the batch the same way: its loss matches predict's pieces
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await Promise.resolve();
    const evaluated = model.evaluate(x, tf.zerosLike(x)) as tf.Scalar;
    expect(evaluated.dataSync()[0]).toBeCloseTo(tf.mean(tf.square(pieces)).dataSync()[0], 5);
    tf.dispose([x, pieces, again, whole, first, evaluated]);
    model.dispose();
  });

  test('save → load: the same seed gives identical predictions; the config round-trips', async () => {
    const model = tfl.sequential({
      layers: [sdeLayer({ seed: 3, inputShape: [2], solver: 'sosri2', saveat: [0.5, 1] }), tfl.layers.flatten(), tfl.layers.dense({ units: 1 })],
    });
    const x = X();
    const before = model.predict(x) as tf.Tensor;
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const after = loaded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(before, after)).toBe(0);
    const cfg = (loaded.layers[0] as NeuralSDE).getConfig();
    expect(cfg.solver).toBe('sosri2');
    expect(cfg.seed).toBe(3);
    expect(cfg.saveat).toEqual([0.5, 1]);
    expect(cfg.saveatMode).toBe('interpolate');
    tf.dispose([x, before, after]);
    model.dispose();
    loaded.dispose();
  });

  test('the training-call counter is saved: training resumed after save/load continues the path sequence', async () => {
    const model = tfl.sequential({ layers: [sdeLayer({ seed: 6, inputShape: [2] })] });
    const layer = model.layers[0] as NeuralSDE;
    const x = X();
    tf.dispose([layer.apply(x, { training: true }) as tf.Tensor, layer.apply(x, { training: true }) as tf.Tensor]);
    expect(layer.getConfig().trainingCalls).toBe(2);
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const again = loaded.layers[0] as NeuralSDE;
    expect(again.trainingCalls).toBe(2);
    const a = layer.apply(x, { training: true }) as tf.Tensor;
    const b = again.apply(x, { training: true }) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0); // the third training call's path on both
    expect(() => sdeLayer({ trainingCalls: -1 })).toThrow(/'trainingCalls' must be an integer ≥ 0/);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  test('delta and qmax reach the solve and round-trip through the config', () => {
    const layer = sdeLayer({ delta: 0, qmax: 2 });
    expect(layer.solverOptions.delta).toBe(0);
    expect(layer.solverOptions.controller.qmax).toBe(2);
    const cfg = layer.getConfig();
    expect([cfg.delta, cfg.qmax]).toEqual([0, 2]);
    const x = X();
    const y = layer.apply(x) as tf.Tensor;
    const fewer = layer.lastStats!.nAccepted;
    const plain = sdeLayer();
    const z = plain.apply(x) as tf.Tensor;
    expect(fewer).toBeLessThan(plain.lastStats!.nAccepted);
    expect(sdeLayer().getConfig().delta).toBeNull();
    tf.dispose([x, y, z]);
  });

  test("warmStart: a training call starts where the previous training call's ramp ended; inference calls do not", () => {
    const layer = sdeLayer({ warmStart: true, seed: 4 });
    const plain = sdeLayer({ seed: 4 });
    const x = X();
    const train = (l: NeuralSDE): number => {
      tf.dispose(l.apply(x, { training: true }) as tf.Tensor);
      return l.lastStats!.dtInitial;
    };
    train(layer);
    const previous = warmStep(layer.lastStats!)!;
    expect(train(layer)).toBe(previous);
    train(plain);
    expect(train(plain)).not.toBe(previous);
    // inference: the heuristic's first step, as without warm start
    tf.dispose([layer.apply(x) as tf.Tensor, plain.apply(x) as tf.Tensor]);
    expect(layer.lastStats!.dtInitial).toBe(plain.lastStats!.dtInitial);
    expect(layer.getConfig().warmStart).toBe(true);
    expect(NeuralSDE.fromConfig(NeuralSDE, layer.getConfig()).getConfig().warmStart).toBe(true);
    expect(() => sdeLayer({ warmStart: true, dt0: 0.1 })).toThrow(/with 'dt0' set there is no heuristic to replace/);
    expect(() => sdeLayer({ warmStart: 'yes' })).toThrow(/Option 'warmStart' must be a boolean/);
    x.dispose();
  });

  test('meanOverPaths averages a model over n independent paths in one solve', () => {
    const model = tfl.sequential({ layers: [sdeLayer({ inputShape: [2], seed: 5, rtol: 5e-2, atol: 5e-2 })] });
    const x = X();
    // 3 × 32 = 96 rows: one solve, not tfjs predict's default pieces of 32 rows
    const { result: mean, calls } = countNFE(model, () => meanOverPaths(model, x, 32));
    expect(calls).toBe(1);
    expect(mean.shape).toEqual([3, 2]);
    // the mean over 32 paths is closer to the mean over 128 than a single path is
    const ref = meanOverPaths(model, x, 128);
    const one = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(mean, ref)).toBeLessThan(maxAbsDiff(one, ref));
    expect(() => meanOverPaths(model, x, 0)).toThrow(/paths must be a positive integer/);
    tf.dispose([x, mean, ref, one]);
    model.dispose();
  });
});

describe('bad input', () => {
  test('a diffusion that does not return the state shape: clear error at build, weights freed', () => {
    const layer = neuralSDE({ drift: [tfl.layers.dense({ units: 2 })], diffusion: [tfl.layers.dense({ units: 3 })] });
    const before = tf.memory().numTensors;
    const x = X();
    expect(() => layer.apply(x)).toThrow(
      /The diffusion \(diagonal noise: one coefficient per state element\) maps states of shape \[batch, 2\] to \[batch, 3\]/,
    );
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test.each([
    [
      { solver: 'sosri', regularizers: [stiffness()] },
      /stiffness regularizer needs a solver with a stiffness estimate; 'sosri' has none\. Use solver 'sosri2' in this NeuralSDE layer/,
    ],
    // the fix named is one NeuralSDE accepts (not an ODE solver)
    [
      { solver: 'euler_maruyama', dt0: 0.1, regularizers: [errorEstimate()] },
      /errorEstimate regularizer needs a solver with an error estimate .*Use solver 'sosri' or 'sosri2' or 'sriw1' in this NeuralSDE layer/,
    ],
    [
      { solver: 'sosri', adaptive: false, dt0: 0.1, regularizers: [errorEstimate()] },
      /'sosri' with 'adaptive: false' \(fixed steps\) has none\. Drop 'adaptive: false', or use solver 'sosri' or 'sosri2' or 'sriw1'/,
    ],
    // misspellings get a suggestion only when a valid name is close
    [{ sdeType: 'ito' }, /^NeuralSDE: Unknown option 'sdeType'\. Valid options/],
    [{ solver: 'euler_maruyama' }, /Solver 'euler_maruyama' takes fixed steps: set 'dt0'/],
    [{ solver: 'tsit5' }, /Unknown SDE solver 'tsit5'/],
    [{ seed: 1.5 }, /'seed' must be an integer/],
    [{ tspan: [1, 0] }, /SDE solves run forward in time only/],
    [{ sed: 1 }, /NeuralSDE: Unknown option 'sed' \(did you mean 'seed'\?\)/],
  ])('options %p are refused', (opts, msg) => {
    const e = expectThrowNoLeak(() => sdeLayer(opts as Record<string, unknown>));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toMatch(msg);
  });

  test('a non-finite input fails cleanly, leaving the weights unchanged', () => {
    const layer = sdeLayer({ seed: 1, inputShape: [2] });
    const model = tfl.sequential({ layers: [layer] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const weights = model.getWeights().map((w) => w.dataSync().slice());
    const bad = tf.tensor2d([[NaN, 0]]);
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => model.apply(bad, { training: true }) as tf.Tensor)).toThrow(/NeuralSDE layer '.*': The initial state contains NaN/);
    expect(tf.memory().numTensors).toBe(before);
    model.getWeights().forEach((w, i) => expect(maxAbsDiff(w.dataSync(), weights[i])).toBe(0));
    bad.dispose();
    model.dispose();
  });
});
