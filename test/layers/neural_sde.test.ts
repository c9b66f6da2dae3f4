/** The NeuralSDE layer: paths and seeds, gradients against autodiff and finite differences, training, errors. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, errorEstimate, InvalidArgumentError, localErrorEstimate, meanOverPaths, neuralSDE, NeuralSDE, nfeLogger, stiffness } from '../../src';
import { BrownianTree } from '../../src/noise/brownian';
import { sriStep } from '../../src/solvers/sri/step';
import { SRI_TABLEAUS } from '../../src/solvers/sri/tableaus';
import { expectThrowNoLeak, maxAbsDiff, maxRelErr } from '../support/helpers';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

function sdeLayer(extra: Record<string, unknown> = {}, seed = 1): NeuralSDE {
  return neuralSDE({
    drift: [
      tfl.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: init(seed) }),
      tfl.layers.dense({ units: 2, kernelInitializer: init(seed + 1) }),
    ],
    diffusion: [tfl.layers.dense({ units: 2, activation: 'sigmoid', kernelInitializer: init(seed + 2) })],
    rtol: 1e-2,
    atol: 1e-2,
    ...extra,
  });
}

const X = (): tf.Tensor2D =>
  tf.tensor2d([
    [0.5, -1],
    [1.5, 0.2],
    [-0.3, 0.8],
  ]);

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
    tf.dispose([x, before, after]);
    model.dispose();
    loaded.dispose();
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

/** Autodiff through the layer's accepted steps, replayed with `sriStep` on the same Brownian increments. */
function unrolled(layer: NeuralSDE, x: tf.Tensor, withReg: { e: number; s: number }): tf.Scalar {
  const stats = layer.lastStats!;
  const o = layer.solverOptions;
  const path = new BrownianTree({ seed: layer.lastPathSeed, t0: o.t0, t1: o.t1, shape: x.shape });
  const tab = SRI_TABLEAUS[o.solver as 'sosri' | 'sosri2'];
  let y = x;
  let reg: tf.Tensor = tf.scalar(0);
  stats.dt.forEach((dt, j) => {
    const { dW, H } = path.increment(stats.t[j], Math.min(stats.t[j] + dt, o.t1));
    const dWt = tf.tensor(Float32Array.from(dW), x.shape);
    const dZt = tf.tensor(
      Float32Array.from(H, (h) => 2 * Math.sqrt(3) * h),
      x.shape,
    );
    const active = stats.stiffnessEstimate[j] !== 0;
    const r = sriStep(
      tab,
      (t, s) => layer.drift.call(t, s),
      (t, s) => layer.diffusion.call(t, s),
      stats.t[j],
      y,
      dt,
      dWt,
      dZt,
      o,
      {
        error: true,
        stiffness: tab.stiffnessStages !== undefined,
        stiffnessReliable: tab.stiffnessStages !== undefined ? tf.scalar(active, 'bool') : undefined,
      },
    );
    reg = tf.add(reg, tf.mul(withReg.e * Math.abs(dt), r.error!));
    if (r.stiffness) reg = tf.add(reg, tf.mul(withReg.s * Math.abs(dt), r.stiffness));
    y = r.y1;
  });
  return tf.add(tf.sum(tf.square(y)), reg) as tf.Scalar;
}

describe('gradients', () => {
  test.each([
    ['sosri', 'state loss', 0, 0, 1e-5],
    ['sosri2', 'state + error + stiffness terms', 0.5, 0.01, 3e-4],
  ] as const)('%s: the discrete adjoint equals autodiff through the unrolled steps on the same path (%s)', (solver, _what, e, s, tolerance) => {
    const regs = [];
    // the unrolled reference (above) writes the papers' linear penalty E·|dt|
    if (e > 0) regs.push(errorEstimate({ weight: e, saturation: null }));
    if (s > 0) regs.push(stiffness({ weight: s, aggregation: 'sum' }));
    const layer = sdeLayer({ solver, seed: 21, regularizers: regs, tspan: [0, 0.5], dt0: 0.05, rtol: 1e-2, atol: 1e-2 });
    const x = tf.variable(X());
    tf.dispose(layer.apply(x) as tf.Tensor); // build
    const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
    const custom = tf.variableGrads(() => {
      const y = layer.apply(x, { training: false }) as tf.Tensor;
      const data = tf.sum(tf.square(y));
      return (regs.length ? tf.add(data, layer.regularizationLoss()) : data) as tf.Scalar;
    }, vars);
    const stats = layer.lastStats!;
    expect(stats.nAccepted).toBeGreaterThan(3);
    expect(stats.nfeDiffusion).toBeGreaterThan(0);
    const ref = tf.variableGrads(() => unrolled(layer, x, { e, s }), vars);
    const v = custom.value.dataSync()[0];
    expect(Math.abs(v - ref.value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(v) + 1e-6);
    for (const w of vars) expect(maxRelErr(custom.grads[w.name], ref.grads[w.name])).toBeLessThan(tolerance);
    // the input, the drift and the diffusion weights all receive gradient
    expect(vars.every((w) => tf.tidy(() => tf.max(tf.abs(custom.grads[w.name])).dataSync()[0]) > 0)).toBe(true);
    tf.dispose([x, custom.value, ref.value, ...Object.values(custom.grads), ...Object.values(ref.grads)]);
  });

  test('agrees with central finite differences on a frozen path (input direction)', () => {
    const layer = sdeLayer({ seed: 4, tspan: [0, 0.5], dt0: 0.05, solver: 'sosri', rtol: 1e-2, atol: 1e-2 });
    const x = X();
    const loss = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.square(layer.apply(xx) as tf.Tensor)) as tf.Scalar;
    const [g] = tf.grads(loss)([x]);
    const stats = layer.lastStats!;
    const dir = tf.tensor2d([
      [0.3, -0.2],
      [0.1, 0.4],
      [-0.5, 0.2],
    ]);
    const eps = 1e-2;
    // the unrolled map of the frozen step sequence (same path, same steps)
    const L = (sgn: number): number =>
      tf.tidy(() => {
        const xx = tf.add(x, tf.mul(dir, sgn * eps));
        return tf.sub(unrolled(layer, xx, { e: 0, s: 0 }), 0).dataSync()[0];
      });
    expect(layer.lastStats!.nAccepted).toBe(stats.nAccepted);
    const fd = (L(1) - L(-1)) / (2 * eps);
    const ad = tf.tidy(() => tf.sum(tf.mul(g, dir)).dataSync()[0]);
    expect(Math.abs(fd - ad)).toBeLessThan(2e-3 * Math.max(1, Math.abs(ad)));
    tf.dispose([x, g, dir]);
  });
});

describe('training', () => {
  test('fit with regularizers and callbacks: loss falls, NFE logged, memory flat over 20 epochs', async () => {
    const model = tfl.sequential({
      layers: [
        sdeLayer({
          inputShape: [2],
          seed: 9,
          solver: 'sosri2',
          rtol: 0.3,
          atol: 0.3,
          regularizers: [errorEstimate({ weight: 0.1 }), stiffness({ weight: 0.001 }), localErrorEstimate({ weight: 0.1 })],
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
    const x = X();
    const y = tf.zerosLike(x);
    const counts: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 20,
      verbose: 0,
      callbacks: [nfeLogger(), new tfl.CustomCallback({ onEpochEnd: async () => void counts.push(tf.memory().numTensors) })],
    });
    const loss = history.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    expect((history.history.nfe as number[]).every((n) => n > 0)).toBe(true);
    expect(new Set(counts.slice(2)).size).toBe(1);
    const { nfePerCall } = countNFE(model, () => tf.dispose(model.predict(x)));
    expect(nfePerCall).toBeGreaterThan(0);
    tf.dispose([x, y]);
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
