/**
 * The hand-written pullback of Dense stacks equals tfjs autodiff (to 1e-5 relative, float32) and
 * central finite differences, for every supported activation, with and without time dependence,
 * for rank-2 and rank-3 states, with `Power` layers and frozen layers; other stacks fall back.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { autodiffFieldVjp, FieldWithVjp } from '../../src/adjoint/field_vjp';
import { DENSE_VJP_ACTIVATIONS, denseFieldVjp } from '../../src/adjoint/dense_vjp';
import { LayerStack } from '../../src/layers/vector_field';
import { power } from '../../src/layers/power';
import { InvalidArgumentError } from '../../src/solvers/core/errors';
import { maxRelErr } from '../support/helpers';

const D = 3;
const H = 5;
const T = 0.7;

/** Builds `stack` for states [batch, ...features] and overwrites its weights with seeded values. */
function built(stack: LayerStack, features: number[], seed: number): LayerStack {
  stack.build(features);
  stack.weights.forEach((w, i) => assign(w, tf.randomNormal(w.shape as number[], 0, 0.8, 'float32', seed + i)));
  return stack;
}

/** Writes `value` into `w` and frees it (the variable keeps its own reference to the data). */
function assign(w: tfl.LayerVariable, value: tf.Tensor): void {
  w.write(value);
  value.dispose();
}

function mlp(activation: string, timeDependent: boolean, features: number[], seed = 11): LayerStack {
  const layers = [tfl.layers.dense({ units: H, activation: activation as never }), tfl.layers.dense({ units: D, activation: activation as never })];
  return built(new LayerStack(layers, timeDependent, undefined), features, seed);
}

interface Outcome {
  value: tf.Tensor;
  dy: tf.Tensor;
  dParams: tf.Tensor[];
}

/** Value and pullback of `ct`; checks that the pullback creates exactly its outputs. */
function evaluate(field: FieldWithVjp, y: tf.Tensor, ct: tf.Tensor): Outcome {
  let out: Outcome | undefined;
  const kept = tf.tidy(() => {
    const e = field(T, y);
    const before = tf.memory().numTensors;
    const { dy, dParams } = e.pullback(ct);
    expect(tf.memory().numTensors - before).toBe(1 + dParams.length);
    out = { value: e.value, dy, dParams };
    return [e.value, dy, ...dParams];
  });
  expect(kept.length).toBeGreaterThan(1);
  return out as Outcome;
}

const dispose = (o: Outcome): void => tf.dispose([o.value, o.dy, ...o.dParams]);

/** ⟨ct, f(T, y)⟩ accumulated in float64 on the host. */
function objective(stack: LayerStack, y: tf.Tensor, ctv: ArrayLike<number>): number {
  const f = stack.call(T, y);
  const fv = f.dataSync();
  f.dispose();
  let s = 0;
  for (let i = 0; i < fv.length; i++) s += fv[i] * ctv[i];
  return s;
}

/**
 * Central difference of ⟨ct, f⟩ along a seeded random direction of (y, trainable weights), against
 * the same directional derivative from the pullback. h = 2e-3: float32 evaluation noise of the
 * objective (~1e-6) over 2h gives ~3e-4 absolute, the O(h²) truncation ~1e-5.
 */
function finiteDifferenceGap(stack: LayerStack, y: tf.Tensor, ct: tf.Tensor, o: Outcome): { fd: number; ad: number } {
  const h = 2e-3;
  const ctv = ct.dataSync();
  const vars = stack.trainableWeights;
  const dirs = [y, ...vars.map((w) => w.read())].map((x, i) => tf.randomUniform(x.shape, -1, 1, 'float32', 100 + i));
  const origW = vars.map((w) => tf.clone(w.read()));
  const at = (s: number): number => {
    vars.forEach((w, i) =>
      assign(
        w,
        tf.tidy(() => tf.add(origW[i], tf.mul(dirs[i + 1], s))),
      ),
    );
    const ys = tf.tidy(() => tf.add(y, tf.mul(dirs[0], s)));
    const v = objective(stack, ys, ctv);
    ys.dispose();
    return v;
  };
  const fd = (at(h) - at(-h)) / (2 * h);
  vars.forEach((w, i) => assign(w, origW[i]));
  let ad = 0;
  [o.dy, ...o.dParams].forEach((g, i) => {
    const gv = g.dataSync();
    const dv = dirs[i].dataSync();
    for (let j = 0; j < gv.length; j++) ad += gv[j] * dv[j];
  });
  tf.dispose(dirs);
  return { fd, ad };
}

/** Compares hand and autodiff pullbacks and finite differences; returns the largest relative gap to autodiff. */
function checkStack(stack: LayerStack, stateShape: number[], seed: number): number {
  const hand = denseFieldVjp(stack);
  expect(hand).not.toBeNull();
  const auto = autodiffFieldVjp(
    (t, y) => stack.call(t, y),
    stack.trainableWeights.map((w) => w.read()),
  );
  const before = tf.memory().numTensors;
  const y = tf.randomNormal(stateShape, 0, 1, 'float32', seed);
  const ct = tf.randomNormal(stateShape, 0, 1, 'float32', seed + 1);
  const a = evaluate(hand as FieldWithVjp, y, ct);
  const b = evaluate(auto, y, ct);
  const reference = stack.call(T, y);
  expect(maxRelErr(a.value, reference)).toBeLessThan(1e-6);
  expect(a.dParams.length).toBe(stack.trainableWeights.length);
  a.dParams.forEach((d, i) => expect(d.shape).toEqual(stack.trainableWeights[i].shape as number[]));
  expect(a.dy.shape).toEqual(stateShape);
  let worst = maxRelErr(a.dy, b.dy);
  a.dParams.forEach((d, i) => (worst = Math.max(worst, maxRelErr(d, b.dParams[i]))));
  const { fd, ad } = finiteDifferenceGap(stack, y, ct, a);
  expect(Math.abs(fd - ad)).toBeLessThan(2e-3 * Math.max(1, Math.abs(ad)));
  dispose(a);
  dispose(b);
  tf.dispose([reference, y, ct]);
  expect(tf.memory().numTensors).toBe(before);
  return worst;
}

describe('denseFieldVjp', () => {
  test('supports every activation tfjs-layers registers', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    // The activations are the registered subclasses of tfjs-layers' Activation base class.
    const base = Object.getPrototypeOf(map.tanh[0]) as { prototype: object };
    const activations = Object.keys(map).filter((n) => (map[n][0] as unknown as { prototype: object }).prototype instanceof (base as never));
    expect(activations.length).toBe(16);
    expect([...DENSE_VJP_ACTIVATIONS].sort()).toEqual(activations.sort());
  });

  for (const activation of DENSE_VJP_ACTIVATIONS) {
    for (const timeDependent of [false, true]) {
      for (const shape of [
        [4, D],
        [2, 3, D],
      ]) {
        test(`${activation}, ${timeDependent ? 'time dependent' : 'autonomous'}, state [${shape}]`, () => {
          const stack = mlp(activation, timeDependent, shape.slice(1));
          const worst = checkStack(stack, shape, 21);
          expect(worst).toBeLessThan(1e-5);
        });
      }
    }
  }

  test('Power layers, with and without time', () => {
    for (const timeDependent of [false, true]) {
      const stack = built(
        new LayerStack([power({ exponent: 3 }), tfl.layers.dense({ units: H, activation: 'tanh' }), tfl.layers.dense({ units: D })], timeDependent, undefined),
        [D],
        31,
      );
      expect(checkStack(stack, [4, D], 41)).toBeLessThan(1e-5);
    }
    const last = built(new LayerStack([tfl.layers.dense({ units: D, activation: 'tanh' }), power({ exponent: 2 })], false, undefined), [D], 51);
    expect(checkStack(last, [4, D], 43)).toBeLessThan(1e-5);
  });

  test('frozen layers and layers without bias contribute exactly their trainable weights', () => {
    const frozen = tfl.layers.dense({ units: H, activation: 'tanh' });
    const stack = built(
      new LayerStack([frozen, tfl.layers.dense({ units: H, activation: 'swish', useBias: false }), tfl.layers.dense({ units: D })], true, undefined),
      [D],
      61,
    );
    frozen.trainable = false;
    expect(stack.trainableWeights.length).toBe(3); // kernel of layer 2, kernel and bias of layer 3
    expect(checkStack(stack, [4, D], 45)).toBeLessThan(1e-5);
  });

  test('weights written after creation are used', () => {
    const stack = mlp('tanh', false, [D], 71);
    const field = denseFieldVjp(stack) as FieldWithVjp;
    stack.weights.forEach((w, i) => assign(w, tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', 200 + i)));
    const y = tf.randomNormal([4, D], 0, 1, 'float32', 3);
    const got = tf.tidy(() => field(T, y).value);
    const want = stack.call(T, y);
    expect(maxRelErr(got, want)).toBeLessThan(1e-6);
    tf.dispose([y, got, want]);
  });

  test('stacks with other layers or activations fall back (null)', () => {
    const conv = new LayerStack([tfl.layers.conv1d({ filters: D, kernelSize: 1 })], false, undefined);
    const norm = new LayerStack([tfl.layers.dense({ units: D }), tfl.layers.layerNormalization()], false, undefined);
    const activationLayer = new LayerStack([tfl.layers.dense({ units: D }), tfl.layers.activation({ activation: 'tanh' })], false, undefined);
    class MyDense extends (tfl.layers.dense({ units: 1 }).constructor as new (args: { units: number }) => tfl.layers.Layer) {}
    const subclass = new LayerStack([new MyDense({ units: D })], false, undefined);
    for (const s of [conv, norm, activationLayer, subclass]) expect(denseFieldVjp(s)).toBeNull();
  });

  test('clear errors for an unbuilt stack and a rank-1 state', () => {
    const field = denseFieldVjp(new LayerStack([tfl.layers.dense({ units: D })], false, undefined)) as FieldWithVjp;
    const y = tf.zeros([2, D]);
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => void field(0, y))).toThrow(InvalidArgumentError);
    expect(() => tf.tidy(() => void field(0, y))).toThrow(/not built.*build the stack/);
    const v = tf.zeros([D]);
    expect(() => tf.tidy(() => void field(0, v))).toThrow(/Add a batch axis/);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([y, v]);
  });
});
