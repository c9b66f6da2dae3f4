/**
 * Observation times as data: a NeuralODE applied to [z0, times] against the same layer with the fixed
 * `saveat` option (outputs and gradients), masked losses, functional models, fit, save/load, memory,
 * and the checks on bad grids.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError, neuralODE, NeuralODE, NeuralODEOptions, neuralSDE } from '../../src';
import { readTimes } from '../../src/layers/time_input';
import { expectThrowNoLeak, maxAbsDiff, maxRelErr } from '../support/helpers';

const TIMES = [0, 0.13, 0.2, 0.47, 0.5, 0.81, 0.95];
/** The times as a float32 tensor holds them: the saveat layer must use these to match exactly. */
const TIMES32 = TIMES.map(Math.fround);

function field(seed: number): tfl.layers.Layer[] {
  return [
    tfl.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
    tfl.layers.dense({ units: 3, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  ];
}

/** Two layers with the same weights: one with `saveat`, one that takes [z0, times]. */
function pair(opts: NeuralODEOptions, saveat: number[]): { fixed: NeuralODE; timed: NeuralODE } {
  const base = { tspan: [0, 1] as [number, number], rtol: 1e-5, atol: 1e-6, ...opts };
  const fixed = neuralODE({ vectorField: field(5), ...base, saveat });
  const timed = neuralODE({ vectorField: field(5), ...base });
  // built by symbolic calls (tfjs counts those as uses, which dispose() requires)
  fixed.apply(tfl.input({ shape: [3] }));
  timed.apply([tfl.input({ shape: [3] }), tfl.input({ shape: [null] })]);
  timed.setWeights(fixed.getWeights());
  return { fixed, timed };
}

const z0 = (): tf.Tensor2D => tf.tensor2d([0.3, -0.5, 0.8, -1, 0.2, 0.4, 0.6, 0.9, -0.7, 0.1, 0.5, -0.3], [4, 3]);

describe('NeuralODE on [z0, times] against saveat', () => {
  test.each([['interpolate'], ['step']] as const)('outputs and gradients to z0 and every weight agree (saveatMode %s)', (saveatMode) => {
    const { fixed, timed } = pair({ saveatMode }, TIMES32);
    const x = z0();
    const times = tf.tensor1d(TIMES);
    const w = tf.randomNormal([4, TIMES.length, 3], 0, 1, 'float32', 3);
    const a = fixed.apply(x) as tf.Tensor;
    const b = timed.apply([x, times]) as tf.Tensor;
    expect(b.shape).toEqual([4, TIMES.length, 3]);
    expect(maxAbsDiff(b, a)).toBe(0);
    expect(timed.lastStats!.nfe).toBe(fixed.lastStats!.nfe);
    const grads = (layer: NeuralODE, inputs: () => tf.Tensor | tf.Tensor[]) => {
      const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const x0 = tf.variable(x);
      const { grads: g } = tf.variableGrads(() => {
        const inp = inputs();
        const y = layer.apply(Array.isArray(inp) ? [x0, inp[1]] : x0) as tf.Tensor;
        return tf.sum(tf.mul(y, w)) as tf.Scalar;
      }, [x0, ...vars]);
      const out = [g[x0.name], ...vars.map((v) => g[v.name])];
      x0.dispose();
      return out;
    };
    const gFixed = grads(fixed, () => x);
    const gTimed = grads(timed, () => [x, times]);
    gFixed.forEach((g, i) => expect(maxRelErr(gTimed[i], g)).toBeLessThan(1e-6));
    tf.dispose([x, times, w, a, b, ...gFixed, ...gTimed]);
    fixed.dispose();
    timed.dispose();
  });

  test('a masked loss: unobserved outputs carry no gradient (same as a saveat of the observed times only)', () => {
    // Times 1, 3 and 5 unobserved for every sample; the last time is observed, so both solves end there.
    const observed = [0, 2, 4, 6];
    const { fixed, timed } = pair(
      {},
      observed.map((i) => TIMES32[i]),
    );
    const x = z0();
    const times = tf.tensor1d(TIMES);
    const target = tf.randomNormal([4, TIMES.length, 3], 0, 1, 'float32', 8);
    const maskRows = TIMES.map((_, i) => (observed.includes(i) ? 1 : 0));
    const mask = tf.tile(tf.reshape(tf.tensor1d(maskRows), [1, TIMES.length, 1]), [4, 1, 3]);
    const targetObserved = tf.gather(target, observed, 1);
    const vars = [...fixed.trainableWeights].map((v) => v.read() as tf.Variable);
    const varsTimed = [...timed.trainableWeights].map((v) => v.read() as tf.Variable);
    const masked = tf.variableGrads(() => tf.sum(tf.mul(mask, tf.square(tf.sub(timed.apply([x, times]) as tf.Tensor, target)))) as tf.Scalar, varsTimed);
    const direct = tf.variableGrads(() => tf.sum(tf.square(tf.sub(fixed.apply(x) as tf.Tensor, targetObserved))) as tf.Scalar, vars);
    expect(Math.abs(masked.value.dataSync()[0] - direct.value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(direct.value.dataSync()[0]));
    vars.forEach((v, i) => expect(maxRelErr(masked.grads[varsTimed[i].name], direct.grads[v.name])).toBeLessThan(1e-5));
    tf.dispose([x, times, target, mask, targetObserved, masked.value, direct.value, ...Object.values(masked.grads), ...Object.values(direct.grads)]);
    fixed.dispose();
    timed.dispose();
  });

  test('a [batch, T] times input (one grid per row) gives the same result as the 1-D grid', () => {
    const { timed } = pair({}, TIMES);
    const x = z0();
    const t1 = tf.tensor1d(TIMES);
    const t2 = tf.tile(tf.tensor2d([TIMES]), [4, 1]);
    const a = timed.apply([x, t1]) as tf.Tensor;
    const b = timed.apply([x, t2]) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, t1, t2, a, b]);
    timed.dispose();
  });
});

describe('NeuralODE with a times input in models', () => {
  function timedModel(): tfl.LayersModel {
    const z = tfl.input({ shape: [3] });
    const t = tfl.input({ shape: [null] });
    const ode = neuralODE({ vectorField: field(11), rtol: 1e-4, atol: 1e-5 });
    const zs = ode.apply([z, t]) as tfl.SymbolicTensor;
    expect(zs.shape).toEqual([null, null, 3]);
    const out = tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(zs) as tfl.SymbolicTensor;
    return tfl.model({ inputs: [z, t], outputs: out });
  }

  test('predict on grids of different lengths; fit lowers the loss with flat memory; save/load predicts the same', async () => {
    const model = timedModel();
    const x = tf.randomNormal([8, 3], 0, 1, 'float32', 4);
    const short = tf.tile(tf.tensor2d([[0.1, 0.5, 1]]), [8, 1]);
    const long = tf.tile(tf.tensor2d([TIMES]), [8, 1]);
    const p1 = model.predict([x, short]) as tf.Tensor;
    const p2 = model.predict([x, long]) as tf.Tensor;
    expect(p1.shape).toEqual([8, 3, 2]);
    expect(p2.shape).toEqual([8, TIMES.length, 2]);
    const y = tf.randomNormal([8, TIMES.length, 2], 0, 0.5, 'float32', 6);
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
    const counts: number[] = [];
    const h = await model.fit([x, long], y, {
      epochs: 6,
      batchSize: 4,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) },
    });
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(0.9 * loss[0]);
    expect(new Set(counts.slice(1)).size).toBe(1);

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const a = model.predict([x, long]) as tf.Tensor;
    const b = loaded.predict([x, long]) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, short, long, p1, p2, y, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

describe('times input: bad grids get clear errors', () => {
  const layer = (): NeuralODE => {
    const l = neuralODE({ vectorField: field(21), tspan: [0, 1] });
    l.apply([tfl.input({ shape: [3] }), tfl.input({ shape: [null] })]);
    return l;
  };
  test.each([
    ['unsorted', [0.1, 0.5, 0.3], /strictly increasing.*entries 1 and 2 are 0.5 and 0.3.*Sort them/],
    ['duplicate', [0.1, 0.5, 0.5], /strictly increasing/],
    ['NaN', [0.1, NaN, 0.3], /finite; entry 1 is NaN/],
    ['outside tspan', [0.1, 0.5, 1.5], /entry 2 \(1.5\) lies outside tspan \[0, 1\]/],
    ['negative', [-0.1, 0.5], /entry 0 \(-0.1.*\) lies outside tspan/],
  ])('%s', (_name, grid, message) => {
    const l = layer();
    const x = z0();
    const t = tf.tensor1d(grid);
    const err = expectThrowNoLeak(() => l.apply([x, t]));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/NeuralODE layer '/);
    tf.dispose([x, t]);
    l.dispose();
  });

  test('not 1-D, rows that differ, empty', () => {
    const l = layer();
    const x = z0();
    const cases: [tf.Tensor, RegExp][] = [
      [tf.zeros([4, 2, 2]), /times input must be 1-D \[T\] or \[batch, T\].*got shape \[4,2,2\]/],
      [
        tf.tensor2d([
          [0.1, 0.2],
          [0.1, 0.3],
          [0.1, 0.2],
          [0.1, 0.2],
        ]),
        /same grid; row 1 differs from row 0 at index 1.*union/,
      ],
      [tf.zeros([0]), /times is empty/],
    ];
    for (const [t, message] of cases) {
      expect(() => l.apply([x, t])).toThrow(message);
      t.dispose();
    }
    tf.dispose(x);
    l.dispose();
  });

  test('symbolic: a times input of rank 3, a third input, saveat together with times', () => {
    const z = tfl.input({ shape: [3] });
    expect(() => neuralODE({ vectorField: field(1) }).apply([z, tfl.input({ shape: [2, 2] })])).toThrow(
      /times input must be 1-D \[T\] or \[batch, T\].*tf.input/,
    );
    expect(() => neuralODE({ vectorField: field(1) }).apply([z, tfl.input({ shape: [null] }), tfl.input({ shape: [null] })])).toThrow(
      /takes a state or \[state, times\], got 3 inputs/,
    );
    expect(() => neuralODE({ vectorField: field(1), saveat: [0.5, 1] }).apply([z, tfl.input({ shape: [null] })])).toThrow(/'saveat' option and a times input/);
  });

  test('NeuralSDE refuses a times input and names the saveat option', () => {
    const sde = neuralSDE({ drift: field(3), diffusion: field(4), dt0: 0.1 });
    expect(() => sde.apply([tfl.input({ shape: [3] }), tfl.input({ shape: [null] })])).toThrow(/does not take observation times as an input.*'saveat'/);
  });

  test('float32 times that round an end of tspan count as that end', () => {
    const t = tf.tensor1d([0.1, 0.3]);
    expect(readTimes('L', t, 0, 0.3)).toEqual([Math.fround(0.1), 0.3]);
    t.dispose();
  });
});
