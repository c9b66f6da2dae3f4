/**
 * The vector field of a NeuralODE: a stack of standard (or registered custom) tfjs layers applied
 * in order, optionally with the time t appended as an extra feature to every layer's input.
 * Builds the layers with weight names scoped under the owning layer, so that `model.save` and
 * `tf.loadLayersModel` match them by name, and (de)serializes them as `{className, config}`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { appendTime } from '../adjoint/field_vjp';
import { deserializeObject, isSerialized, SerializedObject, serializeObject } from '../serialization';
import { InvalidArgumentError } from '../errors';

/** A serialized layer, as `layer.getClassName()` + `layer.getConfig()`. */
export type SerializedLayer = SerializedObject;

type LayerVariable = tfl.LayerVariable;

const isLayer = (x: unknown): x is tfl.layers.Layer => x instanceof tfl.layers.Layer;

/**
 * Layers whose output depends on the `training` flag. Inside a differential equation they cannot
 * work: a random mask or noise drawn anew at every evaluation of f makes the vector field
 * discontinuous in time (the adaptive solver's error estimates become noise) and the discrete
 * adjoint's recomputed steps would see other masks than the forward solve; batch statistics
 * computed per evaluation couple the samples of a batch inside f. They are refused.
 */
const TRAINING_DEPENDENT = ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'BatchNormalization'];

/** Which DE layer owns each vector-field layer (a layer may belong to one stack only). */
const owners = new WeakMap<tfl.layers.Layer, string>();

function checkUsable(l: tfl.layers.Layer, where: string, owner: string): void {
  const cls = l.getClassName();
  if (l instanceof tfl.LayersModel || (l as { layers?: unknown }).layers !== undefined) {
    throw new InvalidArgumentError(
      `${where} is a model ('${cls}' ${l.name}); ${owner} takes a list of layers, not a nested model. Pass its layers instead (e.g. [...model.layers] of a tf.sequential that was not applied to data yet, or new tf.layers.* instances).`,
    );
  }
  if (TRAINING_DEPENDENT.includes(cls)) {
    throw new InvalidArgumentError(
      `${where} is a '${cls}' layer, whose output depends on the training flag: inside a differential equation it would change the vector field at every evaluation (random masks or noise, per-evaluation batch statistics), which breaks adaptive step control and exact gradients. Put it before or after the ${owner} layer instead (or use a LayerNormalization inside).`,
    );
  }
  const other = owners.get(l);
  if (other !== undefined) {
    throw new InvalidArgumentError(
      `${where} (layer '${l.name}') already belongs to ${other}. A layer can be in one vector field only: to reuse the same dynamics, apply that ${owner} layer again at another node of the model (it then shares its weights); otherwise create new layers.`,
    );
  }
}

/** Instantiates a layer from `{className, config}` through tfjs's class registry (or `customObjects`). */
export function deserializeLayer(s: SerializedLayer, customObjects: tf.serialization.ConfigDict = {}): tfl.layers.Layer {
  return deserializeObject(s, isLayer, 'layer', customObjects);
}

export class LayerStack {
  readonly layers: tfl.layers.Layer[];
  readonly timeDependent: boolean;

  /**
   * `option` names the owner's argument in messages (e.g. "NeuralODE's 'vectorField'"), `owner`
   * the owning layer's class.
   */
  constructor(
    layers: (tfl.layers.Layer | SerializedLayer)[] | undefined,
    timeDependent: boolean,
    customObjects: tf.serialization.ConfigDict | undefined,
    option = 'vectorField',
    owner = 'NeuralODE',
  ) {
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new InvalidArgumentError(
        `${owner} needs '${option}': a non-empty array of tf.layers (e.g. [tf.layers.dense({units: 64, activation: 'tanh'}), tf.layers.dense({units: 2})]).`,
      );
    }
    this.layers = layers.map((l, i) => {
      if (l instanceof tfl.layers.Layer) {
        checkUsable(l, `${option}[${i}]`, owner);
        if (layers.indexOf(l) !== i) {
          throw new InvalidArgumentError(`${option}[${i}] is the same layer object as ${option}[${layers.indexOf(l)}]; use a new layer for each position.`);
        }
        return l;
      }
      if (isSerialized(l)) return deserializeLayer(l, customObjects);
      throw new InvalidArgumentError(`${option}[${i}] must be a tf.layers.Layer, got ${typeof l}.`);
    });
    this.timeDependent = timeDependent;
  }

  /** Marks the layers as belonging to `ownerName` (call once the owner is fully constructed). */
  claim(ownerName: string): void {
    for (const l of this.layers) owners.set(l, ownerName);
  }

  /** Releases the layers (when the owner is disposed). */
  release(): void {
    for (const l of this.layers) owners.delete(l);
  }

  /**
   * Builds every layer for states of shape [batch, ...features] by applying it once to a small
   * dummy input (inside the caller's name scope, so weights are named owner/layer/weight).
   * Throws if the stack does not map the state shape to itself.
   */
  build(features: number[], what = 'The vector field'): void {
    let shape: number[] = features.slice();
    try {
      for (const layer of this.layers) {
        const inShape = this.timeDependent ? [...shape.slice(0, -1), shape[shape.length - 1] + 1] : shape;
        const dummy = tf.zeros([1, ...inShape]);
        try {
          const out = layer.apply(dummy) as tf.Tensor | tf.Tensor[];
          if (!(out instanceof tf.Tensor)) {
            tf.dispose(out);
            throw new InvalidArgumentError(`${what}: layer '${layer.name}' returned several tensors; each layer must return one tensor.`);
          }
          shape = out.shape.slice(1);
          out.dispose();
        } finally {
          dummy.dispose();
        }
      }
      if (!tf.util.arraysEqual(shape, features)) {
        throw new InvalidArgumentError(
          `${what} maps states of shape [batch, ${features}] to [batch, ${shape}]; it must return the state's shape. Make its last layer output ${features[features.length - 1]} features${this.timeDependent ? ' (time is appended to each layer input, not to the output)' : ''}.`,
        );
      }
    } catch (e) {
      this.unbuild();
      throw e;
    }
  }

  /** Frees the weights a failed build created and marks the layers unbuilt, so they can be built again. */
  unbuild(): void {
    for (const l of this.layers) {
      if (!l.built) continue;
      for (const w of l.weights) w.dispose();
      l.trainableWeights = [];
      l.nonTrainableWeights = [];
      l.built = false;
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
