/**
 * Prediction averaged over several sampled paths of a model with NeuralSDE layers (the paper
 * averages logits over 10 paths), with an ordinary tfjs model: the batch is repeated `paths` times,
 * and since every element of an SDE state has its own Wiener process, one solve samples `paths`
 * independent paths per input. The copies share one adaptive step sequence (like any batch).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors';

/** Anything with tfjs's `predict` (a `tf.LayersModel`, `tf.Sequential`, ...). */
export interface Predictor {
  predict(x: tf.Tensor, config?: { batchSize?: number }): tf.Tensor | tf.Tensor[];
}

/**
 * The mean over `paths` sampled paths of `model.predict(x)`: shape of one prediction. Memory and
 * time grow like a batch `paths` times larger; split very large batches yourself.
 */
export function meanOverPaths(model: Predictor, x: tf.Tensor, paths: number): tf.Tensor {
  if (!Number.isInteger(paths) || paths < 1) {
    throw new InvalidArgumentError(`meanOverPaths: paths must be a positive integer (e.g. 10), got ${String(paths)}.`);
  }
  if (!(x instanceof tf.Tensor) || x.rank < 1) throw new InvalidArgumentError('meanOverPaths: x must be a batch tensor [batch, ...].');
  return tf.tidy(() => {
    const tiled = tf.tile(x, [paths, ...new Array<number>(x.rank - 1).fill(1)]);
    // One solve for all copies: tfjs's predict would otherwise cut the batch into pieces of 32 rows,
    // each solved with its own step sequence.
    const out = model.predict(tiled, { batchSize: tiled.shape[0] });
    if (Array.isArray(out)) throw new InvalidArgumentError('meanOverPaths: the model must have a single output.');
    return tf.mean(tf.reshape(out, [paths, x.shape[0], ...out.shape.slice(1)]), 0);
  });
}
