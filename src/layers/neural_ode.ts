/**
 * `NeuralODE`: a tfjs layer whose output is the solution at t1 (or at `saveat` times) of
 * dy/dt = f(t, y), y(t0) = input, with f a stack of tfjs layers. Gradients come from the discrete
 * adjoint (`adjoint/discrete.ts`); the layer caches the last solve's statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AdjointRecord, discreteAdjoint, PackedLayout, unpack } from '../adjoint/discrete';
import { ArithmeticChoice } from '../solvers/arithmetic';
import { InvalidArgumentError, SolverError } from '../solvers/errors';
import { resolveOptions, ResolvedOptions } from '../solvers/options';
import { SolverName } from '../solvers/registry';
import { copyStats, SolveStats } from '../solvers/stats';
import { LayerStack, SerializedLayer } from './vector_field';

import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';

export interface NeuralODEOptions {
  /** Integration interval. Default [0, 1]. */
  tspan?: [number, number];
  /** Default 'tsit5'. */
  solver?: SolverName;
  /** Default 1e-3. */
  rtol?: number;
  /** Default 1e-6. */
  atol?: number;
  dt0?: number;
  dtmin?: number;
  dtmax?: number;
  /** Maximum attempted steps per solve. Default 10000. */
  maxSteps?: number;
  /** Times at which to output the state: the output becomes [batch, times, ...features]. */
  saveat?: number[];
  /** Append t as an extra feature to the input of every vector-field layer. Default false. */
  timeDependent?: boolean;
  /** Step arithmetic: 'auto' (default), 'host' or 'tensor'. */
  arithmetic?: ArithmeticChoice;
}

export interface NeuralODEArgs extends NeuralODEOptions, LayerArgs {
  /** The vector field: tfjs layers applied in order; must map the state shape to itself. */
  vectorField: (tfl.layers.Layer | SerializedLayer)[];
}

/** The last forward solve (and, after a gradient, the backward pass) of a NeuralODE layer. */
export interface NeuralODEStats extends SolveStats {
  /** Vector-field evaluations of the last backward pass (0 before any gradient). */
  nfeBackward: number;
}

const OPTION_KEYS: (keyof NeuralODEOptions)[] = [
  'tspan',
  'solver',
  'rtol',
  'atol',
  'dt0',
  'dtmin',
  'dtmax',
  'maxSteps',
  'saveat',
  'timeDependent',
  'arithmetic',
];

export class NeuralODE extends tfl.layers.Layer {
  static className = 'NeuralODE';

  readonly options: Readonly<NeuralODEOptions>;
  private readonly resolved: ResolvedOptions;
  readonly vectorField: LayerStack;
  private features: number[] | null = null;
  private op: ((x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor) | null = null;
  private layout: (() => PackedLayout) | null = null;
  private readonly record: AdjointRecord = { forward: null, nfeBackward: 0 };
  /** Per-step error estimates E_j of the last call, as a tensor in the caller's scope (for regularizers). */
  lastErrorEstimates: tf.Tensor1D | null = null;
  /** Per-step stiffness estimates S_j of the last call (for regularizers). */
  lastStiffnessEstimates: tf.Tensor1D | null = null;
  /** Running totals for NFE callbacks: forward evaluations and calls since construction. */
  nfeForwardTotal = 0;
  forwardCalls = 0;

  constructor(args: NeuralODEArgs & { customObjects?: tf.serialization.ConfigDict }) {
    const { vectorField, customObjects, ...rest } = args ?? ({} as NeuralODEArgs);
    const options: NeuralODEOptions = {};
    const layerArgs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) {
      if ((OPTION_KEYS as string[]).includes(k)) {
        if (v !== null && v !== undefined) (options as Record<string, unknown>)[k] = v;
      } else layerArgs[k] = v;
    }
    super(layerArgs as LayerArgs);
    const { timeDependent, ...solveOpts } = options;
    if (timeDependent !== undefined && typeof timeDependent !== 'boolean') {
      throw new InvalidArgumentError(`Option 'timeDependent' must be a boolean, got ${String(timeDependent)}.`);
    }
    this.resolved = resolveOptions(solveOpts);
    this.options = Object.freeze({ ...options });
    this.vectorField = new LayerStack(vectorField as (tfl.layers.Layer | SerializedLayer)[], timeDependent ?? false, customObjects);
    this.supportsMasking = false;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const features = shape.slice(1);
    if (features.length === 0 || features.some((d) => d == null)) {
      throw new InvalidArgumentError(
        `NeuralODE layer '${this.name}' needs a fully defined state shape [batch, features...], got [${shape.map((d) => (d == null ? 'null' : d))}].`,
      );
    }
    this.features = features as number[];
    this.vectorField.build(this.features);
    const stack = this.vectorField;
    const { op, lastLayout } = discreteAdjoint((t, y) => stack.call(t, y), this.resolved, this.record);
    this.op = op;
    this.layout = lastLayout;
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const saveat = this.resolved.saveat;
    return saveat ? [shape[0], saveat.length, ...shape.slice(1)] : shape.slice();
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!this.op || !this.features || !this.layout) throw new Error(`NeuralODE layer '${this.name}' was called before build().`);
    if (x.rank !== this.features.length + 1 || !tf.util.arraysEqual(x.shape.slice(1), this.features)) {
      throw new InvalidArgumentError(
        `NeuralODE layer '${this.name}' expects inputs of shape [batch, ${this.features}], got [${x.shape}].`,
      );
    }
    void kwargs;
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    let packed: tf.Tensor;
    try {
      packed = this.op(x32, ...this.trainableWeights.map((w) => w.read()));
    } catch (e) {
      if (e instanceof SolverError) {
        throw new SolverError(e.code, `NeuralODE layer '${this.name}': ${e.message.replace(/ \(at t=.*$/, '')}`, e.stats, e.t);
      }
      throw e;
    }
    const { states, error, stiffness } = unpack(packed, this.layout(), x.shape);
    this.lastErrorEstimates = error;
    this.lastStiffnessEstimates = stiffness;
    const stats = this.record.forward!;
    this.nfeForwardTotal += stats.nfe;
    this.forwardCalls += 1;
    return this.resolved.saveat ? tf.stack(states, 1) : states[0];
  }

  /** Statistics of the last solve (a copy), with the NFE of the last backward pass. */
  get lastStats(): NeuralODEStats | null {
    const f = this.record.forward;
    return f ? { ...copyStats(f), nfeBackward: this.record.nfeBackward } : null;
  }

  /** The resolved solver options in force (tolerances, tspan, ...). */
  get solverOptions(): Readonly<ResolvedOptions> {
    return this.resolved;
  }

  override get trainableWeights(): tfl.LayerVariable[] {
    return this.trainable ? this.vectorField.trainableWeights : [];
  }

  override get nonTrainableWeights(): tfl.LayerVariable[] {
    return this.trainable ? this.vectorField.nonTrainableWeights : this.vectorField.weights;
  }

  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    this.vectorField?.setFastWeightInitDuringBuild(value);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const o = this.options;
    const config: tf.serialization.ConfigDict = {
      vectorField: this.vectorField.serialize() as unknown as tf.serialization.ConfigDictArray,
      tspan: [this.resolved.t0, this.resolved.t1],
      solver: this.resolved.solver,
      rtol: this.resolved.rtol,
      atol: this.resolved.atol,
      dt0: o.dt0 ?? null,
      dtmin: o.dtmin ?? null,
      dtmax: o.dtmax ?? null,
      maxSteps: this.resolved.maxSteps,
      saveat: o.saveat ? o.saveat.slice() : null,
      timeDependent: this.vectorField.timeDependent,
      arithmetic: this.resolved.arithmetic,
    };
    return { ...super.getConfig(), ...config };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
    customObjects: tf.serialization.ConfigDict = {},
  ): T {
    return new cls({ ...config, customObjects } as never);
  }
}
tf.serialization.registerClass(NeuralODE);

/** Factory in the style of `tf.layers.*`. */
export function neuralODE(args: NeuralODEArgs): NeuralODE {
  return new NeuralODE(args);
}
