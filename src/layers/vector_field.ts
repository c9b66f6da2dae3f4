/**
 * The vector field of a NeuralODE: a stack of standard (or registered custom) tfjs layers applied
 * in order, optionally with the time t appended as an extra feature to every layer's input.
 * Builds the layers with weight names scoped under the owning layer, so that `model.save` and
 * `tf.loadLayersModel` match them by name, and (de)serializes them as `{className, config}`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { deserializeObject, isSerialized, SerializedObject, serializeObject } from '../serialization';
import { InvalidArgumentError } from '../solvers/errors';

/** A serialized layer, as `layer.getClassName()` + `layer.getConfig()`. */
export type SerializedLayer = SerializedObject;

type LayerVariable = tfl.LayerVariable;

const isLayer = (x: unknown): x is tfl.layers.Layer => x instanceof tfl.layers.Layer;

/** Instantiates a layer from `{className, config}` through tfjs's class registry (or `customObjects`). */
export function deserializeLayer(s: SerializedLayer, customObjects: tf.serialization.ConfigDict = {}): tfl.layers.Layer {
  return deserializeObject(s, isLayer, 'layer', customObjects);
}

/** Appends a feature holding t along the last axis. */
export function appendTime(z: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => tf.concat([z, tf.fill([...z.shape.slice(0, -1), 1], t)], -1));
}

export class LayerStack {
  readonly layers: tfl.layers.Layer[];
  readonly timeDependent: boolean;

  constructor(layers: (tfl.layers.Layer | SerializedLayer)[], timeDependent: boolean, customObjects?: tf.serialization.ConfigDict) {
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new InvalidArgumentError(
        "NeuralODE needs 'vectorField': a non-empty array of tf.layers (e.g. [tf.layers.dense({units: 64, activation: 'tanh'}), tf.layers.dense({units: 2})]).",
      );
    }
    this.layers = layers.map((l, i) => {
      if (l instanceof tfl.layers.Layer) return l;
      if (isSerialized(l)) return deserializeLayer(l, customObjects);
      throw new InvalidArgumentError(`vectorField[${i}] must be a tf.layers.Layer, got ${typeof l}.`);
    });
    this.timeDependent = timeDependent;
  }

  /**
   * Builds every layer for states of shape [batch, ...features] by applying it once to a small
   * dummy input (inside the caller's name scope, so weights are named owner/layer/weight).
   * Throws if the stack does not map the state shape to itself.
   */
  build(features: number[]): void {
    let shape: number[] = features.slice();
    for (const layer of this.layers) {
      const inShape = this.timeDependent ? [...shape.slice(0, -1), shape[shape.length - 1] + 1] : shape;
      const dummy = tf.zeros([1, ...inShape]);
      try {
        const out = layer.apply(dummy) as tf.Tensor;
        shape = out.shape.slice(1);
        out.dispose();
      } finally {
        dummy.dispose();
      }
    }
    if (!tf.util.arraysEqual(shape, features)) {
      throw new InvalidArgumentError(
        `The vector field maps states of shape [batch, ${features}] to [batch, ${shape}]; it must return the state's shape. Make its last layer output ${features[features.length - 1]} features${this.timeDependent ? ' (time is appended to each layer input, not to the output)' : ''}.`,
      );
    }
  }

  /** f(t, y): the layers applied in order (time appended to each input when time dependent). */
  call(t: number, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let z = y;
      for (const layer of this.layers) {
        z = layer.call(this.timeDependent ? appendTime(z, t) : z, {}) as tf.Tensor;
      }
      return z;
    });
  }

  get trainableWeights(): LayerVariable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  get nonTrainableWeights(): LayerVariable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  get weights(): LayerVariable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  setFastWeightInitDuringBuild(value: boolean): void {
    for (const l of this.layers) l.setFastWeightInitDuringBuild(value);
  }

  serialize(): SerializedLayer[] {
    return this.layers.map(serializeObject);
  }
}
