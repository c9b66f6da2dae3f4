/**
 * `NeuralODE`: a tfjs layer whose output is the solution at t1 (or at `saveat` times) of
 * dy/dt = f(t, y), y(t0) = input, with f a stack of tfjs layers. Gradients come from the discrete
 * adjoint (`adjoint/discrete.ts`); the layer caches the last solve's statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AdjointRecord, discreteAdjoint, PackedLayout, unpack } from '../adjoint/discrete';
import { InvalidArgumentError, SolverError } from '../solvers/errors';
import { resolveOptions, ResolvedOptions, SOLVE_OPTION_KEYS, SolveOptions } from '../solvers/options';
import { copyStats, SolveStats } from '../solvers/stats';
import { RegularizerInputs, SolverRegularizer } from '../regularizers/base';
import { RegularizerSpec, toRegularizer } from '../regularizers/registry';
import { serializeObject } from '../serialization';
import { getTableau } from '../solvers/registry';
import { ButcherTableau } from '../solvers/tableau';
import { LayerStack, SerializedLayer } from './vector_field';

import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';

/** The solver options of `solve` (tspan, solver, rtol, atol, dt0, dtmin, dtmax, maxSteps, saveat, arithmetic), plus: */
export interface NeuralODEOptions extends SolveOptions {
  /** Append t as an extra feature to the input of every vector-field layer. Default false. */
  timeDependent?: boolean;
}

export interface NeuralODEArgs extends NeuralODEOptions, LayerArgs {
  /** The vector field: tfjs layers applied in order; must map the state shape to itself. */
  vectorField: (tfl.layers.Layer | SerializedLayer)[];
  /**
   * Solver-heuristic regularizers added to the model's loss during training, e.g.
   * `[errorEstimate({weight: 100}), stiffness({weight: 0.03})]` (or names: 'errorEstimate').
   */
  regularizers?: RegularizerSpec[];
}

/** The last forward solve (and, after a gradient, the backward pass) of a NeuralODE layer. */
export interface NeuralODEStats extends SolveStats {
  /** Vector-field evaluations of the last backward pass (0 before any gradient). */
  nfeBackward: number;
}

const OPTION_KEYS: readonly string[] = [...SOLVE_OPTION_KEYS, 'timeDependent'];

export class NeuralODE extends tfl.layers.Layer {
  static className = 'NeuralODE';

  readonly options: Readonly<NeuralODEOptions>;
  private readonly resolved: ResolvedOptions;
  readonly vectorField: LayerStack;
  private features: number[] | null = null;
  private op: ((x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor) | null = null;
  private layout: (() => PackedLayout) | null = null;
  private readonly record: AdjointRecord = { forward: null, nfeBackward: 0 };
  private readonly tableau: ButcherTableau;
  /** The layer's solver-heuristic regularizers (their `weight` may be changed between epochs). */
  readonly regularizers: SolverRegularizer[];
  private lastRegInputs: RegularizerInputs | null = null;
  private setNextStops: ((stops: number[]) => void) | null = null;
  /** Running totals for NFE callbacks: forward evaluations and calls since construction. */
  nfeForwardTotal = 0;
  forwardCalls = 0;

  constructor(args: NeuralODEArgs & { customObjects?: tf.serialization.ConfigDict }) {
    const { vectorField, customObjects, regularizers, ...rest } = args ?? ({} as NeuralODEArgs);
    const options: NeuralODEOptions = {};
    const layerArgs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) {
      if (OPTION_KEYS.includes(k)) {
        if (v !== null && v !== undefined) (options as Record<string, unknown>)[k] = v;
      } else layerArgs[k] = v;
    }
    super(layerArgs as LayerArgs);
    const { timeDependent, ...solveOpts } = options;
    if (timeDependent !== undefined && typeof timeDependent !== 'boolean') {
      throw new InvalidArgumentError(`Option 'timeDependent' must be a boolean, got ${String(timeDependent)}.`);
    }
    this.resolved = resolveOptions(solveOpts);
    this.tableau = getTableau(this.resolved.solver);
    this.options = Object.freeze({ ...options });
    this.vectorField = new LayerStack(vectorField as (tfl.layers.Layer | SerializedLayer)[], timeDependent ?? false, customObjects);
    this.supportsMasking = false;
    if (regularizers != null && !Array.isArray(regularizers)) {
      throw new InvalidArgumentError("Option 'regularizers' must be an array, e.g. [errorEstimate({weight: 100})].");
    }
    this.regularizers = (regularizers ?? []).map((r) => toRegularizer(r, customObjects));
    if (this.regularizers.some((r) => r.shortName === 'stiffness') && !this.tableau.stiffnessStages) {
      throw new InvalidArgumentError(
        `The stiffness regularizer needs a solver with a stiffness estimate ('tsit5' or 'dopri5'); '${this.resolved.solver}' has none.`,
      );
    }
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
    const { op, lastLayout, setNextStops } = discreteAdjoint((t, y) => stack.call(t, y), this.resolved, this.record);
    this.op = op;
    this.layout = lastLayout;
    this.setNextStops = setNextStops;
    // One loss closure for all regularizers, registered once: it reads what call() cached in the
    // same training scope (tfjs runs call() and the closures in one tidy).
    if (this.regularizers.length > 0) this.addLoss(() => this.regularizationLoss());
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
    const training = kwargs?.training === true;
    const stops = training ? this.regularizers.flatMap((r) => r.sampleStops([this.resolved.t0, this.resolved.t1])) : [];
    this.setNextStops!(stops);
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
    if (this.regularizers.length > 0) {
      // Models run their layers inside a tidy (Container.call), so the loss closure would find
      // these disposed in a custom loop; keep them (still on the tape) until the next call.
      this.releaseEstimates();
      tf.keep(error);
      tf.keep(stiffness);
    }
    const stats = this.record.forward!;
    this.lastRegInputs = {
      error,
      stiffness,
      dt: stats.dt.slice(),
      t: stats.t.slice(),
      stabilitySize: this.tableau.stabilitySize,
      hasStiffness: this.tableau.stiffnessStages !== undefined,
      stops,
    };
    this.nfeForwardTotal += stats.nfe;
    this.forwardCalls += 1;
    return this.resolved.saveat ? tf.stack(states, 1) : states[0];
  }

  /**
   * Σ λ·R over the layer's regularizers for the last call. Registered with `addLoss`, so
   * `model.fit`, `trainOnBatch` and `model.calculateLosses()` include it. Must run in the same
   * tidy scope as the call it regularizes (as tfjs training does).
   */
  regularizationLoss(): tf.Scalar {
    const inputs = this.lastRegInputs;
    if (!inputs || inputs.error.isDisposed) {
      throw new Error(
        `NeuralODE layer '${this.name}': the regularization loss was read without a live forward pass. Call the model first in the same scope (model.fit does; in a custom loop compute model.apply(x, {training: true}) and the losses inside one optimizer.minimize closure).`,
      );
    }
    if (inputs.stops.length === 0 && this.regularizers.some((r) => r.needsStops && r.weight > 0)) {
      // an unbiased local regularizer needs a training call, which samples the time it penalizes
      throw new Error(
        `NeuralODE layer '${this.name}': unbiased local regularization needs the layer called with {training: true} (model.fit does; in a custom loop use model.apply(x, {training: true})).`,
      );
    }
    return tf.tidy(() => {
      const terms = this.regularizers.map((r) => r.apply(inputs));
      return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
    });
  }

  /**
   * Per-step error estimates E_j of the last call. With regularizers the layer keeps this tensor
   * until its next call (or dispose); without, it lives only in the caller's tidy scope.
   */
  get lastErrorEstimates(): tf.Tensor1D | null {
    return this.lastRegInputs?.error ?? null;
  }

  /** Per-step stiffness estimates S_j of the last call (kept like `lastErrorEstimates`). */
  get lastStiffnessEstimates(): tf.Tensor1D | null {
    return this.lastRegInputs?.stiffness ?? null;
  }

  private releaseEstimates(): void {
    if (this.regularizers.length > 0 && this.lastRegInputs) {
      this.lastRegInputs.error.dispose();
      this.lastRegInputs.stiffness.dispose();
    }
    this.lastRegInputs = null;
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.releaseEstimates();
    return result;
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
      regularizers: this.regularizers.map(serializeObject) as unknown as tf.serialization.ConfigDictArray,
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
