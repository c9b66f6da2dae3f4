/** The NeuralODE layer in tfjs models: structure, gradients, training, memory, errors. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, neuralODE, NeuralODE, nfeLogger, SolverError } from '../../src';
import { warmStep } from '../../src/layers/de_layer';
import { getTableau } from '../../src/solvers/registry';
import { rkStepTensor } from '../../src/solvers/rk/stepper';
import { maxRelErr } from '../support/helpers';
import { linspace, spiralNODE, spiralTrajectory } from '../support/spiral';
import { thetasInside, unrolledSolve } from '../support/unrolled';

const ACTIVATIONS = [
  'elu',
  'hardSigmoid',
  'linear',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;
type Activation = (typeof ACTIVATIONS)[number];

function mlpField(hidden: number, out: number, activation: Activation = 'tanh', seed = 3): tfl.layers.Layer[] {
  return [
    tfl.layers.dense({ units: hidden, activation, kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
    tfl.layers.dense({ units: out, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  ];
}

describe('NeuralODE in models', () => {
  test('sequential: weights belong to the model and are counted', () => {
    const model = tfl.sequential({ layers: [neuralODE({ inputShape: [3], vectorField: mlpField(16, 3) }), tfl.layers.dense({ units: 1 })] });
    // dense 3->16 (48+16) + 16->3 (48+3) + head 3->1 (3+1)
    expect(model.countParams()).toBe(64 + 51 + 4);
    expect(model.trainableWeights).toHaveLength(6);
    const names = model.trainableWeights.map((w) => w.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toMatch(/neural_ode.*\/dense.*\/kernel/);
    const y = model.predict(tf.ones([5, 3])) as tf.Tensor;
    expect(y.shape).toEqual([5, 1]);
    tf.dispose(y);
    model.dispose();
  });

  test('functional API, two NeuralODE layers in one model, saveat output shape', () => {
    const inp = tfl.input({ shape: [2] });
    const a = neuralODE({ vectorField: mlpField(8, 2), tspan: [0, 0.5] }).apply(inp) as tfl.SymbolicTensor;
    const b = neuralODE({ vectorField: mlpField(8, 2, 'relu', 7), saveat: [0.25, 0.5, 1] }).apply(a) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: inp, outputs: b });
    expect(b.shape).toEqual([null, 3, 2]);
    const y = model.predict(tf.ones([4, 2])) as tf.Tensor;
    expect(y.shape).toEqual([4, 3, 2]);
    expect(model.trainableWeights).toHaveLength(8);
    tf.dispose(y);
    model.dispose();
  });

  // Every built-in tfjs activation: the custom gradient equals autodiff through the same unrolled
  // accepted steps (the VJPs come from tfjs autodiff of the recomputed step, so any layer works).
  test.each(ACTIVATIONS)('dense with %s activation: gradient of every weight equals unrolled autodiff', (act) => {
    const layer = neuralODE({ inputShape: [2], vectorField: mlpField(8, 2, act), rtol: 1e-4, atol: 1e-6 });
    const model = tfl.sequential({ layers: [layer] });
    const x = tf.randomNormal([6, 2], 0, 1, 'float32', 1);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar, vars);
    const stats = layer.lastStats!;
    const tab = getTableau('tsit5');
    const unrolled = (): tf.Scalar => {
      let y: tf.Tensor = x;
      stats.dt.forEach((dt, j) => {
        y = rkStepTensor(tab, (t, s) => layer.evaluateField(t, s), stats.t[j], y, dt, { atol: 1e-6, rtol: 1e-4 }).y1;
      });
      return tf.sum(tf.square(y)) as tf.Scalar;
    };
    const { grads: ref } = tf.variableGrads(unrolled, vars);
    for (const v of vars) {
      const g = grads[v.name];
      const scale = tf.tidy(() => tf.max(tf.abs(ref[v.name])).dataSync()[0]);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, ref[v.name]))).dataSync()[0]);
      expect(diff).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-6));
    }
    tf.dispose([x, ...Object.values(grads), ...Object.values(ref)]);
    model.dispose();
  });
});

describe('NeuralODE gradient equals autodiff through the unrolled accepted steps', () => {
  test.each([
    ['tsit5', false, undefined, true],
    ['dopri5', false, undefined, true],
    ['tsit5', true, [0.3, 0.6, 1], true],
    ['tsit5', true, [0.3, 0.6, 1], false],
    ['bosh3', false, undefined, false],
  ] as const)('%s timeDependent=%s saveat=%j, hand-written reverse=%s', (solver, timeDependent, saveat, hand) => {
    const layer = neuralODE({
      inputShape: [2],
      solver,
      timeDependent,
      saveat: saveat ? [...saveat] : undefined,
      vectorField: mlpField(8, 2),
      rtol: 1e-4,
      atol: 1e-6,
    });
    layer.useHandVjp = hand;
    const model = tfl.sequential({ layers: [layer] });
    const x = tf.randomNormal([4, 2], 0, 1, 'float32', 2);
    const R = tf.randomNormal(saveat ? [4, saveat.length, 2] : [4, 2], 0, 1, 'float32', 3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = (out: tf.Tensor): tf.Scalar => tf.sum(tf.mul(out, R)) as tf.Scalar;
    // custom gradient, for the input and every weight
    const gx = tf.grad((z: tf.Tensor) => loss(model.apply(z) as tf.Tensor))(x);
    const { grads } = tf.variableGrads(() => loss(model.apply(x) as tf.Tensor), vars);
    const stats = layer.lastStats!;
    // reference: unrolled tfjs ops over the same accepted steps, saveat states inside a step from
    // its dense output
    const tab = getTableau(solver);
    const steps = { t: stats.t, dt: stats.dt, end: 1 };
    const unrolled = (z: tf.Tensor): tf.Scalar => {
      const { outs } = unrolledSolve(tab, (t, s) => layer.evaluateField(t, s), steps, z, 0, saveat ?? [1], { atol: 1e-6, rtol: 1e-4 });
      return loss(saveat ? tf.stack(outs, 1) : outs[0]);
    };
    const gxRef = tf.grad(unrolled)(x);
    const { grads: gRef } = tf.variableGrads(() => unrolled(x), vars);
    expect(maxRelErr(gx, gxRef)).toBeLessThan(1e-5);
    for (const v of vars) expect(maxRelErr(grads[v.name], gRef[v.name])).toBeLessThan(1e-5);
    expect(layer.handVjp).toBe(hand);
    // the hand-written reverse skips the FSAL stage when no estimate or dense output needs it
    const perStep = stats.dt.map((_, j) => (hand && tab.fsal && thetasInside(steps, j, saveat ?? []).length === 0 ? tab.stages - 1 : tab.stages));
    expect(stats.nfeBackward).toBe(perStep.reduce((a, b) => a + b, 0));
    if (saveat) expect(perStep.some((n) => n === tab.stages)).toBe(true); // some output was interpolated
    tf.dispose([x, R, gx, gxRef, ...Object.values(grads), ...Object.values(gRef)]);
    model.dispose();
  });
});

describe('training with model.fit', () => {
  test('spiral dynamics fit reaches a low loss; memory flat over 20 epochs; nfe logged', async () => {
    const ts = linspace(0, 1.5, 30);
    const yTrue = spiralTrajectory([[2, 0]], ts);
    const x = tf.tensor2d([[2, 0]]);
    const model = tfl.sequential({ layers: [spiralNODE({ inputShape: [2], tspan: [0, 1.5], saveat: ts, seed: 1 })] });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const mem: number[] = [];
    const memCb = new tfl.CustomCallback({ onEpochEnd: async () => void mem.push(tf.memory().numTensors) });
    const h = await model.fit(x, yTrue, { epochs: 75, verbose: 0, callbacks: [nfeLogger(), memCb] });
    const loss = h.history.loss as number[];
    // measured (seed 1, saveat interpolated): 4.75 -> 0.065 (cpu) / 0.066 (wasm) after 75 epochs; at 60
    // epochs the loss still oscillates between 0.11 and 0.16 (stepping onto saveat: 0.10)
    expect(loss[0]).toBeGreaterThan(2);
    expect(loss[loss.length - 1]).toBeLessThan(0.15);
    expect(new Set(mem.slice(0, 20)).size).toBe(1);
    expect(new Set(mem).size).toBe(1);
    const nfe = h.history.nfe as number[];
    expect(nfe).toHaveLength(75);
    nfe.forEach((n) => expect(n).toBeGreaterThan(20));
    // prediction NFE through countNFE
    const { result, nfePerCall, calls } = countNFE(model, () => model.predict(x) as tf.Tensor);
    expect(calls).toBe(1);
    expect(nfePerCall).toBeGreaterThan(20);
    tf.dispose([result, x, yTrue]);
    model.dispose();
  });
});

describe('warmStart', () => {
  test("training calls start from the previous training call's first step; inference calls do not; fewer NFE", async () => {
    const ts = linspace(0, 1.5, 30);
    const yTrue = spiralTrajectory([[2, 0]], ts);
    const x = tf.tensor2d([[2, 0]]);
    const run = async (warmStart: boolean) => {
      const layer = spiralNODE({ inputShape: [2], tspan: [0, 1.5], saveat: ts, seed: 1, warmStart });
      const model = tfl.sequential({ layers: [layer] });
      model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
      const firstSteps: [number, number][] = [];
      const cb = new tfl.CustomCallback({
        onBatchEnd: async () => void firstSteps.push([Math.abs(layer.lastStats!.dtInitial), warmStep(layer.lastStats!)!]),
      });
      const h = await model.fit(x, yTrue, { epochs: 30, verbose: 0, callbacks: [nfeLogger(), cb] });
      return { layer, model, firstSteps, nfe: (h.history.nfe as number[]).reduce((a, b) => a + b, 0), loss: (h.history.loss as number[]).at(-1)! };
    };
    const cold = await run(false);
    const warm = await run(true);
    // each warm training call begins with the step where the previous call's ramp ended (E ≥ 0.1); the
    // heuristic's first steps are ~1e-4 here and the PI controller grows them only ~2–3× per step
    warm.firstSteps.slice(1).forEach(([initial], i) => expect(initial).toBe(warm.firstSteps[i][1]));
    const median = (xs: number[]): number => xs.slice().sort((p, q) => p - q)[xs.length >> 1];
    expect(median(cold.firstSteps.map(([initial]) => initial))).toBeLessThan(0.1 * median(warm.firstSteps.slice(1).map(([initial]) => initial)));
    // measured over 30 epochs (cpu): 3588 forward NFE cold, 2179 warm (−39%)
    expect(warm.nfe).toBeLessThan(0.75 * cold.nfe);
    expect(warm.loss).toBeLessThan(1.25 * cold.loss);
    // inference ignores the warm start: the same weights give the same prediction with and without it
    cold.layer.setWeights(warm.layer.getWeights());
    const a = warm.model.predict(x) as tf.Tensor;
    const b = cold.model.predict(x) as tf.Tensor;
    expect(tf.util.arraysEqual(a.dataSync(), b.dataSync())).toBe(true);
    expect(warm.layer.getConfig().warmStart).toBe(true);
    expect(() => spiralNODE({ inputShape: [2], dt0: 0.1, warmStart: true })).toThrow(/'warmStart' .* with 'dt0' set there is no heuristic to replace/);
    console.log(`warmStart: forward NFE over 30 epochs ${cold.nfe} cold, ${warm.nfe} warm; final loss ${cold.loss.toFixed(3)} / ${warm.loss.toFixed(3)}`);
    tf.dispose([a, b, x, yTrue]);
    cold.model.dispose();
    warm.model.dispose();
  });
});

describe('bad input', () => {
  test('wrong feature size or rank: clear error, nothing leaked', () => {
    const model = tfl.sequential({ layers: [neuralODE({ inputShape: [2], vectorField: mlpField(4, 2) })] });
    const before = tf.memory().numTensors;
    const bad = tf.ones([3, 5]);
    expect(() => model.predict(bad)).toThrow(/expected .* to have shape \[null,2\] but got array with shape \[3,5\]/);
    bad.dispose();
    const layer = model.layers[0] as NeuralODE;
    const rank3 = tf.ones([3, 2, 1]);
    expect(() => layer.apply(rank3)).toThrow(/expects inputs of shape \[batch, 2\], got \[3,2,1\]|ndim/);
    rank3.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test('vector field that changes the shape', () => {
    expect(() => tfl.sequential({ layers: [neuralODE({ inputShape: [2], vectorField: mlpField(4, 3) })] })).toThrow(
      /maps states of shape \[batch, 2\] to \[batch, 3\]; it must return the state's shape\. Make its last layer output 2 features/,
    );
  });

  test('bad options fail at construction', () => {
    expect(() => neuralODE({ vectorField: mlpField(4, 2), solver: 'RK45' as never })).toThrow(/Unknown solver 'RK45'/);
    expect(() => neuralODE({ vectorField: mlpField(4, 2), rtol: -1 })).toThrow(/'rtol' must be a finite positive number/);
    expect(() => neuralODE({ vectorField: [] })).toThrow(/non-empty array of tf.layers/);
    expect(() => neuralODE({ vectorField: mlpField(4, 2), timeDependent: 'yes' as never })).toThrow(/'timeDependent' must be a boolean/);
  });

  test('solver failure inside fit names the layer and the statistics; weights unchanged; nothing leaked', async () => {
    const layer = neuralODE({ inputShape: [2], vectorField: mlpField(8, 2), maxSteps: 3, rtol: 1e-8, atol: 1e-8, name: 'ode_block' });
    const model = tfl.sequential({ layers: [layer] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = tf.randomNormal([8, 2], 0, 1, 'float32', 4);
    const y = tf.zeros([8, 2]);
    const before = model.getWeights().map((w) => w.dataSync().slice());
    // A failing gradient step (what fit and trainOnBatch run) leaves nothing behind.
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const n0 = tf.memory().numTensors;
    expect(() => tf.variableGrads(() => tf.sum(model.apply(x) as tf.Tensor) as tf.Scalar, vars)).toThrow(SolverError);
    expect(tf.memory().numTensors).toBe(n0);
    await expect(model.trainOnBatch(x, y)).rejects.toThrow(/NeuralODE layer 'ode_block'/);
    // fit: same error. (tfjs's own training loops leak their batch tensors when any layer throws:
    // 7 tensors for a plain custom layer that throws in fit, measured on 4.22; not checked here.)
    let err: unknown;
    try {
      await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SolverError);
    expect((err as SolverError).message).toMatch(/NeuralODE layer 'ode_block': Reached maxSteps=3 .* \(at t=.*; nfe=\d+, accepted=\d+, rejected=\d+\)/);
    expect((err as SolverError).stats.nSteps).toBe(3);
    const after = model.getWeights().map((w) => w.dataSync().slice());
    after.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(before[i])));
    tf.dispose([x, y]);
    model.dispose();
  });
});
