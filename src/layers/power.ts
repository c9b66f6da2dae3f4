/**
 * `Power`: element-wise y = x^p for an integer exponent p (sign kept for odd p), a stateless layer
 * for polynomial vector fields such as the spiral benchmark's f(y) = W·tanh(V·y³).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerPowerLayer } from '../adjoint/dense_vjp';
import { InvalidArgumentError } from '../errors';
import { LayerArgs } from '../tfjs_internals';

export interface PowerArgs extends LayerArgs {
  /** A positive integer exponent. Default 3. */
  exponent?: number;
}

export class Power extends tfl.layers.Layer {
  static className = 'Power';
  readonly exponent: number;

  constructor(args: PowerArgs = {}) {
    super(args);
    const p = args.exponent ?? 3;
    if (!Number.isInteger(p) || p < 1) throw new InvalidArgumentError(`Power layer: 'exponent' must be a positive integer, got ${String(p)}.`);
    this.exponent = p;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      let y = x;
      for (let i = 1; i < this.exponent; i++) y = tf.mul(y, x);
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), exponent: this.exponent };
  }
}
tf.serialization.registerClass(Power);
// The hand-written pullback of dense vector fields differentiates Power layers too.
registerPowerLayer(Power);

export function power(args?: PowerArgs): Power {
  return new Power(args);
}
