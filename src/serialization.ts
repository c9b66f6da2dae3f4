/** Instantiating registered classes from `{className, config}` (nested layers, regularizers). */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './solvers/errors';

/** A serialized object, as `obj.getClassName()` + `obj.getConfig()`. */
export interface SerializedObject {
  className: string;
  config: tf.serialization.ConfigDict;
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
  const custom = customObjects[s.className] as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable> | undefined;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[s.className];
  if (!custom && !entry) {
    throw new InvalidArgumentError(`Unknown ${what} class '${s.className}'. Register custom classes with tf.serialization.registerClass(...) before loading.`);
  }
  const cls = custom ?? entry[0];
  const fromConfig = (cls as unknown as { fromConfig?: (typeof entry)[1] }).fromConfig ?? entry[1];
  // tfjs deserializers mutate nested configs (they add customObjects): work on a deep copy.
  const obj = fromConfig(cls, JSON.parse(JSON.stringify(s.config))) as unknown;
  if (!isT(obj)) throw new InvalidArgumentError(`'${s.className}' is not a ${what}.`);
  return obj;
}
