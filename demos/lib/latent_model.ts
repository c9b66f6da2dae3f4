/**
 * The latent ODE of Rubanova et al. (2019) as the regularization paper trains it on Physionet, in
 * tfjs idiom: a functional model on [encoder input, times] trained by `model.fit`.
 *
 * - Recognition: tfjs's GRU run backward in time (`goBackwards`) over [values; mask; Δt], then
 *   Dense(50, tanh) → Dense(2·latent) = [μ | log σ²] of z0, sampled by `GaussianSample` (which adds
 *   KL(q(z0) ‖ N(0, I)) to the loss, weighted by its annealed `klWeight`).
 * - Dynamics: a NeuralODE (tsit5) on [z0, times] whose field is Dense 20→50→20 four times, all tanh.
 * - Decoder: Dense(channels) at every output time.
 * - Loss: the masked Gaussian negative log-likelihood (σ = 0.01) over the observed entries, normalized
 *   by their number; targets hold NaN where not observed, so a plain `(yTrue, yPred)` loss can mask.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GaussianSample, NeuralODE, SolverRegularizer } from '../../src';

/** The constructors the model needs (passed in, so the browser or a built package can supply them). */
export interface LatentModelApi {
  neuralODE: typeof import('../../src').neuralODE;
  gaussianSample: typeof import('../../src').gaussianSample;
}

export interface LatentModelSettings {
  channels: number;
  latent: number;
  /** GRU units of the recognition network. */
  gruUnits: number;
  /** Width of the dynamics' hidden layers. */
  hidden: number;
  rtol: number;
  atol: number;
  /** Initial bias of the log-variance of q(z0). */
  initialLogVar: number;
  seed: number;
}

export interface LatentModel {
  model: tfl.LayersModel;
  ode: NeuralODE;
  sampler: GaussianSample;
}

/** Builds the latent ODE; inputs [encoder input [batch, T, 2C+1], times [batch, T]], output [batch, T, C]. */
export function buildLatentODE(api: LatentModelApi, s: LatentModelSettings, regularizers: SolverRegularizer[]): LatentModel {
  let seed = s.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const enc = tfl.input({ shape: [null, 2 * s.channels + 1], name: 'observations' });
  const times = tfl.input({ shape: [null], name: 'times' });
  const h = tfl.layers.gru({ units: s.gruUnits, goBackwards: true, kernelInitializer: init(), recurrentInitializer: init() }).apply(enc) as tfl.SymbolicTensor;
  const h2 = tfl.layers.dense({ units: 50, activation: 'tanh', kernelInitializer: init() }).apply(h) as tfl.SymbolicTensor;
  const mean = tfl.layers.dense({ units: s.latent, kernelInitializer: init(), name: 'z0_mean' }).apply(h2) as tfl.SymbolicTensor;
  // log σ² starts at `initialLogVar`: with σ ≈ 1 the sampled z0 is mostly noise and the decoder first learns to ignore it
  const logVar = tfl.layers
    .dense({ units: s.latent, kernelInitializer: init(), biasInitializer: tfl.initializers.constant({ value: s.initialLogVar }), name: 'z0_log_var' })
    .apply(h2) as tfl.SymbolicTensor;
  const sampler = api.gaussianSample({ klWeight: 0, seed: seed++ });
  const z0 = sampler.apply([mean, logVar]) as tfl.SymbolicTensor;
  const field: tfl.layers.Layer[] = [];
  for (let i = 0; i < 4; i++) {
    field.push(tfl.layers.dense({ units: s.hidden, activation: 'tanh', kernelInitializer: init() }));
    field.push(tfl.layers.dense({ units: s.latent, activation: 'tanh', kernelInitializer: init() }));
  }
  const ode = api.neuralODE({ vectorField: field, tspan: [0, 1], solver: 'tsit5', rtol: s.rtol, atol: s.atol, regularizers });
  const zs = ode.apply([z0, times]) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: s.channels, kernelInitializer: init() }).apply(zs) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: [enc, times], outputs: out }), ode, sampler };
}

/**
 * The masked Gaussian negative log-likelihood with standard deviation `sigma`, averaged over the
 * observed entries (targets that are not NaN). A loss for `model.compile`.
 */
export function maskedGaussianNLL(sigma: number): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar {
  const constant = Math.log(sigma) + 0.5 * Math.log(2 * Math.PI);
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const observed = tf.logicalNot(tf.isNaN(yTrue));
      // NaN must not reach the arithmetic: a NaN in the unselected branch of a where still poisons its gradient
      const diff = tf.where(observed, tf.sub(yPred, tf.where(observed, yTrue, tf.zerosLike(yTrue))), tf.zerosLike(yPred));
      const count = tf.maximum(tf.sum(tf.cast(observed, 'float32')), 1);
      return tf.add(tf.div(tf.sum(tf.square(diff)), tf.mul(count, 2 * sigma * sigma)), constant) as tf.Scalar;
    });
}

/** Mean squared error over the observed entries of `values` (NaN = not observed), on the host. */
export function maskedMSE(pred: Float32Array | number[], values: Float32Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    sum += (pred[i] - values[i]) ** 2;
    n++;
  }
  return n > 0 ? sum / n : NaN;
}

/**
 * The KL annealing of the authors' latent ODE code: λ_KL(e) = max(0, 1 − 0.99^(e − wait)) for
 * 0-based epoch e (0 for the first `wait` epochs).
 */
export function klWeightAt(epoch: number, wait: number): number {
  return Math.max(0, 1 - Math.pow(0.99, epoch - wait));
}

/** A callback that sets the sampler's `klWeight` at the start of each epoch; logs it as `lambda_kl`. */
export function klAnnealing(sampler: GaussianSample, wait: number): tfl.CustomCallback {
  return new tfl.CustomCallback({
    onEpochBegin: async (epoch) => {
      sampler.klWeight = klWeightAt(epoch, wait);
    },
    onEpochEnd: async (_epoch, logs) => {
      if (logs) logs.lambda_kl = sampler.klWeight;
    },
  });
}
