/**
 * `NeuralSDE`: a tfjs layer whose output is the solution at t1 (or at `saveat` times) of the Itô SDE
 * dy = f(t, y) dt + g(t, y) ⊙ dW, y(t0) = input, with diagonal noise: the drift f and the diffusion g are
 * stacks of tfjs layers that both map the state to its own shape, and every element of the state (batch
 * included) has its own Wiener process. Solved by an adaptive stochastic Runge–Kutta method (SOSRI by
 * default) on a Brownian path drawn per call; gradients come from the same discrete adjoint as
 * `NeuralODE`, which replays each accepted step with the same Brownian increments.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { discreteAdjointOp } from '../adjoint/discrete';
import { SdeCallArg, sdeSystem } from '../adjoint/sde';
import { isValidSeed, MAX_SEED } from '../noise/prng';
import { SolverEstimate } from '../regularizers/base';
import { RegularizerSpec } from '../regularizers/registry';
import { InvalidArgumentError } from '../errors';
import { SdeSolveStats } from '../solvers/core/fields';
import { resolveOptions, SDE_SOLVE_OPTION_KEYS, SdeResolvedOptions, SdeSolveOptions } from '../solvers/options';
import { methodsWith, SdeMethod } from '../solvers/registry';
import { LayerArgs } from '../tfjs_internals';
import { checkTimeDependent, checkWarmStart, DELayer, DELayerStats, SolveInfo, splitLayerArgs } from './de_layer';
import { PathSeeds } from './path_seeds';
import { LayerStack, SerializedLayer } from './vector_field';

/** The options of `solveSDE` except `brownian` (tspan, solver, rtol, atol, dt0, dtmin, dtmax, maxSteps, saveat), plus: */
export interface NeuralSDEOptions extends Omit<SdeSolveOptions, 'brownian' | 'seed'> {
  /** Append t as an extra feature to the input of every drift and diffusion layer. Default false. */
  timeDependent?: boolean;
  /**
   * Start each training call where the previous training call's ramp ended (its first accepted step with E ≥ 0.1) instead of the
   * initial-step heuristic (which costs 1–2 NFE and may start with a step the controller must grow or cut).
   * Inference calls (predict, evaluate) always use the heuristic, so predictions do not depend on earlier calls.
   * Not with `dt0`. Default false.
   */
  warmStart?: boolean;
  /**
   * Integer seed in [0, 2^53 − 1] of the Brownian paths. With a seed, the calls of one synchronous
   * inference run (the pieces tfjs's `predict`/`evaluate` cut a batch into) get paths (seed, 0),
   * (seed, 1), ..., numbered afresh in each run, so `predict` is reproducible (also after save/load)
   * and every row has its own path; the k-th training call uses a path derived from (seed, k).
   * Without one, every call draws a fresh path.
   */
  seed?: number;
}

export interface NeuralSDEArgs extends NeuralSDEOptions, LayerArgs {
  /** The drift f: tfjs layers applied in order; must map the state shape to itself. */
  drift: (tfl.layers.Layer | SerializedLayer)[];
  /** The diagonal diffusion g: tfjs layers applied in order; must map the state shape to itself. */
  diffusion: (tfl.layers.Layer | SerializedLayer)[];
  /** Solver-heuristic regularizers, as for NeuralODE (`stiffness` needs `solver: 'sosri2'`). */
  regularizers?: RegularizerSpec[];
  /**
   * Training calls already made (the k of the next derived path seed). `getConfig` saves it, so that
   * training resumed after save/load continues the sequence of paths instead of replaying it. Default 0.
   */
  trainingCalls?: number;
}

/** The last forward solve of a NeuralSDE layer: `nfe` counts drift evaluations, `nfeDiffusion` diffusion ones. */
export type NeuralSDEStats = DELayerStats & {
  nfeDiffusion: number;
  /** Diffusion evaluations of the last backward pass (0 before any gradient); `nfeBackward` counts the drift's. */
  nfeDiffusionBackward: number;
};

/** The layer's options: the SDE solver's (a layer draws its own paths, so no `brownian`) and `timeDependent`. */
const OPTION_KEYS: readonly string[] = [...SDE_SOLVE_OPTION_KEYS.filter((k) => k !== 'brownian'), 'timeDependent', 'warmStart'];
const OWN_KEYS: readonly string[] = [...OPTION_KEYS, 'drift', 'diffusion', 'regularizers', 'customObjects', 'trainingCalls'];

export { derivedSeed } from './path_seeds';

export class NeuralSDE extends DELayer<SdeCallArg> {
  static className = 'NeuralSDE';

  readonly options: Readonly<NeuralSDEOptions>;
  private readonly resolved: SdeResolvedOptions;
  private readonly method: SdeMethod;
  readonly drift: LayerStack;
  readonly diffusion: LayerStack;
  /** The seed given (undefined: fresh random paths). */
  readonly seed: number | undefined;
  private readonly paths: PathSeeds;
  /** The seed of the last call's path (for `lastPathSeed`). */
  private pathSeed = 0;

  constructor(args: NeuralSDEArgs & { customObjects?: tf.serialization.ConfigDict }) {
    const { layerArgs, own } = splitLayerArgs('NeuralSDE', args, OWN_KEYS);
    const { drift, diffusion, customObjects, regularizers, timeDependent, warmStart, seed, trainingCalls, ...solveOpts } = own;
    if (seed !== undefined && !isValidSeed(seed)) {
      throw new InvalidArgumentError(`NeuralSDE: option 'seed' must be an integer in [0, ${MAX_SEED}], got ${String(seed)}.`);
    }
    if (trainingCalls !== undefined && !(Number.isSafeInteger(trainingCalls) && trainingCalls >= 0)) {
      throw new InvalidArgumentError(`NeuralSDE: option 'trainingCalls' must be an integer ≥ 0 (training calls already made), got ${String(trainingCalls)}.`);
    }
    const resolved = resolveOptions({ ...solveOpts, seed: seed ?? 0 }, 'sde');
    const method = resolved.method;
    const estimates: SolverEstimate[] = [];
    if (resolved.adaptive) estimates.push('error');
    if (method.estimates.stiffness) estimates.push('stiffness');
    const fixedSri = method.adaptive && !resolved.adaptive;
    super(layerArgs, regularizers, customObjects, {
      solver: resolved.solver,
      estimates,
      solversWith: (estimate) => methodsWith('sde', estimate),
      disabledBy: fixedSri ? { reason: "with 'adaptive: false' (fixed steps)", fix: "Drop 'adaptive: false'" } : undefined,
    });
    checkTimeDependent(timeDependent);
    this.warmStart = checkWarmStart(warmStart, solveOpts.dt0);
    this.resolved = resolved;
    this.method = method;
    this.seed = seed;
    this.paths = new PathSeeds(seed);
    this.paths.trainingCalls = trainingCalls ?? 0;
    const options: NeuralSDEOptions = { ...solveOpts };
    if (timeDependent !== undefined) options.timeDependent = timeDependent;
    if (warmStart !== undefined) options.warmStart = warmStart;
    if (seed !== undefined) options.seed = seed;
    this.options = Object.freeze(options);
    this.drift = new LayerStack(drift, timeDependent ?? false, customObjects, 'drift', 'NeuralSDE');
    this.diffusion = new LayerStack(diffusion, timeDependent ?? false, customObjects, 'diffusion', 'NeuralSDE');
    this.drift.claim(`NeuralSDE layer '${this.name}'`);
    this.diffusion.claim(`NeuralSDE layer '${this.name}'`);
  }

  protected stacks(): LayerStack[] {
    return this.drift && this.diffusion ? [this.drift, this.diffusion] : [];
  }

  protected get solveInfo(): SolveInfo {
    const r = this.resolved;
    return { t0: r.t0, t1: r.t1, saveat: r.saveat, stabilitySize: this.method.stabilitySize, hasStiffness: this.method.estimates.stiffness };
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const features = this.stateFeatures(inputShape);
    this.drift.build(features, 'The drift');
    try {
      this.diffusion.build(features, 'The diffusion (diagonal noise: one coefficient per state element)');
    } catch (e) {
      this.drift.unbuild();
      throw e;
    }
    this.features = features;
    const system = sdeSystem(
      (t, y) => this.drift.call(t, y),
      (t, y) => this.diffusion.call(t, y),
      this.resolved,
    );
    this.installOp(discreteAdjointOp(system, this.resolved, this.record));
  }

  protected override callArg(training: boolean): SdeCallArg {
    this.pathSeed = this.paths.next(training);
    // only a training call has a reverse pass: only it records its increments
    return { seed: this.pathSeed, record: training };
  }

  /** Training calls so far (the k of the derived seeds). */
  get trainingCalls(): number {
    return this.paths.trainingCalls;
  }

  set trainingCalls(k: number) {
    this.paths.trainingCalls = k;
  }

  /**
   * Makes the next inference call use the seed's first path again, as the first call after an
   * `await` does: for two `predict` calls in one synchronous block that must return the same values.
   */
  restartPaths(): void {
    this.paths.restartInference();
  }

  /** The seed of the Brownian path of the last call. */
  get lastPathSeed(): number {
    return this.pathSeed;
  }

  override get lastStats(): NeuralSDEStats | null {
    const s = super.lastStats;
    if (!s) return null;
    const backward = this.record.backward as SdeSolveStats | undefined;
    return { ...s, nfeDiffusion: (this.record.forward as SdeSolveStats).nfeDiffusion, nfeDiffusionBackward: backward?.nfeDiffusion ?? 0 };
  }

  /** The resolved solver options in force (tolerances, tspan, ...). */
  get solverOptions(): Readonly<SdeResolvedOptions> {
    return this.resolved;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      drift: this.drift.serialize(),
      diffusion: this.diffusion.serialize(),
      ...this.sharedConfig(this.resolved, this.options, this.drift.timeDependent),
      seed: this.seed ?? null,
      saveatMode: this.resolved.saveatMode,
      adaptive: this.options.adaptive ?? null,
      delta: this.options.delta ?? null,
      qmax: this.options.qmax ?? null,
      trainingCalls: this.trainingCalls,
    };
  }
}
tf.serialization.registerClass(NeuralSDE);

/** Factory in the style of `tf.layers.*`. */
export function neuralSDE(args: NeuralSDEArgs): NeuralSDE {
  return new NeuralSDE(args);
}
