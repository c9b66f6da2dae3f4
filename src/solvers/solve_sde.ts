/**
 * `solveSDE(f, g, y0, options)`: the tensor-level solver for Itô SDEs with diagonal noise,
 * dy = f(t, y) dt + g(t, y) ⊙ dW, on the one integration loop (`integrate`) shared with the ODE solver.
 *
 * The state is a float32 tensor of any rank (batch first by convention); each element has its own Wiener
 * process, drawn from a seeded Brownian tree (or a given one). Time and step sizes are float64 JS numbers;
 * the error norm is one RMS over all elements, so the whole batch shares one step-size sequence.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BrownianTree } from '../noise/brownian';
import { BrownianPath } from '../noise/path';
import { InvalidArgumentError } from '../errors';
import { countedField, SdeSolveStats } from './core/fields';
import { integrate, IntegrateResult } from './core/integrate';
import { emptyStats } from './core/stats';
import { VectorField } from './core/stepper';
import { resolveOptions, SdeResolvedOptions, SdeSolveOptions } from './options';
import { checkState, stepperFor } from './solve';
import { SdeTerm } from './sri/stepper';

export type { SdeSolveStats };

/** States at `ts` (one tensor per time, shaped like y0), the solve's statistics and its Brownian path. */
export interface SdeSolveResult {
  ys: tf.Tensor[];
  ts: number[];
  stats: SdeSolveStats;
  /** The path the solve used (the given one or the one drawn from the seed): W and H over any [s, u] by `increment(s, u)`. */
  brownian: BrownianPath;
}

/** What `solveSDEResolved` returns: the loop's result plus the Brownian path the solve used. */
export interface SdeIntegrateResult extends IntegrateResult {
  stats: SdeSolveStats;
  /** The path of this solve: accepted step j used `brownian.increment(stats.t[j], stats.t[j] + stats.dt[j])`. */
  brownian: BrownianPath;
}

/** A fresh statistics record with `nfeDiffusion`. */
export function emptySdeStats(): SdeSolveStats {
  return { ...emptyStats(), nfeDiffusion: 0 };
}

/** The path of a solve: the given tree (checked against y0's shape) or a new one from the seed over tspan. */
function brownianFor(o: SdeResolvedOptions, y0: tf.Tensor): BrownianPath {
  if (!o.brownian) return new BrownianTree({ seed: o.seed, t0: o.t0, t1: o.t1, shape: y0.shape.slice() });
  if (!tf.util.arraysEqual(o.brownian.shape, y0.shape)) {
    throw new InvalidArgumentError(
      `Option 'brownian' has shape [${o.brownian.shape}] but y0 has shape [${y0.shape}]: build the tree with shape: y0.shape (one Wiener process per state element).`,
    );
  }
  return o.brownian;
}

/**
 * Internal: solve with resolved options, optionally keeping the start state of every accepted step (for
 * the discrete adjoint, which replays accepted step j from `stepStates[j]`, `stats.t[j]`, `stats.dt[j]` and
 * the increments the returned `brownian` gives for that interval).
 */
export function solveSDEResolved(f: VectorField, g: VectorField, y0: tf.Tensor, o: SdeResolvedOptions, keepStepStates = false): SdeIntegrateResult {
  const stats = emptySdeStats();
  const term: SdeTerm = {
    drift: countedField(f, 'drift', stats),
    diffusion: countedField(g, 'diffusion', stats),
    brownian: brownianFor(o, y0),
  };
  const out = integrate(stepperFor(o.method, o, y0.size), term, y0, o, stats, keepStepStates);
  return { ...out, stats, brownian: term.brownian };
}

/**
 * Solve the Itô SDE dy = f(t, y) dt + g(t, y) ⊙ dW, y(t0) = y0, with diagonal noise (g shaped like y; each
 * element of the state has its own Wiener process).
 *
 * Returns the states at `options.saveat` (or at t1) and the statistics (`nfe`: drift evaluations,
 * `nfeDiffusion`: diffusion evaluations; per accepted step t, dt, error and stiffness estimates), and the Brownian path it used. The
 * returned tensors are new; `y0` is neither modified nor disposed. Throws `InvalidArgumentError` for bad
 * arguments and `SolverError` (with `.stats`) when the solve fails; nothing is leaked either way.
 */
export function solveSDE(f: VectorField, g: VectorField, y0: tf.Tensor, options: SdeSolveOptions = {}): SdeSolveResult {
  checkState(y0);
  const o = resolveOptions(options, 'sde');
  const { ys, ts, stats, brownian } = solveSDEResolved(f, g, y0, o);
  return { ys, ts, stats, brownian };
}
