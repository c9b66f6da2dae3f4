/**
 * `GaussianSample`: the reparameterized sample z = μ + exp(½·log σ²)·ε, ε ~ N(0, I), of a diagonal
 * Gaussian posterior q(z) = N(μ, σ²) (a variational autoencoder's or latent ODE's initial state),
 * with the KL divergence KL(q ‖ N(0, I)) added to the model's loss.
 *
 * Input: `[μ, log σ²]` (two tensors `[batch, d]`) or one tensor `[batch, 2d]` holding μ then log σ².
 * Output `[batch, d]`: a sample in training calls, μ otherwise (predict, evaluate), unless
 * `sampleAtInference` is set. The KL term, KL = ½·Σ_i (σ_i² + μ_i² − 1 − log σ_i²) averaged over
 * the batch, enters the loss times `klWeight` (change it between epochs to anneal it); like every
 * `addLoss` term in tfjs it is trained by `model.fit` but not reported by `evaluate` or `val_loss`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../errors';
import { rejectUnknownKeys } from '../solvers/options';
import { LAYER_ARG_KEYS, LayerArgs } from '../tfjs_internals';

export interface GaussianSampleArgs extends LayerArgs {
  /** Weight of the KL term in the loss (≥ 0; 0 adds none). Mutable as `layer.klWeight`. Default 1. */
  klWeight?: number;
  /** Sample also in inference calls (predict/evaluate) instead of returning μ. Default false. */
  sampleAtInference?: boolean;
  /** Seed of ε: call k draws with seed + k, so runs repeat. Default: unseeded. */
  seed?: number | null;
}

const OWN_KEYS = ['klWeight', 'sampleAtInference', 'seed'];

function checkKlWeight(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new InvalidArgumentError(`GaussianSample: 'klWeight' must be a finite number ≥ 0, got ${String(v)}.`);
  return v;
}

export class GaussianSample extends tfl.layers.Layer {
  static className = 'GaussianSample';
  private klWeightValue: number;
  readonly sampleAtInference: boolean;
  readonly seed: number | null;
  /** Calls so far (the seed offset of the next training sample). */
  calls = 0;
  /** KL of the last training call, kept for the loss closure until the next call or dispose(). */
  private lastKL: tf.Scalar | null = null;

  constructor(args: GaussianSampleArgs & { customObjects?: unknown } = {}) {
    if (args === null || typeof args !== 'object') throw new InvalidArgumentError(`GaussianSample takes one options object, got ${String(args)}.`);
    rejectUnknownKeys(args, [...OWN_KEYS, ...LAYER_ARG_KEYS, 'customObjects'], 'GaussianSample: ');
    const { klWeight, sampleAtInference, seed, customObjects: _c, ...layerArgs } = args;
    super(layerArgs);
    this.klWeightValue = checkKlWeight(klWeight ?? 1);
    if (sampleAtInference != null && typeof sampleAtInference !== 'boolean') {
      throw new InvalidArgumentError(`GaussianSample: 'sampleAtInference' must be a boolean, got ${String(sampleAtInference)}.`);
    }
    this.sampleAtInference = sampleAtInference === true;
    if (seed != null && !Number.isInteger(seed)) throw new InvalidArgumentError(`GaussianSample: 'seed' must be an integer or null, got ${String(seed)}.`);
    this.seed = seed ?? null;
  }

  /** λ_KL, the weight of the KL term (e.g. annealed 0 → 1 by a callback). */
  get klWeight(): number {
    return this.klWeightValue;
  }

  set klWeight(v: number) {
    this.klWeightValue = checkKlWeight(v);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.latentSize(inputShape);
    // One closure, registered once; it reads the KL of the call in the same training scope.
    this.addLoss(() => this.klLoss());
    this.built = true;
  }

  /** d, from the input shape(s), checked. */
  private latentSize(inputShape: tfl.Shape | tfl.Shape[]): number {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tfl.Shape[];
    const fail = (why: string): never => {
      throw new InvalidArgumentError(`GaussianSample layer '${this.name}' takes [mean, logVar] (each [batch, d]) or one tensor [batch, 2d]; ${why}.`);
    };
    if (shapes.length > 2) fail(`got ${shapes.length} inputs`);
    if (shapes.some((s) => s.length !== 2 || s[1] == null)) fail(`got shapes ${shapes.map((s) => `[${s.map((d) => (d == null ? 'null' : d))}]`).join(', ')}`);
    const last = shapes.map((s) => s[1] as number);
    if (shapes.length === 2 && last[0] !== last[1]) fail(`mean has ${last[0]} features but logVar ${last[1]}`);
    if (shapes.length === 1 && last[0] % 2 !== 0) fail(`one input needs an even feature count, got ${last[0]}`);
    return shapes.length === 2 ? last[0] : last[0] / 2;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const first = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [first[0], this.latentSize(inputShape)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const training = kwargs?.training === true;
    const d = this.latentSize(list.map((t) => t.shape));
    const seed = this.seed === null ? undefined : this.seed + this.calls;
    return tf.tidy(() => {
      const [mean, logVar] = list.length === 2 ? list : tf.split(list[0], [d, d], 1);
      if (training) {
        this.lastKL?.dispose();
        // Kept, and still on the tape: the loss closure reads it in the same training scope.
        const kl = tf.mul(0.5, tf.mean(tf.sum(tf.sub(tf.add(tf.exp(logVar), tf.square(mean)), tf.add(1, logVar)), 1))) as tf.Scalar;
        this.lastKL = tf.keep(kl);
      }
      if (!training && !this.sampleAtInference) return tf.clone(mean);
      this.calls += 1;
      return tf.add(mean, tf.mul(tf.exp(tf.mul(0.5, logVar)), tf.randomNormal(mean.shape, 0, 1, 'float32', seed)));
    });
  }

  /** λ_KL·KL of the last training call (0 before any). */
  klLoss(): tf.Scalar {
    if (this.lastKL === null || this.lastKL.isDisposed || this.klWeightValue === 0) return tf.scalar(0);
    return tf.mul(this.lastKL, this.klWeightValue) as tf.Scalar;
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.lastKL?.dispose();
      this.lastKL = null;
    }
    return result;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), klWeight: this.klWeightValue, sampleAtInference: this.sampleAtInference, seed: this.seed };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}
tf.serialization.registerClass(GaussianSample);

/** Factory in the style of `tf.layers.*`. */
export function gaussianSample(args?: GaussianSampleArgs): GaussianSample {
  return new GaussianSample(args);
}
