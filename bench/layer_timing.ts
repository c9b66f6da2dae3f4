/** Timing of a model around one NeuralODE layer: forward, forward+backward and a bare f call, interleaved. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { NeuralODE } from '../src';
import { measureInterleaved, MeasureOptions } from './util';

export interface LayerTiming {
  /** Forward NFE of one call, and the backward NFE of one gradient. */
  nfe: number;
  nfeBackward: number;
  /** Per-sample times, ms. */
  fwdMs: number[];
  fwdBwdMs: number[];
  /** A bare evaluation of f(0, x) as the solver evaluates it (`evaluateField`), µs. */
  fUs: number;
}

/**
 * Times `model.predict(x)` (one solve for the whole batch) and the gradient of `loss(model(x))`
 * with respect to the trainable weights, interleaved, then a bare evaluation of f on `x` (the
 * layer's input must be its state).
 */
export function timeODEModel(model: tfl.LayersModel, ode: NeuralODE, x: tf.Tensor, loss: (out: tf.Tensor) => tf.Scalar, opts: MeasureOptions): LayerTiming {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const fwd = (): void => tf.tidy(() => void (model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor).dataSync());
  const fwdBwd = (): void => {
    const { value, grads } = tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor), vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  fwd();
  const nfe = ode.lastStats!.nfe;
  fwdBwd();
  const nfeBackward = ode.lastStats!.nfeBackward;
  const [mf, mfb] = measureInterleaved([fwd, fwdBwd].map((fn) => ({ fn, opts })));
  const bare = (): void => tf.tidy(() => void ode.evaluateField(0, x).dataSync());
  const fUs = measureInterleaved([{ fn: bare, opts: { minTimeMs: 150, minSampleMs: 5 } }])[0].medianMs * 1000;
  return { nfe, nfeBackward, fwdMs: mf.samplesMs, fwdBwdMs: mfb.samplesMs, fUs };
}
