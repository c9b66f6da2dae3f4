/**
 * Every use of TensorFlow.js internals in this package: engine state, kernels run by name, tensor
 * data ids, the class registry, private fields of tfjs-layers' Dense, and the `LayerArgs` type.
 * No other module reaches past tfjs's public API; they import these small functions instead.
 *
 * Each function says which internal it relies on. All were checked on tfjs 4.22
 * (`@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers`); `test/tfjs_internals.test.ts` exercises
 * each against the installed tfjs and fails with a message naming the internal when an upgrade
 * changes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

// ---------------------------------------------------------------- layer constructor arguments

/**
 * The constructor arguments tfjs defines for every layer. tfjs-layers does not export the type
 * from its index (only from `dist/engine/topology`); it is read off the public `Layer`
 * constructor instead, so no deep import is needed. Checked on tfjs-layers 4.22.
 */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/**
 * One entry per key of `LayerArgs` (tfjs-layers 4.22: `engine/topology` `LayerArgs`). Typed as a
 * record over `keyof LayerArgs`, so a tfjs release that adds or removes a key fails type checking.
 */
const LAYER_ARG_KEY_SET: Readonly<Record<keyof LayerArgs, true>> = {
  inputShape: true,
  batchInputShape: true,
  batchSize: true,
  dtype: true,
  name: true,
  trainable: true,
  weights: true,
  inputDType: true,
};

/** The keys of `LayerArgs`, in tfjs's declaration order. */
export const LAYER_ARG_KEYS: readonly (keyof LayerArgs)[] = Object.keys(LAYER_ARG_KEY_SET).filter(isLayerArgKey);

/** Whether `key` is one of the constructor arguments tfjs defines for every layer. */
export function isLayerArgKey(key: string): key is keyof LayerArgs {
  return Object.prototype.hasOwnProperty.call(LAYER_ARG_KEY_SET, key);
}

// ---------------------------------------------------------------- engine: tape and gradients

type Engine = ReturnType<typeof tf.engine>;

/**
 * The engine, checked to have what the functions below use: `engine.state` (with `activeTape` and
 * `gradientDepth`) and `engine.gradients`, public members of tfjs-core's `Engine` class that its
 * documentation does not cover. Checked on tfjs-core 4.22.
 */
function engine(): Engine {
  const e = tf.engine();
  if (typeof e.state !== 'object' || e.state === null || typeof e.gradients !== 'function') {
    throw new Error(
      'tfjs-neural-de: this version of @tensorflow/tfjs-core has no engine.state.activeTape / engine.gradients; the discrete adjoint needs them (tested with tfjs 4.x).',
    );
  }
  return e;
}

/**
 * Runs `fn` and then puts the engine's active tape (`engine.state.activeTape`) back to what it
 * was, also when `fn` throws. tfjs-core 4.22's `engine.gradients` replaces the active tape and sets
 * it to null when it returns, which breaks an outer backward pass it is called from (that pass
 * still needs its tape to free the tensors it saved). Checked on tfjs-core 4.22.
 */
export function withSavedActiveTape<T>(fn: () => T): T {
  const e = engine();
  const savedTape = e.state.activeTape;
  try {
    return fn();
  } finally {
    e.state.activeTape = savedTape;
  }
}

/**
 * `engine.gradients(f, xs, undefined, allowNoGradients = true)`: the value of `f()` and its
 * gradients with respect to `xs`, undefined for an x that `f` does not depend on. This is the
 * function `tf.grads` calls, minus the argument checks that refuse a missing gradient. Checked on
 * tfjs-core 4.22.
 */
export function engineGradients(f: () => tf.Scalar, xs: tf.Tensor[]): { value: tf.Scalar; grads: (tf.Tensor | undefined)[] } {
  return engine().gradients(f, xs, undefined, true);
}

/**
 * How many gradient computations (`tf.grads`, `variableGrads`, `optimizer.minimize`) are recording
 * right now: `engine.state.gradientDepth`, which tfjs-core 4.22 increments around the forward
 * function of every gradient computation and around each gradient function it runs in backward
 * mode. 0 when the field is missing. Checked on tfjs-core 4.22.
 *
 * A custom-gradient op runs its forward pass at depth 1 during ordinary training, and its gradient
 * function at depth 0; depth ≥ 2 in the forward pass, or ≥ 1 in the gradient function, means a
 * higher-order derivative is being taken through it.
 */
export function gradientDepth(): number {
  const depth = engine().state.gradientDepth;
  return typeof depth === 'number' ? depth : 0;
}

// ---------------------------------------------------------------- kernels and tensor data

/**
 * Runs the kernel registered under `name` for the current backend, with its inputs and attributes
 * named as in tfjs-core's `kernel_names` (e.g. 'EluGrad' with inputs `{dy, y}`), and returns its one
 * output. Kernels without an op of their own are reachable only this way. Kernel names and their
 * input names are internals; the ones this package runs were checked on tfjs-core 4.22.
 */
export function runKernel(name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap): tf.Tensor {
  const out = tf.engine().runKernel<tf.Tensor | tf.Tensor[]>(name, inputs, attrs);
  if (!(out instanceof tf.Tensor)) {
    tf.dispose(out);
    throw new Error(
      `tfjs-neural-de: kernel '${name}' returned ${Array.isArray(out) ? 'several tensors' : typeof out}, expected one tensor (checked on tfjs 4.22).`,
    );
  }
  return out;
}

/**
 * The identity of the data behind `t` (`tensor.dataId`): an object that stays the same while the
 * tensor's data does (tensors may share one, e.g. a reshape and its input) and is new whenever the
 * data is replaced, including by `Variable.assign`, which keeps the Variable object. A key for
 * caches of read-back values. Checked on tfjs-core 4.22.
 */
export function tensorDataId(t: tf.Tensor): object {
  return t.dataId;
}

// ---------------------------------------------------------------- class registry

/** A class registered with `tf.serialization.registerClass`, and the `fromConfig` registered with it. */
export type RegisteredClass = readonly [
  tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  tf.serialization.FromConfigMethod<tf.serialization.Serializable>,
];

/**
 * The entry registered under `className` (`SerializationMap.getMap().classNameMap`, the map
 * `registerClass` fills and tfjs-layers deserializes from), or undefined. Checked on tfjs-core 4.22.
 */
export function registeredClass(className: string): RegisteredClass | undefined {
  return tf.serialization.SerializationMap.getMap().classNameMap[className];
}

// ---------------------------------------------------------------- Dense layers

/** tfjs-layers' Dense class (not exported as a type). */
type Dense = ReturnType<typeof tfl.layers.dense>;

/**
 * The built-in Dense class, captured when this module loads (after tfjs-layers registered it), so
 * that a class registered later under the same name is not mistaken for it.
 */
const DENSE_CLASS = registeredClass('Dense')?.[0];

/** True for an instance of tfjs-layers' own Dense class (not a subclass, not another class named 'Dense'). */
function isBuiltinDense(layer: tfl.layers.Layer): layer is Dense {
  return DENSE_CLASS !== undefined && layer.constructor === DENSE_CLASS;
}

/** A Dense layer's activation object (tfjs-layers' `Activation` class, not exported as a type). */
export interface DenseActivation {
  getClassName(): string;
  apply(x: tf.Tensor): tf.Tensor;
}

/** The private fields of a Dense layer that a hand-written pullback reads; each read is live. */
export interface DenseLayerParts {
  /** `kernel`: the [inputs, units] weight; null until the layer is built. */
  readonly kernel: tfl.LayerVariable | null;
  /** `bias`: the [units] weight; null until built and for `useBias: false`. */
  readonly bias: tfl.LayerVariable | null;
  /** `activation`: the activation applied after x·W + b (undefined when the field is empty). */
  readonly activation: DenseActivation | undefined;
}

function isDenseActivation(x: unknown): x is DenseActivation {
  return typeof x === 'object' && x !== null && 'getClassName' in x && typeof x.getClassName === 'function' && 'apply' in x && typeof x.apply === 'function';
}

function internalsChanged(layer: Dense, what: string): Error {
  return new Error(
    `tfjs-neural-de: Dense layer '${layer.name}' has no ${what} (a private field of tfjs-layers 4.22's Dense); this tfjs version is not supported by the hand-written pullback.`,
  );
}

function variableField(layer: Dense, value: unknown, field: 'kernel' | 'bias'): tfl.LayerVariable | null {
  if (value === null || value instanceof tfl.LayerVariable) return value;
  throw internalsChanged(layer, `LayerVariable '${field}' field`);
}

/**
 * The private fields `kernel`, `bias` and `activation` of an instance of tfjs-layers' own Dense
 * class (`layers/core.js`: both weights are null until `build`, `activation` is set by the
 * constructor), read each time a property is read; null for any other layer. Throws a clear error
 * when a field holds something else than tfjs-layers 4.22 puts there. Checked on tfjs-layers 4.22.
 */
export function denseLayerParts(layer: tfl.layers.Layer): DenseLayerParts | null {
  if (!isBuiltinDense(layer)) return null;
  return {
    get kernel() {
      return variableField(layer, layer['kernel'], 'kernel');
    },
    get bias() {
      return variableField(layer, layer['bias'], 'bias');
    },
    get activation() {
      const a: unknown = layer['activation'];
      if (a === null || a === undefined) return undefined;
      if (isDenseActivation(a)) return a;
      throw internalsChanged(layer, "'activation' field with getClassName() and apply()");
    },
  };
}
