/** Instantiating registered classes from `{className, config}` (nested layers, regularizers). */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors';
import { registeredClass } from './tfjs_internals';

/**
 * A serialized object, as `obj.getClassName()` + `obj.getConfig()`. A type alias rather than an
 * interface: an object type written this way is itself a `ConfigDict` value, so lists of serialized
 * objects nest in a layer's config as they are.
 */
export type SerializedObject = {
  className: string;
  config: tf.serialization.ConfigDict;
};

type SerializableClass = tf.serialization.SerializableConstructor<tf.serialization.Serializable>;

/**
 * A class given in `customObjects`, which maps class names to classes (typed as a `ConfigDict`,
 * the type tfjs gives the `customObjects` it passes to `fromConfig`).
 */
function isClass(x: unknown): x is SerializableClass {
  return typeof x === 'function';
}

export function isSerialized(x: unknown): x is SerializedObject {
  return typeof x === 'object' && x !== null && typeof (x as SerializedObject).className === 'string' && typeof (x as SerializedObject).config === 'object';
}

export function serializeObject(obj: tf.serialization.Serializable): SerializedObject {
  return { className: obj.getClassName(), config: obj.getConfig() };
}

/**
 * Instantiates `s` through tfjs's class registry (or `customObjects`) and checks its type.
 * `what` names the kind of object for error messages ("layer", "regularizer").
 */
export function deserializeObject<T>(s: SerializedObject, isT: (x: unknown) => x is T, what: string, customObjects: tf.serialization.ConfigDict = {}): T {
  const given = customObjects[s.className];
  if (given && !isClass(given)) {
    throw new InvalidArgumentError(`customObjects['${s.className}'] must be a class (a constructor), got ${typeof given}.`);
  }
  const entry = registeredClass(s.className);
  const cls = (isClass(given) ? given : undefined) ?? entry?.[0];
  if (cls === undefined) {
    throw new InvalidArgumentError(`Unknown ${what} class '${s.className}'. Register custom classes with tf.serialization.registerClass(...) before loading.`);
  }
  // A class without a static fromConfig of its own is built by the registered one.
  const fromConfig = cls.fromConfig ?? entry?.[1];
  // tfjs deserializers mutate nested configs (they add customObjects): work on a deep copy.
  const obj = fromConfig(cls, JSON.parse(JSON.stringify(s.config))) as unknown;
  if (!isT(obj)) throw new InvalidArgumentError(`'${s.className}' is not a ${what}.`);
  return obj;
}
