/**
 * Pins every tfjs internal that `src/tfjs_internals.ts` relies on (checked on tfjs 4.22), against
 * the installed tfjs. A failure here after a tfjs upgrade names the internal that changed; fix that
 * function in `src/tfjs_internals.ts` (and only there).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DENSE_VJP_ACTIVATIONS } from '../src/adjoint/dense_vjp';
import {
  denseLayerParts,
  engineGradients,
  gradientDepth,
  isLayerArgKey,
  LAYER_ARG_KEYS,
  LayerArgs,
  registeredClass,
  runKernel,
  tensorDataId,
  withSavedActiveTape,
} from '../src/tfjs_internals';

/** The engine state fields the module reads, as the test sees them. */
interface EngineState {
  activeTape: unknown;
  gradientDepth: unknown;
}
const engineState = (): EngineState => tf.engine().state as unknown as EngineState;

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('LayerArgs', () => {
  test('the keys are those of tfjs-layers 4.22, and only they', () => {
    expect(LAYER_ARG_KEYS).toEqual(['inputShape', 'batchInputShape', 'batchSize', 'dtype', 'name', 'trainable', 'weights', 'inputDType']);
    for (const k of LAYER_ARG_KEYS) expect(isLayerArgKey(k)).toBe(true);
    for (const k of ['units', 'vectorField', 'toString', 'constructor']) expect(isLayerArgKey(k)).toBe(false);
  });

  test('the Layer constructor honours them', () => {
    class Probe extends tfl.layers.Layer {
      static className = 'TfjsInternalsProbe';
      constructor(args: LayerArgs) {
        super(args);
      }
    }
    const a = new Probe({ name: 'probe_a', trainable: false, dtype: 'float32', batchInputShape: [2, 3] });
    expect(a.name).toBe('probe_a');
    expect(a.trainable).toBe(false);
    expect(a.dtype).toBe('float32');
    expect(a.batchInputShape).toEqual([2, 3]);
    const b = new Probe({ inputShape: [3], batchSize: 4 });
    expect(b.batchInputShape).toEqual([4, 3]);
  });
});

describe('engine: active tape, gradients, gradient depth', () => {
  test('engine.state has activeTape (null after a top-level gradient) and gradientDepth; engine.gradients is a function', () => {
    const x = tf.scalar(1);
    tf.grad((z: tf.Tensor) => tf.square(z))(x).dispose();
    x.dispose();
    const s = engineState();
    expect('activeTape' in s).toBe(true);
    expect(s.activeTape).toBeNull();
    expect(typeof s.gradientDepth).toBe('number');
    expect(typeof tf.engine().gradients).toBe('function');
  });

  test('engineGradients: value and gradients, undefined for an input the objective does not use', () => {
    const a = tf.scalar(3);
    const b = tf.tensor1d([1, 2]);
    const { value, grads } = engineGradients(() => tf.square(a), [a, b]);
    expect(value.dataSync()[0]).toBe(9);
    expect(grads).toHaveLength(2);
    expect(grads[0]?.dataSync()[0]).toBe(6);
    expect(grads[1]).toBeUndefined();
    tf.dispose([a, b, value, grads[0] as tf.Tensor]);
  });

  test('engine.gradients in a custom gradient function nulls the outer pass’s tape; withSavedActiveTape restores it', () => {
    const seen: Record<string, unknown> = {};
    const disposeResult = (r: { value: tf.Tensor; grads: (tf.Tensor | undefined)[] }): void =>
      tf.dispose([r.value, ...r.grads.filter((t): t is tf.Tensor => t !== undefined)]);
    const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x]);
      return {
        value: tf.square(x),
        gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
          const s = engineState();
          const outer = s.activeTape;
          seen.outerIsTape = Array.isArray(outer);
          // unguarded: the inner computation leaves the engine without a tape
          disposeResult(engineGradients(() => tf.sum(tf.sin(xs)) as tf.Scalar, [xs]));
          seen.afterPlain = s.activeTape;
          s.activeTape = outer; // repaired by hand so that the outer pass can finish
          // guarded
          disposeResult(withSavedActiveTape(() => engineGradients(() => tf.sum(tf.sin(xs)) as tf.Scalar, [xs])));
          seen.afterGuarded = s.activeTape === outer;
          return [tf.mul(dy, tf.mul(xs, 2))];
        },
      };
    }) as never) as (x: tf.Tensor) => tf.Tensor;
    const x = tf.scalar(2);
    const g = tf.grad((z: tf.Tensor) => op(z))(x);
    expect(seen.outerIsTape).toBe(true);
    expect(seen.afterPlain).toBeNull();
    expect(seen.afterGuarded).toBe(true);
    expect(g.dataSync()[0]).toBe(4);
    tf.dispose([x, g]);
  });

  test('withSavedActiveTape restores the tape when its function throws', () => {
    const s = engineState();
    const before = s.activeTape;
    expect(() =>
      withSavedActiveTape(() => {
        s.activeTape = 'replaced';
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.activeTape).toBe(before);
  });

  test('gradientDepth: 0 outside, 1 in a gradient forward pass, 2 nested, 0 in a custom gradient function', () => {
    const depths: Record<string, number> = { outside: gradientDepth() };
    const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x]);
      depths.customForward = gradientDepth();
      return {
        value: tf.square(x),
        gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
          depths.customGradFunc = gradientDepth();
          return [tf.mul(dy, tf.mul(xs, 2))];
        },
      };
    }) as never) as (x: tf.Tensor) => tf.Tensor;
    const x = tf.scalar(1.5);
    const g = tf.grad((z: tf.Tensor) => {
      depths.forward = gradientDepth();
      const nested = tf.grad((w: tf.Tensor) => {
        depths.nested = gradientDepth();
        return tf.square(w);
      })(z);
      nested.dispose();
      return op(z);
    })(x);
    expect(depths).toEqual({ outside: 0, forward: 1, nested: 2, customForward: 1, customGradFunc: 0 });
    expect(g.dataSync()[0]).toBeCloseTo(3, 6);
    tf.dispose([x, g]);
  });
});

describe('runKernel', () => {
  test("'EluGrad' with inputs {dy, y}: dy where y ≥ 0, dy·(y + 1) elsewhere", () => {
    const y = tf.tensor1d([-0.5, 0, 2]);
    const dy = tf.tensor1d([1, 2, 3]);
    const dx = runKernel('EluGrad', { dy, y });
    expect(dx.shape).toEqual([3]);
    const v = values(dx);
    expect(v[0]).toBeCloseTo(0.5, 6);
    expect(v.slice(1)).toEqual([2, 3]);
    tf.dispose([y, dy, dx]);
  });

  test("'EluGrad' agrees with tfjs's own gradient of elu", () => {
    const x = tf.tensor1d([-2, -0.3, 0.4, 1.7]);
    const ct = tf.tensor1d([0.7, -1.1, 0.9, 2]);
    const ref = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.elu(z), ct)))(x);
    const y = tf.elu(x);
    const dx = runKernel('EluGrad', { dy: ct, y });
    const r = values(ref);
    values(dx).forEach((d, i) => expect(d).toBeCloseTo(r[i], 6));
    tf.dispose([x, ct, ref, y, dx]);
  });

  test('a kernel with several outputs is refused, leaking nothing', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const before = tf.memory().numTensors;
    expect(() => runKernel('Unpack', { value: x }, { axis: 0 })).toThrow(/several tensors/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('tensorDataId', () => {
  test('stable while the data stays, an object (a WeakMap key), different for different data', () => {
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const sum = tf.add(a, 1);
    const id = tensorDataId(a);
    expect(typeof id).toBe('object');
    expect(new WeakMap([[id, 1]]).get(tensorDataId(a))).toBe(1);
    a.dataSync();
    expect(tensorDataId(a)).toBe(id);
    expect(tensorDataId(sum)).not.toBe(id);
    tf.dispose([a, sum]);
  });

  test('Variable.assign keeps the Variable object and gives it a new data id', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const id = tensorDataId(v);
    const next = tf.tensor1d([3, 4]);
    v.assign(next);
    expect(tensorDataId(v)).not.toBe(id);
    expect(values(v)).toEqual([3, 4]);
    tf.dispose([v, next]);
  });
});

describe('registeredClass', () => {
  test("'Dense' is tfjs-layers' Dense class with a fromConfig", () => {
    const entry = registeredClass('Dense');
    expect(entry).toBeDefined();
    const [cls, fromConfig] = entry!;
    const layer = tfl.layers.dense({ units: 2 });
    expect(layer.constructor).toBe(cls);
    expect(typeof fromConfig).toBe('function');
    const copy = fromConfig(cls, layer.getConfig());
    expect(copy).toBeInstanceOf(tfl.layers.Layer);
    expect(copy.getClassName()).toBe('Dense');
  });

  test('registerClass adds an entry; unknown names have none', () => {
    class Registered extends tf.serialization.Serializable {
      static className = 'TfjsInternalsRegistered';
      getConfig(): tf.serialization.ConfigDict {
        return {};
      }
    }
    expect(registeredClass('TfjsInternalsRegistered')).toBeUndefined();
    tf.serialization.registerClass(Registered);
    expect(registeredClass('TfjsInternalsRegistered')?.[0]).toBe(Registered);
    expect(registeredClass('NoSuchClassAnywhere')).toBeUndefined();
  });
});

describe('denseLayerParts', () => {
  test('null for layers that are not tfjs-layers’ own Dense', () => {
    expect(denseLayerParts(tfl.layers.activation({ activation: 'relu' }))).toBeNull();
    expect(denseLayerParts(tfl.layers.flatten())).toBeNull();
  });

  test('kernel and bias are null before build and the layer’s weights after; reads are live', () => {
    const layer = tfl.layers.dense({ units: 3, activation: 'relu' });
    const parts = denseLayerParts(layer);
    expect(parts).not.toBeNull();
    expect(parts!.kernel).toBeNull();
    expect(parts!.bias).toBeNull();
    layer.apply(tf.zeros([1, 2]));
    expect(parts!.kernel).toBeInstanceOf(tfl.LayerVariable);
    expect(parts!.kernel!.shape).toEqual([2, 3]);
    expect(parts!.bias!.shape).toEqual([3]);
    expect(layer.trainableWeights).toEqual([parts!.kernel, parts!.bias]);
    layer.dispose();
  });

  test('bias is null without useBias', () => {
    const layer = tfl.layers.dense({ units: 2, useBias: false });
    layer.apply(tf.zeros([1, 4]));
    const parts = denseLayerParts(layer)!;
    expect(parts.kernel!.shape).toEqual([4, 2]);
    expect(parts.bias).toBeNull();
    expect(layer.trainableWeights).toEqual([parts.kernel]);
    layer.dispose();
  });

  test('the activation is an instance of the class registered under its name, and applies σ', () => {
    expect(denseLayerParts(tfl.layers.dense({ units: 1 }))!.activation!.getClassName()).toBe('linear');
    for (const name of DENSE_VJP_ACTIVATIONS) {
      const activation = denseLayerParts(tfl.layers.dense({ units: 1, activation: name as never }))!.activation;
      expect(activation?.getClassName()).toBe(name);
      expect(activation?.constructor).toBe(registeredClass(name)?.[0]);
    }
    const relu = denseLayerParts(tfl.layers.dense({ units: 1, activation: 'relu' }))!.activation!;
    const x = tf.tensor1d([-1, 0.5]);
    const y = relu.apply(x);
    expect(values(y)).toEqual([0, 0.5]);
    tf.dispose([x, y]);
  });

  test('a field that no longer holds what tfjs-layers 4.22 puts there fails clearly', () => {
    const layer = tfl.layers.dense({ units: 1 });
    const parts = denseLayerParts(layer)!;
    const fields = layer as unknown as Record<string, unknown>;
    fields.kernel = 42;
    expect(() => parts.kernel).toThrow(/kernel.*private field of tfjs-layers 4\.22's Dense/);
    fields.activation = { name: 'not an activation' };
    expect(() => parts.activation).toThrow(/activation/);
  });
});
