/**
 * A DE layer used every way tfjs lets a layer be used, and fed what a new user might feed it:
 * misspelt options, regularizers its solver cannot serve, nested models, training-dependent layers,
 * several nodes, shared layers, eager calls, shape errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, errorEstimate, InvalidArgumentError, localErrorEstimate, neuralODE, NeuralODE, stiffness } from '../../src';
import { expectThrowNoLeak } from '../support/helpers';

const dense = (units: number, seed = 1, activation: 'tanh' | 'linear' = 'linear'): tfl.layers.Layer =>
  tfl.layers.dense({ units, activation, kernelInitializer: tfl.initializers.glorotUniform({ seed }) });

describe('constructor arguments', () => {
  test('a misspelt option is an error that suggests the right one; tfjs layer arguments stay valid', () => {
    const e = expectThrowNoLeak(() => neuralODE({ vectorField: [dense(2)], rTol: 1e-6 } as never));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toMatch(/NeuralODE: Unknown option 'rTol' \(did you mean 'rtol'\?\)/);
    const layer = neuralODE({ vectorField: [dense(2)], rtol: 1e-6, name: 'ode', inputShape: [2], trainable: true, dtype: 'float32' });
    expect(layer.solverOptions.controller.rtol).toBe(1e-6);
    expect(layer.name).toBe('ode');
  });

  test.each(['euler', 'midpoint', 'rk4'] as const)('error-estimate regularizers on fixed-step %s are refused', (solver) => {
    for (const reg of [errorEstimate(), localErrorEstimate(), 'errorEstimate' as const]) {
      const e = expectThrowNoLeak(() => neuralODE({ vectorField: [dense(2)], solver, dt0: 0.1, regularizers: [reg] }));
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e.message).toMatch(new RegExp(`regularizer needs a solver with an error estimate .*'${solver}' has none`));
    }
    expect(() => neuralODE({ vectorField: [dense(2)], solver: 'bosh3', regularizers: [stiffness()] })).toThrow(
      /stiffness estimate; 'bosh3' has none\. Use solver 'tsit5' or 'dopri5' in this NeuralODE layer/,
    );
  });

  test('a nested model in the vector field is refused with what to pass instead, leaking nothing', () => {
    const inner = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2 })] });
    const e = expectThrowNoLeak(() => neuralODE({ vectorField: [inner as unknown as tfl.layers.Layer] }));
    expect(e.message).toMatch(/vectorField\[0\] is a model .*not a nested model. Pass its layers instead/);
    inner.dispose();
  });

  test.each([
    ['Dropout', () => tfl.layers.dropout({ rate: 0.5 })],
    ['GaussianNoise', () => tfl.layers.gaussianNoise({ stddev: 0.1 })],
    ['BatchNormalization', () => tfl.layers.batchNormalization()],
    ['AlphaDropout', () => tfl.layers.alphaDropout({ rate: 0.1 })],
  ])('a training-dependent %s layer in the vector field is refused, saying why', (name, make) => {
    const e = expectThrowNoLeak(() => neuralODE({ vectorField: [dense(2), make()] }));
    expect(e.message).toMatch(new RegExp(`vectorField\\[1\\] is a '${name}' layer, whose output depends on the training flag`));
  });
});

describe('several nodes and shared layers', () => {
  /** A regularized NeuralODE applied at two nodes of a two-input functional model. */
  const regularizedAtTwoNodes = (): { ode: NeuralODE; model: tfl.LayersModel } => {
    const ode = neuralODE({ vectorField: [dense(2, 3, 'tanh')], regularizers: [errorEstimate({ weight: 1 })], rtol: 1e-4, atol: 1e-6 });
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    return { ode, model: tfl.model({ inputs: [a, b], outputs: [ode.apply(a) as tfl.SymbolicTensor, ode.apply(b) as tfl.SymbolicTensor] }) };
  };

  test('one layer applied at two nodes: each call is regularized by its own penalty', () => {
    const { ode, model } = regularizedAtTwoNodes();
    const xa = tf.tensor2d([[0.1, 0.2]]);
    const xb = tf.tensor2d([[3, -4]]);
    // the penalty of each input alone, through a one-input model sharing the layer
    const alone = (x: tf.Tensor): number =>
      tf.tidy(() => {
        ode.apply(x, { training: true });
        return ode.regularizationLoss().dataSync()[0];
      });
    const pa = alone(xa);
    const pb = alone(xb);
    expect(Math.abs(pa - pb)).toBeGreaterThan(1e-3 * Math.max(pa, pb));
    const losses = tf.tidy(() => {
      model.apply([xa, xb], { training: true });
      return model.calculateLosses().map((l) => l.dataSync()[0]);
    });
    expect(losses).toHaveLength(2);
    expect(losses[0]).toBeCloseTo(pa, 6);
    expect(losses[1]).toBeCloseTo(pb, 6);
    tf.dispose([xa, xb]);
    model.dispose();
  });

  test('one eager call of a layer used at two nodes is one penalty in calculateLosses, not two', () => {
    const { ode, model } = regularizedAtTwoNodes();
    const x = tf.tensor2d([[0.1, 0.2]]);
    const { alone, losses } = tf.tidy(() => {
      ode.apply(x, { training: true });
      const alone = ode.regularizationLoss().dataSync()[0];
      ode.apply(x, { training: true });
      return { alone, losses: model.calculateLosses().map((l) => l.dataSync()[0]) };
    });
    expect(alone).toBeGreaterThan(0);
    expect(losses).toEqual([alone, 0]);
    x.dispose();
    model.dispose();
  });

  test('a layer without regularizers keeps no estimate tensors; its estimates are made on request and freed with the next call', () => {
    const ode = neuralODE({ inputShape: [2], vectorField: [dense(2, 3, 'tanh')], estimateStiffness: true });
    const model = tfl.sequential({ layers: [ode] });
    const x = tf.tensor2d([[0.1, 0.2]]);
    const before = tf.memory().numTensors;
    tf.dispose(model.predict(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    const E = ode.lastErrorEstimates!;
    const S = ode.lastStiffnessEstimates!;
    expect(Array.from(E.dataSync())).toEqual(Array.from(Float32Array.from(ode.lastStats!.errorEstimate)));
    expect(Array.from(S.dataSync())).toEqual(Array.from(Float32Array.from(ode.lastStats!.stiffnessEstimate)));
    expect(ode.lastErrorEstimates).toBe(E); // the same tensor until the next call
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(model.predict(x) as tf.Tensor);
    expect(E.isDisposed && S.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  test('vector-field layers shared by two NeuralODE layers are refused clearly; a disposed owner releases them', () => {
    const shared = [dense(2, 4)];
    const first = neuralODE({ vectorField: shared, name: 'first_ode' });
    const e = expectThrowNoLeak(() => neuralODE({ vectorField: shared }));
    expect(e.message).toMatch(/already belongs to NeuralODE layer 'first_ode'.*apply that NeuralODE layer again at another node/);
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2 }), first] });
    expect(model.countParams()).toBe(6 + 6);
    model.dispose();
    expect(() => neuralODE({ vectorField: shared })).not.toThrow();
  });

  test('the same layer object twice in one vector field is refused', () => {
    const d = dense(2);
    expect(() => neuralODE({ vectorField: [d, d] })).toThrow(/vectorField\[1\] is the same layer object as vectorField\[0\]/);
  });
});

describe('tfjs behaviours the docs rely on', () => {
  test('model.predict cuts a batch into pieces of 32 rows (one solve each) unless given {batchSize}', () => {
    const model = tfl.sequential({ layers: [neuralODE({ inputShape: [2], vectorField: [dense(2, 1, 'tanh')] })] });
    const x = tf.randomNormal([70, 2], 0, 1, 'float32', 3);
    const split = countNFE(model, () => model.predict(x) as tf.Tensor);
    const whole = countNFE(model, () => model.predict(x, { batchSize: 70 }) as tf.Tensor);
    expect(split.calls).toBe(3);
    expect(whole.calls).toBe(1);
    tf.dispose([x, split.result, whole.result]);
    model.dispose();
  });
});

describe('memory and failures', () => {
  test('eager layer.apply(x) leaks nothing per call', () => {
    const layer = neuralODE({ vectorField: [dense(8, 5, 'tanh'), dense(2, 6)], saveat: [0.5, 1] });
    const x = tf.ones([3, 2]);
    tf.dispose(layer.apply(x) as tf.Tensor); // builds the layer
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(layer.apply(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    layer.dispose();
  });

  test('a vector field that changes the state shape: clear error, its weights freed, the layers reusable', () => {
    const wrong = [dense(8, 1, 'tanh'), dense(3, 2)];
    const layer = neuralODE({ vectorField: wrong });
    const before = tf.memory().numTensors;
    const e = (() => {
      try {
        layer.apply(tf.ones([1, 2]));
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a shape error');
    })();
    expect(e.message).toMatch(/maps states of shape \[batch, 2\] to \[batch, 3\]/);
    // the ones([1, 2]) input is the only tensor created in between; it is collected below
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    expect(wrong.every((l) => !l.built && l.weights.length === 0)).toBe(true);
  });

  test('NeuralODE instances are NeuralODE (the class identity used by the callbacks)', () => {
    expect(neuralODE({ vectorField: [dense(2)] })).toBeInstanceOf(NeuralODE);
  });
});

describe('the same class of problem elsewhere: misspelt arguments are errors', () => {
  test.each([
    ['errorEstimate', () => errorEstimate({ wieght: 10 } as never), /errorEstimate: Unknown option 'wieght' \(did you mean 'weight'\?\)/],
    ['stiffness', () => stiffness({ dtfactor: false } as never), /stiffness: Unknown option 'dtfactor' \(did you mean 'dtFactor'\?\)/],
    [
      'localErrorEstimate',
      () => localErrorEstimate({ sampleing: 'biased' } as never),
      /localErrorEstimate: Unknown option 'sampleing' \(did you mean 'sampling'\?\)/,
    ],
  ])('%s arguments', (_name, make, msg) => {
    expect(make).toThrow(msg);
  });

  test('schedule arguments', async () => {
    const { anneal } = await import('../../src');
    expect(() => anneal(errorEstimate(), { type: 'exponential', from: 10, to: 1, epoch: 5 } as never)).toThrow(
      /exponential schedule: Unknown option 'epoch' \(did you mean 'epochs'\?\)/,
    );
  });
});
