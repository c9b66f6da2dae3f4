/**
 * `NeuralODE`: a tfjs layer whose output is the solution at t1 (or at `saveat` times) of
 * dy/dt = f(t, y), y(t0) = input, with f a stack of tfjs layers. Gradients come from the discrete
 * adjoint (`adjoint/discrete.ts`); the layer caches the last solve's statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { denseFieldVjp } from '../adjoint/dense_vjp';
import { AdjointSystem, discreteAdjointOp, odeSystem, PackedAdjointOp } from '../adjoint/discrete';
import { SolverEstimate } from '../regularizers/base';
import { RegularizerSpec } from '../regularizers/registry';
import { resolveOptions, ResolvedOptions, SOLVE_OPTION_KEYS, SolveOptions } from '../solvers/options';
import { InvalidArgumentError } from '../errors';
import { methodsWith, OdeMethod } from '../solvers/registry';
import { VectorField } from '../solvers/core/stepper';
import { LayerArgs } from '../tfjs_internals';
import { checkTimeDependent, checkWarmStart, DELayer, DELayerStats, SolveInfo, splitLayerArgs } from './de_layer';
import { LayerStack, SerializedLayer } from './vector_field';

/**
 * The solver options of `solve` (tspan, solver, rtol, atol, dt0, dtmin, dtmax, maxSteps, saveat,
 * saveatMode, estimateStiffness, arithmetic), plus:
 */
export interface NeuralODEOptions extends SolveOptions {
  /** Append t as an extra feature to the input of every vector-field layer. Default false. */
  timeDependent?: boolean;
  /**
   * Start each training call where the previous training call's ramp ended (its first accepted step with E ≥ 0.1) instead of the
   * initial-step heuristic (which costs 1–2 NFE and may start with a step the controller must grow or cut).
   * Inference calls (predict, evaluate) always use the heuristic, so predictions do not depend on earlier calls.
   * Not with `dt0`. Default false.
   */
  warmStart?: boolean;
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

const OPTION_KEYS: readonly string[] = [...SOLVE_OPTION_KEYS, 'timeDependent', 'warmStart'];
const OWN_KEYS: readonly string[] = [...OPTION_KEYS, 'vectorField', 'regularizers', 'customObjects'];

export class NeuralODE extends DELayer<undefined> {
  static className = 'NeuralODE';

  readonly options: Readonly<NeuralODEOptions>;
  private readonly resolved: ResolvedOptions;
  readonly vectorField: LayerStack;
  private readonly method: OdeMethod;
  /**
   * Whether the reverse pass may use the hand-written VJP of dense vector fields (set before the
   * layer is built; tests compare it with tfjs autodiff). Default true.
   */
  useHandVjp = true;
  /** Whether the built layer's reverse pass uses the hand-written VJP. */
  handVjp = false;
  private forwardField: ((t: number, y: tf.Tensor) => tf.Tensor) | null = null;
  private system: AdjointSystem<VectorField, undefined> | null = null;

  constructor(args: NeuralODEArgs & { customObjects?: tf.serialization.ConfigDict }) {
    const { layerArgs, own } = splitLayerArgs('NeuralODE', args, OWN_KEYS);
    const { vectorField, customObjects, regularizers, timeDependent, warmStart, ...solveOpts } = own;
    const resolved = resolveOptions(solveOpts);
    const method = resolved.method;
    const estimates: SolverEstimate[] = [];
    if (method.estimates.error) estimates.push('error');
    if (method.estimates.stiffness) estimates.push('stiffness');
    super(layerArgs, regularizers, customObjects, { solver: resolved.solver, estimates, solversWith: (estimate) => methodsWith('ode', estimate) });
    checkTimeDependent(timeDependent);
    this.warmStart = checkWarmStart(warmStart, solveOpts.dt0);
    // The stiffness estimate is computed when a regularizer reads it (or the user asked); the
    // steps after the last saveat time are solved only when a regularizer reads their estimates.
    this.resolved = {
      ...resolved,
      estimates: { stiffness: resolved.estimates.stiffness || this.regularizers.some((r) => r.estimate === 'stiffness') },
      stopAtLastOutput: this.regularizers.length === 0,
    };
    this.method = method;
    const options: NeuralODEOptions = { ...solveOpts };
    if (timeDependent !== undefined) options.timeDependent = timeDependent;
    if (warmStart !== undefined) options.warmStart = warmStart;
    this.options = Object.freeze(options);
    this.vectorField = new LayerStack(vectorField, timeDependent ?? false, customObjects);
    this.vectorField.claim(`NeuralODE layer '${this.name}'`);
  }

  protected stacks(): LayerStack[] {
    return this.vectorField ? [this.vectorField] : [];
  }

  protected override callArg(): undefined {
    return undefined;
  }

  protected get solveInfo(): SolveInfo {
    const r = this.resolved;
    return { t0: r.t0, t1: r.t1, saveat: r.saveat, stabilitySize: this.method.stabilitySize, hasStiffness: this.method.estimates.stiffness };
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const features = this.stateFeatures(inputShape);
    this.vectorField.build(features);
    this.features = features;
    const stack = this.vectorField;
    // A stack of dense layers gets a hand-written reverse pass. Its pullback reads the layer variables,
    // which are the op's parameters while the layer is trainable; otherwise the adjoint uses autodiff.
    const fieldVjp = this.useHandVjp ? denseFieldVjp(stack) : null;
    const hand = fieldVjp ? () => (this.trainable ? { field: fieldVjp, paramCount: stack.trainableWeights.length } : null) : undefined;
    // With a hand-written pullback the forward solve evaluates f the same way (the same kernels as
    // the reverse pass's recomputed stages, e.g. the fast tanh on wasm), keeping nothing for a pullback.
    const forward = fieldVjp
      ? (t: number, y: tf.Tensor): tf.Tensor => tf.tidy(() => fieldVjp(t, y).value)
      : (t: number, y: tf.Tensor): tf.Tensor => stack.call(t, y);
    this.forwardField = forward;
    const system = odeSystem(forward, this.resolved, hand);
    this.handVjp = fieldVjp !== null;
    this.system = system;
    this.installOp(discreteAdjointOp(system, this.resolved, this.record));
  }

  protected override get takesTimesInput(): boolean {
    return true;
  }

  /**
   * A call on `[z0, times]`: the built solve with `saveat` = `times` (checked by the caller). The
   * gradient reaches z0 and the weights through the discrete adjoint; the times get none.
   */
  protected override opWithOutputTimes(times: number[]): PackedAdjointOp<undefined> {
    if (!this.system) throw new Error(`NeuralODE layer '${this.name}' was called before build().`);
    return discreteAdjointOp(this.system, { ...this.resolved, saveat: times }, this.record);
  }

  /**
   * Per-step stiffness estimates S_j of the last call. Zeros unless the layer has a stiffness
   * regularizer or was built with `estimateStiffness: true`: the estimate is computed only when
   * asked (on the tensor arithmetic it costs three read-backs per step).
   */
  override get lastStiffnessEstimates(): tf.Tensor1D | null {
    return super.lastStiffnessEstimates;
  }

  /**
   * f(t, y) exactly as the solver evaluates it: the vector-field layers, computed with this
   * package's faster kernels where it has them (for a stack of dense layers on wasm, tanh as
   * 2·σ(2x) − 1; results differ from the layers' own `call` by float32 rounding). Differentiable;
   * for checking the layer against a reference of your own. The layer must be built.
   */
  evaluateField(t: number, y: tf.Tensor): tf.Tensor {
    if (this.forwardField === null)
      throw new InvalidArgumentError(`NeuralODE '${this.name}': build the layer (call it once, or build(inputShape)) before evaluateField.`);
    return this.forwardField(t, y);
  }

  /** The resolved solver options in force (tolerances, tspan, ...). */
  get solverOptions(): Readonly<ResolvedOptions> {
    return this.resolved;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const o = this.options;
    return {
      ...super.getConfig(),
      vectorField: this.vectorField.serialize(),
      ...this.sharedConfig(this.resolved, o, this.vectorField.timeDependent),
      saveatMode: this.resolved.saveatMode,
      estimateStiffness: o.estimateStiffness ?? null,
      arithmetic: this.resolved.arithmetic,
    };
  }
}
tf.serialization.registerClass(NeuralODE);

/** Factory in the style of `tf.layers.*`. */
export function neuralODE(args: NeuralODEArgs): NeuralODE {
  return new NeuralODE(args);
}
