/**
 * `NeuralODE`: a tfjs layer whose output is the solution at t1 (or at `saveat` times) of
 * dy/dt = f(t, y), y(t0) = input, with f a stack of tfjs layers. Gradients come from the discrete
 * adjoint (`adjoint/discrete.ts`); the layer caches the last solve's statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { denseFieldVjp } from '../adjoint/dense_vjp';
import { discreteAdjointOp, odeSystem, PackedLayout, unpack } from '../adjoint/discrete';
import { SolverEstimate } from '../regularizers/base';
import { RegularizerSpec } from '../regularizers/registry';
import { InvalidArgumentError } from '../solvers/errors';
import { resolveOptions, ResolvedOptions, SOLVE_OPTION_KEYS, SolveOptions } from '../solvers/options';
import { getTableau } from '../solvers/registry';
import { ButcherTableau } from '../solvers/tableau';
import { serializeObject } from '../serialization';
import { CallResult, DELayer, DELayerStats, splitLayerArgs } from './de_layer';
import { LayerStack, SerializedLayer } from './vector_field';

import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';

/**
 * The solver options of `solve` (tspan, solver, rtol, atol, dt0, dtmin, dtmax, maxSteps, saveat,
 * saveatMode, estimateStiffness, arithmetic), plus:
 */
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
export type NeuralODEStats = DELayerStats;

const OPTION_KEYS: readonly string[] = [...SOLVE_OPTION_KEYS, 'timeDependent'];
const OWN_KEYS: readonly string[] = [...OPTION_KEYS, 'vectorField', 'regularizers', 'customObjects'];

export class NeuralODE extends DELayer {
  static className = 'NeuralODE';

  readonly options: Readonly<NeuralODEOptions>;
  private readonly resolved: ResolvedOptions;
  readonly vectorField: LayerStack;
  private features: number[] | null = null;
  private op: ((x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor) | null = null;
  private layout: (() => PackedLayout) | null = null;
  private readonly tableau: ButcherTableau;
  private setNextStops: ((stops: number[]) => void) | null = null;
  /**
   * Whether the reverse pass may use the hand-written VJP of dense vector fields (set before the
   * layer is built; tests compare it with tfjs autodiff). Default true.
   */
  useHandVjp = true;
  /** Whether the built layer's reverse pass uses the hand-written VJP. */
  handVjp = false;

  constructor(args: NeuralODEArgs & { customObjects?: tf.serialization.ConfigDict }) {
    const { layerArgs, own } = splitLayerArgs('NeuralODE', args as unknown as Record<string, unknown>, OWN_KEYS);
    const { vectorField, customObjects, regularizers, timeDependent, ...solveOpts } = own as unknown as NeuralODEArgs & {
      customObjects?: tf.serialization.ConfigDict;
    };
    const resolved = resolveOptions(solveOpts);
    const tableau = getTableau(resolved.solver);
    const estimates: SolverEstimate[] = [];
    if (tableau.adaptive) estimates.push('error');
    if (tableau.stiffnessStages) estimates.push('stiffness');
    super(layerArgs, regularizers, customObjects, { solver: resolved.solver, estimates });
    if (timeDependent !== undefined && typeof timeDependent !== 'boolean') {
      throw new InvalidArgumentError(`Option 'timeDependent' must be a boolean, got ${String(timeDependent)}.`);
    }
    // The stiffness estimate is computed when a regularizer reads it (or the user asked); the
    // steps after the last saveat time are solved only when a regularizer reads their estimates.
    this.resolved = {
      ...resolved,
      estimates: { stiffness: resolved.estimates.stiffness || this.regularizers.some((r) => r.estimate === 'stiffness') },
      stopAtLastOutput: this.regularizers.length === 0,
    };
    this.tableau = tableau;
    const options: Record<string, unknown> = { ...solveOpts };
    if (timeDependent !== undefined) options.timeDependent = timeDependent;
    this.options = Object.freeze(options as NeuralODEOptions);
    this.vectorField = new LayerStack(vectorField as (tfl.layers.Layer | SerializedLayer)[], timeDependent ?? false, customObjects);
    this.vectorField.claim(`NeuralODE layer '${this.name}'`);
  }

  protected stacks(): LayerStack[] {
    return this.vectorField ? [this.vectorField] : [];
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
    // A stack of dense layers gets a hand-written reverse pass. Its pullback reads the layer variables,
    // which are the op's parameters while the layer is trainable; otherwise the adjoint uses autodiff.
    const fieldVjp = this.useHandVjp ? denseFieldVjp(stack) : null;
    const hand = fieldVjp ? () => (this.trainable ? { field: fieldVjp, paramCount: stack.trainableWeights.length } : null) : undefined;
    const system = odeSystem((t, y) => stack.call(t, y), this.resolved, hand);
    const { op, lastLayout, setNextStops } = discreteAdjointOp(system, this.resolved, this.record);
    this.handVjp = fieldVjp !== null;
    this.op = op;
    this.layout = lastLayout;
    this.setNextStops = setNextStops;
    this.registerRegularizers();
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const saveat = this.resolved.saveat;
    return saveat ? [shape[0], saveat.length, ...shape.slice(1)] : shape.slice();
  }

  protected solveCall(x: tf.Tensor, training: boolean): CallResult {
    if (!this.op || !this.features || !this.layout) throw new Error(`NeuralODE layer '${this.name}' was called before build().`);
    if (x.rank !== this.features.length + 1 || !tf.util.arraysEqual(x.shape.slice(1), this.features)) {
      throw new InvalidArgumentError(
        `NeuralODE layer '${this.name}' expects inputs of shape [batch, ${this.features}], got [${x.shape}].`,
      );
    }
    const stops = this.sampleStops(training, [this.resolved.t0, this.resolved.t1]);
    this.setNextStops!(stops);
    const packed = this.op(x, ...this.trainableWeights.map((w) => w.read()));
    const { states, error, stiffness } = unpack(packed, this.layout(), x.shape);
    const stats = this.record.forward!;
    return {
      output: this.resolved.saveat ? tf.stack(states, 1) : states[0],
      estimates: {
        error,
        stiffness,
        dt: stats.dt.slice(),
        t: stats.t.slice(),
        stabilitySize: this.tableau.stabilitySize,
        hasStiffness: this.tableau.stiffnessStages !== undefined,
        stops,
      },
    };
  }

  /**
   * Per-step stiffness estimates S_j of the last call. Zeros unless the layer has a stiffness
   * regularizer or was built with `estimateStiffness: true`: the estimate is computed only when
   * asked (on the tensor arithmetic it costs three read-backs per step).
   */
  override get lastStiffnessEstimates(): tf.Tensor1D | null {
    return super.lastStiffnessEstimates;
  }

  /** The resolved solver options in force (tolerances, tspan, ...). */
  get solverOptions(): Readonly<ResolvedOptions> {
    return this.resolved;
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
      saveatMode: this.resolved.saveatMode,
      estimateStiffness: o.estimateStiffness ?? null,
      timeDependent: this.vectorField.timeDependent,
      arithmetic: this.resolved.arithmetic,
      regularizers: this.regularizers.map(serializeObject) as unknown as tf.serialization.ConfigDictArray,
    };
    return { ...super.getConfig(), ...config };
  }
}
tf.serialization.registerClass(NeuralODE);

/** Factory in the style of `tf.layers.*`. */
export function neuralODE(args: NeuralODEArgs): NeuralODE {
  return new NeuralODE(args);
}
