/**
 * What `NeuralODE` and `NeuralSDE` share: constructor-argument checking, the solver-heuristic
 * regularizers and their loss closure, one record of estimates per call, statistics for the NFE
 * callbacks, weights gathered from the layer stacks, and disposal.
 *
 * A subclass builds its stacks and its custom-gradient op, and implements `solveCall`, which turns
 * one input batch into the output and the call's per-step estimates.
 */
import { Tolerances } from '../solvers/core/controller';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AdjointRecord, PackedAdjointOp, unpack } from '../adjoint/discrete';
import { serializeObject } from '../serialization';
import { RegularizerInputs, SolverEstimate, SolverRegularizer } from '../regularizers/base';
import { RegularizerSpec, toRegularizer } from '../regularizers/registry';
import { InvalidArgumentError } from '../errors';
import { SolverError } from '../solvers/core/errors';
import { rejectUnknownKeys } from '../solvers/options';
import { copyStats, SolveStats } from '../solvers/core/stats';
import { isLayerArgKey, LAYER_ARG_KEYS, LayerArgs } from '../tfjs_internals';
import { checkTimesShape, readTimes } from './time_input';
import { LayerStack } from './vector_field';

/** Copies `from[key]` into `to`. */
function copyKey<T, K extends keyof T>(from: T, to: Partial<T>, key: K): void {
  to[key] = from[key];
}

/**
 * Splits constructor arguments into tfjs's `LayerArgs` and the layer's own (null and undefined
 * values dropped: configs store absent options as null). Unknown keys are an error that suggests
 * the closest valid key, so a misspelt option never silently falls back to its default. `own`
 * holds none of the `LayerArgs` keys.
 */
export function splitLayerArgs<A extends LayerArgs>(
  className: string,
  args: A | undefined,
  ownKeys: readonly string[],
): { layerArgs: LayerArgs; own: Partial<A> } {
  if (args == null || typeof args !== 'object' || Array.isArray(args)) {
    throw new InvalidArgumentError(`${className} takes one options object, got ${args === undefined ? 'nothing' : String(args)}.`);
  }
  rejectUnknownKeys(args, [...ownKeys, ...LAYER_ARG_KEYS], `${className}: `);
  const layerArgs: Partial<A> = {};
  const own: Partial<A> = {};
  for (const k of Object.keys(args).filter((key): key is Extract<keyof A, string> => key in args)) {
    const v = args[k];
    if (isLayerArgKey(k)) copyKey(args, layerArgs, k);
    else if (v !== null && v !== undefined) copyKey(args, own, k);
  }
  return { layerArgs, own };
}

/** Checks the `timeDependent` option (undefined: false). */
export function checkTimeDependent(v: unknown): boolean {
  if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(`Option 'timeDependent' must be a boolean, got ${String(v)}.`);
  return v === true;
}

/** Checks the `warmStart` option (undefined: false); it replaces the initial-step heuristic, so not with `dt0`. */
export function checkWarmStart(v: unknown, dt0: unknown): boolean {
  if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(`Option 'warmStart' must be a boolean, got ${String(v)}.`);
  if (v === true && dt0 !== undefined) {
    throw new InvalidArgumentError(
      `Option 'warmStart' starts each training call from the previous call's first step instead of the initial-step heuristic; with 'dt0' set there is no heuristic to replace. Drop one of them.`,
    );
  }
  return v === true;
}

/**
 * The step a warm-started call begins with: the first accepted step of the previous call whose error estimate
 * reached a tenth of the tolerance (the end of the controller's ramp up from the initial step, which the PI
 * controller grows by a factor of only ~1.5–3 per step), or its largest step when none did (fixed-step methods:
 * undefined, nothing to warm).
 */
export function warmStep(stats: SolveStats): number | undefined {
  const { dt, errorEstimate } = stats;
  if (dt.length === 0 || errorEstimate.length !== dt.length) return undefined;
  const j = errorEstimate.findIndex((e) => e >= 0.1);
  return j >= 0 ? Math.abs(dt[j]) : Math.max(...dt.map(Math.abs));
}

/** The last forward solve (and, after a gradient, the backward pass) of a DE layer. */
export interface DELayerStats extends SolveStats {
  /** Vector-field (drift) evaluations of the last backward pass (0 before any gradient). */
  nfeBackward: number;
}

/** What one call of the layer produced. */
export interface CallResult {
  output: tf.Tensor;
  /** Per-step estimates and step data for the regularizers (tensors owned by the caller's scope). */
  estimates: RegularizerInputs;
}

/** What the base layer needs to know about a subclass's solve. */
export interface SolveInfo {
  readonly t0: number;
  readonly t1: number;
  /** Output times (output `[batch, times, ...]`), or undefined for the state at t1. */
  readonly saveat: readonly number[] | undefined;
  /** The method's stability-region size, for the stiffness regularizer's scaling. */
  readonly stabilitySize: number | undefined;
  readonly hasStiffness: boolean;
}

/** The solver options every DE layer stores in its config. */
export interface SharedSolverConfig {
  readonly t0: number;
  readonly t1: number;
  readonly solver: string;
  readonly controller: Tolerances;
  readonly maxSteps: number;
}

/** Marks DE layers so that callbacks recognise them even across two copies of this package. */
export const DE_LAYER_BRAND = Symbol.for('tfjs-neural-de.DELayer');

/**
 * The base of the DE layers. `Arg` is what each call of the layer's op is given besides the state and the
 * weights (`callArg`): nothing for a NeuralODE, the path seed and the training flag for a NeuralSDE.
 */
export abstract class DELayer<Arg = unknown> extends tfl.layers.Layer {
  /** The layer's solver-heuristic regularizers (their `weight` may be changed between epochs). */
  readonly regularizers: SolverRegularizer[];
  protected readonly record: AdjointRecord = { forward: null, nfeBackward: 0 };
  /**
   * Estimates of the calls of the current training pass, one per call (a layer applied at several
   * nodes is called once per node; tfjs then reads its loss closure once per node).
   */
  private calls: RegularizerInputs[] = [];
  private lossReads = 0;
  /** Running totals for NFE callbacks: forward evaluations and calls since construction. */
  nfeForwardTotal = 0;
  forwardCalls = 0;
  readonly [DE_LAYER_BRAND] = true;

  protected constructor(
    layerArgs: LayerArgs,
    regularizers: unknown,
    customObjects: tf.serialization.ConfigDict | undefined,
    capabilities: {
      solver: string;
      estimates: readonly SolverEstimate[];
      /** This layer's solvers that provide each estimate (named in the error message as the fix). */
      solversWith: (estimate: SolverEstimate) => readonly string[];
      /** Why the solver lacks estimates it would otherwise have, and the fix (e.g. fixed steps: drop `adaptive: false`). */
      disabledBy?: { reason: string; fix: string };
    },
  ) {
    super(layerArgs);
    this.supportsMasking = false;
    if (regularizers != null && !Array.isArray(regularizers)) {
      throw new InvalidArgumentError("Option 'regularizers' must be an array, e.g. [errorEstimate({weight: 100})].");
    }
    this.regularizers = ((regularizers ?? []) as RegularizerSpec[]).map((r) => toRegularizer(r, customObjects));
    for (const r of this.regularizers) {
      if (!capabilities.estimates.includes(r.estimate)) {
        const kind = r.estimate === 'error' ? 'an error estimate (an adaptive solver)' : 'a stiffness estimate';
        const fixes = capabilities.solversWith(r.estimate).map((n) => `'${n}'`);
        const off = capabilities.disabledBy;
        throw new InvalidArgumentError(
          `The ${r.shortName} regularizer needs a solver with ${kind}; '${capabilities.solver}'${off ? ` ${off.reason}` : ''} has none. ` +
            `${off ? `${off.fix}, or use` : 'Use'} solver ${fixes.join(' or ')} in this ${this.getClassName()} layer, or drop the regularizer.`,
        );
      }
    }
  }

  /** The layer stacks whose weights this layer owns. */
  protected abstract stacks(): LayerStack[];

  /** Span, outputs and the method's estimates of this layer's solve. */
  protected abstract get solveInfo(): SolveInfo;

  /** State shape without the batch axis (set by `build`). */
  protected features: number[] | null = null;
  private packedOp: PackedAdjointOp<Arg> | null = null;
  /**
   * Whether training calls start where the previous training call's ramp ended (`warmStep`) instead of the
   * initial-step heuristic (option `warmStart`); inference calls never do, so predictions do not depend on the
   * calls before them.
   */
  protected warmStart = false;
  private warmDt: number | undefined;

  /** The state shape [features...] of a build's input shape, checked to be fully defined. */
  protected stateFeatures(inputShape: tfl.Shape | tfl.Shape[]): number[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const features = shape.slice(1);
    if (features.length === 0 || features.some((d) => d == null)) {
      throw new InvalidArgumentError(
        `${this.getClassName()} layer '${this.name}' needs a fully defined state shape [batch, features...], got [${shape.map((d) => (d == null ? 'null' : d))}].`,
      );
    }
    return features as number[];
  }

  /** Finishes `build`: the custom-gradient op to call, and the regularizers' loss closure. */
  protected installOp(op: PackedAdjointOp<Arg>): void {
    this.packedOp = op;
    // One loss closure for all regularizers, registered once: it reads what call() recorded in the
    // same training scope (tfjs runs call() and the closures in one tidy).
    if (this.regularizers.length > 0) this.addLoss(() => this.regularizationLoss());
    this.built = true;
  }

  /** The argument of the next call's op (e.g. the Brownian path's seed); called once per solve. */
  protected abstract callArg(training: boolean): Arg;

  /** Whether the layer may be applied to [state, times] (then it implements `opWithOutputTimes`). */
  protected get takesTimesInput(): boolean {
    return false;
  }

  /**
   * The op of a call whose output times come as data (`[state, times]` inputs): the built op's
   * solve with `saveat` = `times`, sharing this layer's record.
   */
  protected opWithOutputTimes(_times: number[]): PackedAdjointOp<Arg> {
    throw new Error(`internal: ${this.getClassName()} has no op for a times input`);
  }

  /** The times input's shape when the layer is applied to [state, times] (checked), else null. */
  private timesShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | null {
    if (!Array.isArray(inputShape[0])) return null;
    const shapes = inputShape as tfl.Shape[];
    if (shapes.length > 2) {
      throw new InvalidArgumentError(`${this.getClassName()} layer '${this.name}' takes a state or [state, times], got ${shapes.length} inputs.`);
    }
    if (shapes.length < 2) return null;
    if (!this.takesTimesInput) {
      throw new InvalidArgumentError(
        `${this.getClassName()} layer '${this.name}' does not take observation times as an input; give its output times with the 'saveat' option.`,
      );
    }
    checkTimesShape(`${this.getClassName()} layer '${this.name}'`, shapes[1]);
    if (this.solveInfo.saveat) {
      throw new InvalidArgumentError(
        `${this.getClassName()} layer '${this.name}' has the 'saveat' option and a times input; give the output times one way: drop 'saveat', or apply the layer to the state alone.`,
      );
    }
    return shapes[1];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    // with a times input the number of output times is known only at call time
    if (this.timesShape(inputShape)) return [shape[0], null, ...shape.slice(1)];
    const saveat = this.solveInfo.saveat;
    return saveat ? [shape[0], saveat.length, ...shape.slice(1)] : shape.slice();
  }

  /** Solves for one input batch (float32), at `times` when given; called inside a tidy. */
  private solveCall(x: tf.Tensor, training: boolean, times: number[] | null): CallResult {
    const op = this.packedOp && times ? this.opWithOutputTimes(times) : this.packedOp;
    const features = this.features;
    if (!op || !features) throw new Error(`${this.getClassName()} layer '${this.name}' was called before build().`);
    if (x.rank !== features.length + 1 || !tf.util.arraysEqual(x.shape.slice(1), features)) {
      throw new InvalidArgumentError(`${this.getClassName()} layer '${this.name}' expects inputs of shape [batch, ${features}], got [${x.shape}].`);
    }
    const info = this.solveInfo;
    const stops = this.sampleStops(training, [info.t0, info.t1]);
    // warm start: a training call begins where the previous training call's ramp ended (`warmStep`)
    const dt0 = training && this.warmStart ? this.warmDt : undefined;
    const packed = op.op({ stops, arg: this.callArg(training), dt0 }, x, ...this.trainableWeights.map((w) => w.read()));
    const { states, error, stiffness } = unpack(packed, op.lastLayout(), x.shape);
    const stats = this.record.forward!;
    if (training && this.warmStart) this.warmDt = warmStep(stats) ?? this.warmDt;
    return {
      output: info.saveat || times ? tf.stack(states, 1) : states[0],
      estimates: {
        error,
        stiffness,
        dt: stats.dt.slice(),
        t: stats.t.slice(),
        stabilitySize: info.stabilitySize,
        hasStiffness: info.hasStiffness,
        stops,
      },
    };
  }

  /** The config entries every DE layer has (tspan, solver, tolerances, step bounds, saveat, regularizers). */
  protected sharedConfig(
    resolved: SharedSolverConfig,
    given: { dt0?: number; dtmin?: number; dtmax?: number; saveat?: number[] },
    timeDependent: boolean,
  ): tf.serialization.ConfigDict {
    return {
      tspan: [resolved.t0, resolved.t1],
      solver: resolved.solver,
      rtol: resolved.controller.rtol,
      atol: resolved.controller.atol,
      dt0: given.dt0 ?? null,
      dtmin: given.dtmin ?? null,
      dtmax: given.dtmax ?? null,
      maxSteps: resolved.maxSteps,
      saveat: given.saveat ? given.saveat.slice() : null,
      timeDependent,
      warmStart: this.warmStart,
      regularizers: this.regularizers.map(serializeObject),
    };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const timesTensor = Array.isArray(inputs) ? this.timesInput(inputs) : null;
    const info = this.solveInfo;
    const times = timesTensor ? readTimes(`${this.getClassName()} layer '${this.name}'`, timesTensor, info.t0, info.t1) : null;
    const training = kwargs?.training === true;
    if (this.lossReads > 0) this.releaseCalls(0);
    const maxCalls = Math.max(1, this.inboundNodes.length);
    return tf.tidy(() => {
      const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      let result: CallResult;
      try {
        result = this.solveCall(x32, training, times);
      } catch (e) {
        if (e instanceof SolverError) {
          throw new SolverError(e.code, `${this.getClassName()} layer '${this.name}': ${e.message.replace(/ \(at t=.*$/, '')}`, e.stats, e.t);
        }
        throw e;
      }
      this.releaseMaterialized();
      if (this.regularizers.length > 0) {
        // Kept (still on the tape) until this layer's next training pass or dispose(), so that the
        // loss closure finds them even in a custom loop where models tidy their layers' calls.
        // A layer without regularizers keeps nothing: its estimates are in `lastStats`.
        tf.keep(result.estimates.error);
        tf.keep(result.estimates.stiffness);
        this.calls.push(result.estimates);
        this.releaseCalls(maxCalls);
      }
      const stats = this.record.forward!;
      this.nfeForwardTotal += stats.nfe;
      this.forwardCalls += 1;
      return result.output;
    });
  }

  /** The times tensor of a call on [state, times] (null for [state]); checked like the symbolic shapes. */
  private timesInput(inputs: tf.Tensor[]): tf.Tensor | null {
    return this.timesShape(inputs.map((t) => t.shape)) ? inputs[1] : null;
  }

  /** Disposes recorded calls beyond the newest `keep`. */
  private releaseCalls(keep: number): void {
    while (this.calls.length > keep) {
      const old = this.calls.shift()!;
      old.error.dispose();
      old.stiffness.dispose();
    }
    if (keep === 0) this.lossReads = 0;
  }

  /**
   * Σ λ·R over the layer's regularizers for one call: the k-th time it is read after a training
   * pass it regularizes that pass's k-th call (tfjs reads it once per node the layer is applied
   * at). Registered with `addLoss`, so `model.fit`, `trainOnBatch` and `model.calculateLosses()`
   * include it. Must run in the same scope as the call it regularizes (as tfjs training does).
   */
  regularizationLoss(): tf.Scalar {
    const node = this.lossReads++ % Math.max(1, this.inboundNodes.length, this.calls.length);
    const inputs = this.calls.length > 0 ? (this.calls[node] ?? null) : null;
    // A node the last pass did not call (e.g. one eager call of a layer used at two nodes) has no penalty.
    if (this.calls.length > 0 && inputs === null) return tf.scalar(0);
    if (!inputs || inputs.error.isDisposed) {
      throw new Error(
        `${this.getClassName()} layer '${this.name}': the regularization loss was read without a live forward pass. Call the model first in the same scope (model.fit does; in a custom loop compute model.apply(x, {training: true}) and the losses inside one optimizer.minimize closure).`,
      );
    }
    if (inputs.stops.length === 0 && this.regularizers.some((r) => r.needsStops && r.weight > 0)) {
      // an unbiased local regularizer needs a training call, which samples the time it penalizes
      throw new Error(
        `${this.getClassName()} layer '${this.name}': unbiased local regularization needs the layer called with {training: true} (model.fit does; in a custom loop use model.apply(x, {training: true})).`,
      );
    }
    return tf.tidy(() => {
      const terms = this.regularizers.map((r) => r.apply(inputs));
      return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
    });
  }

  /** Times the regularizers ask the next training solve to step onto. */
  protected sampleStops(training: boolean, tspan: readonly [number, number]): number[] {
    return training ? this.regularizers.flatMap((r) => r.sampleStops(tspan)) : [];
  }

  private get lastCall(): RegularizerInputs | null {
    return this.calls.length > 0 ? this.calls[this.calls.length - 1] : null;
  }

  /**
   * Per-step error estimates E_j of the last call, owned by the layer (valid until its next call or
   * dispose). The same numbers are in `lastStats.errorEstimate`.
   */
  get lastErrorEstimates(): tf.Tensor1D | null {
    return this.regularizers.length > 0 ? (this.lastCall?.error ?? null) : this.materialized('errorEstimate');
  }

  /** Per-step stiffness estimates S_j of the last call (owned like `lastErrorEstimates`; zeros where not computed). */
  get lastStiffnessEstimates(): tf.Tensor1D | null {
    return this.regularizers.length > 0 ? (this.lastCall?.stiffness ?? null) : this.materialized('stiffnessEstimate');
  }

  /** Tensors of the last call's estimates made on request for a layer that keeps none (no regularizers). */
  private materializedEstimates: Partial<Record<'errorEstimate' | 'stiffnessEstimate', tf.Tensor1D>> = {};

  private materialized(key: 'errorEstimate' | 'stiffnessEstimate'): tf.Tensor1D | null {
    const f = this.record.forward;
    if (!f) return null;
    const n = f.dt.length;
    this.materializedEstimates[key] ??= tf.keep(tf.tensor1d(f[key].length === n ? f[key] : new Array<number>(n).fill(0)));
    return this.materializedEstimates[key];
  }

  private releaseMaterialized(): void {
    tf.dispose(Object.values(this.materializedEstimates));
    this.materializedEstimates = {};
  }

  /** Statistics of the last solve (a copy), with the NFE of the last backward pass. */
  get lastStats(): DELayerStats | null {
    const f = this.record.forward;
    return f ? { ...copyStats(f), nfeBackward: this.record.nfeBackward } : null;
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.releaseCalls(0);
      this.releaseMaterialized();
      for (const s of this.stacks()) s.release();
    }
    return result;
  }

  override get trainableWeights(): tfl.LayerVariable[] {
    return this.trainable ? this.stacks().flatMap((s) => s.trainableWeights) : [];
  }

  override get nonTrainableWeights(): tfl.LayerVariable[] {
    return this.stacks().flatMap((s) => (this.trainable ? s.nonTrainableWeights : s.weights));
  }

  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    for (const s of this.stacks?.() ?? []) s?.setFastWeightInitDuringBuild(value);
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
    customObjects: tf.serialization.ConfigDict = {},
  ): T {
    return new cls({ ...config, customObjects } as never);
  }
}

/** True for NeuralODE/NeuralSDE layers (of any copy of this package). */
export function isDELayer(x: unknown): x is DELayer {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[DE_LAYER_BRAND] === true;
}
