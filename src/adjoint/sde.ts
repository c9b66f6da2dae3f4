/**
 * The discrete adjoint for Itô SDEs with diagonal noise: the system the packed op steps (`sdeSystem`, shared by the
 * NeuralSDE layer) and the tensor-level op for a drift and a diffusion written with tf ops
 * (`discreteAdjointSDE`), as `discreteAdjoint` is for ODEs. A forward call records the increments each accepted
 * step used, so its reverse pass replays the steps on exactly that noise without querying the path again.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors';
import { BrownianTree } from '../noise/brownian';
import { BrownianPath, isBrownianPath } from '../noise/path';
import { countedField, SdeSolveStats } from '../solvers/core/fields';
import { randomSeed, resolveOptions, SdeResolvedOptions, SdeSolveOptions } from '../solvers/options';
import { checkState, stepperFor } from '../solvers/solve';
import { emptySdeStats } from '../solvers/solve_sde';
import { SdeTerm, StepNoiseRecord } from '../solvers/sri/stepper';
import { AdjointRecord, AdjointSystem, discreteAdjointOp, ParametricField, unpack } from './discrete';

/** What each call of an SDE op is given: its Brownian path (or the seed to draw one) and whether to record the noise. */
export interface SdeCallArg {
  /** Seed of the path to draw over tspan with the state's shape (ignored when `brownian` is given). */
  readonly seed: number;
  /** A path to use as is (it must have the state's shape and cover tspan). */
  readonly brownian?: BrownianPath;
  /** Keep each step's increments for the reverse pass (two state-sized float32 arrays per step). */
  readonly record: boolean;
}

/** A call's noise: its Brownian path and, when recorded, the increments its steps used. */
export interface CallNoise {
  readonly path: BrownianPath;
  readonly record: StepNoiseRecord | undefined;
}

/**
 * The SDE dy = drift(t, y, params) dt + diffusion(t, y, params) ⊙ dW as the discrete adjoint sees it; its per-call
 * context is the call's noise.
 */
export function sdeSystem(drift: ParametricField, diffusion: ParametricField, o: SdeResolvedOptions): AdjointSystem<SdeTerm, CallNoise, SdeCallArg> {
  return {
    stepper: (x) => stepperFor(o.method, o, x.size),
    begin: (x, { seed, brownian, record }) => {
      if (brownian && !tf.util.arraysEqual(brownian.shape, x.shape)) {
        throw new InvalidArgumentError(
          `The Brownian path has shape [${brownian.shape}] but the state has shape [${x.shape}]: build it with shape: x.shape (one Wiener process per state element).`,
        );
      }
      return {
        path: brownian ?? new BrownianTree({ seed, t0: o.t0, t1: o.t1, shape: x.shape.slice() }),
        record: record ? new StepNoiseRecord() : undefined,
      };
    },
    newStats: emptySdeStats,
    term: (noise, params, stats) => ({
      drift: countedField((t, y) => drift(t, y, params), 'drift', stats),
      diffusion: countedField((t, y) => diffusion(t, y, params), 'diffusion', stats as SdeSolveStats),
      brownian: noise.path,
      noise: noise.record,
    }),
  };
}

/** The op built by `discreteAdjointSDE`. */
export interface DiscreteAdjointSDE {
  /**
   * Solves from `x` with the given parameters on the op's path (the `brownian` option; else one drawn from `seed`,
   * the same for every call; else a fresh random path per call); returns the state at t1 or, with `saveat`, the
   * states stacked on a new first axis. Gradients with respect to `x` and every parameter come from the discrete
   * adjoint on the same increments.
   */
  op: (x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;
  /** Like `op`, on the given Brownian path (shaped like `x`, covering tspan), e.g. to share one path across calls. */
  opWithPath: (brownian: BrownianPath, x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;
  /** The path of the last call (read W and the Lévy area over any interval with `increment(s, u)`). */
  readonly lastPath: BrownianPath | null;
  /** Statistics of the last forward solve (`nfeDiffusion` too) and of the last backward pass. */
  record: AdjointRecord;
}

/**
 * The discrete adjoint as an op for an Itô SDE with diagonal noise whose drift and diffusion are written with tf ops:
 * `drift(t, y, params)` and `diffusion(t, y, params)` (shaped like y) must use `params` for their gradients to reach
 * them. Takes the options of `solveSDE` (tspan, solver, rtol, atol, dt0, saveat, seed, brownian, ...).
 *
 * ```ts
 * const sde = discreteAdjointSDE((t, y, [W]) => tf.tanh(tf.matMul(y, W)), (t, y, [, s]) => tf.mul(tf.sigmoid(y), s), { seed: 1 });
 * const [dx, dW, ds] = tf.grads((x, W, s) => tf.sum(sde.op(x, W, s)))([x, W, s]);
 * ```
 */
export function discreteAdjointSDE(drift: ParametricField, diffusion: ParametricField, options: SdeSolveOptions = {}): DiscreteAdjointSDE {
  for (const [name, fn] of [
    ['drift', drift],
    ['diffusion', diffusion],
  ] as const) {
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError(
        `discreteAdjointSDE(drift, diffusion, options): ${name} must be a function (t, y, params) => tf.Tensor, got ${typeof fn}.`,
      );
    }
  }
  const resolved = resolveOptions(options, 'sde');
  const fixedSeed = options.seed !== undefined;
  const packedOp = discreteAdjointOp(sdeSystem(drift, diffusion, resolved), resolved);
  let lastPath: BrownianPath | null = null;
  const run = (brownian: BrownianPath | undefined, x: tf.Tensor, params: tf.Tensor[]): tf.Tensor => {
    checkState(x, 'x');
    const seed = fixedSeed ? resolved.seed : randomSeed();
    const path = brownian ?? resolved.brownian ?? new BrownianTree({ seed, t0: resolved.t0, t1: resolved.t1, shape: x.shape.slice() });
    return tf.tidy(() => {
      const packed = packedOp.op({ arg: { seed, brownian: path, record: true } }, x, ...params);
      lastPath = path;
      const { states } = unpack(packed, packedOp.lastLayout(), x.shape);
      return resolved.saveat ? tf.stack(states) : states[0];
    });
  };
  return {
    op: (x, ...params) => run(undefined, x, params),
    opWithPath: (brownian, x, ...params) => {
      if (!isBrownianPath(brownian)) {
        throw new InvalidArgumentError(
          `opWithPath(brownian, x, ...params): brownian must be a Brownian path (brownianInterval({seed, t0, t1, shape}) or brownianTree({...})).`,
        );
      }
      if (brownian.t0 > resolved.t0 || brownian.t1 < resolved.t1) {
        throw new InvalidArgumentError(
          `The Brownian path covers [${brownian.t0}, ${brownian.t1}], which does not contain tspan [${resolved.t0}, ${resolved.t1}].`,
        );
      }
      return run(brownian, x, params);
    },
    get lastPath() {
      return lastPath;
    },
    record: packedOp.record,
  };
}
