/**
 * `solve(f, y0, options)`: the tensor-level ODE solver.
 *
 * The state is a float32 tensor of any rank (batch first by convention); time and step sizes are
 * float64 JS numbers. The error norm is one RMS over all elements, so a whole batch shares one
 * step-size sequence (as in OrdinaryDiffEq and torchdiffeq).
 */
import * as tf from '@tensorflow/tfjs-core';
import { chooseArithmetic } from './arithmetic';
import { InvalidArgumentError } from '../errors';
import { SolverError } from './errors';
import { integrate, IntegrateResult, SolveResult } from './integrate';
import { resolveOptions, ResolvedOptions, SolveOptions } from './options';
import { getTableau } from './registry';
import { rkStepper } from './rk_stepper';
import { emptyStats, SolveStats } from './stats';
import { VectorField } from './stepper';

export function checkState(y0: unknown, what = 'y0'): tf.Tensor {
  if (!(y0 instanceof tf.Tensor)) throw new InvalidArgumentError(`${what} must be a tf.Tensor, got ${typeof y0}.`);
  if (y0.isDisposed) throw new InvalidArgumentError(`${what} has been disposed.`);
  if (y0.dtype !== 'float32') throw new InvalidArgumentError(`${what} must have dtype float32, got ${y0.dtype}: cast it with tf.cast(y0, 'float32').`);
  if (y0.rank < 1 || y0.size === 0) throw new InvalidArgumentError(`${what} must be a non-empty tensor of rank ≥ 1, got shape [${y0.shape}].`);
  return y0;
}

/** Wraps `f` to count evaluations into `stats.nfe` and check what it returns. */
export function countedVectorField(f: VectorField, stats: SolveStats): VectorField {
  if (typeof f !== 'function') throw new InvalidArgumentError(`The vector field must be a function f(t, y), got ${typeof f}.`);
  return (t, y) => {
    stats.nfe++;
    const out = f(t, y);
    if (!(out instanceof tf.Tensor)) {
      throw new SolverError('bad_derivative', `The vector field returned ${typeof out}, not a tf.Tensor`, stats, t);
    }
    if (out.dtype !== 'float32' || !tf.util.arraysEqual(out.shape, y.shape)) {
      const msg = `The vector field returned a ${out.dtype} tensor of shape [${out.shape}] for a state of shape [${y.shape}]: f(t, y) must return a float32 tensor shaped like y`;
      if (out !== y) out.dispose();
      throw new SolverError('bad_derivative', msg, stats, t);
    }
    // The loop disposes stage values; never hand it a tensor it does not own.
    return out === y ? tf.clone(out) : out;
  };
}

/** Internal: solve with resolved options. */
export function solveResolved(f: VectorField, y0: tf.Tensor, o: ResolvedOptions): IntegrateResult {
  const stats = emptyStats();
  const stepper = rkStepper(getTableau(o.solver), chooseArithmetic(o.arithmetic, y0.size));
  return integrate(stepper, countedVectorField(f, stats), y0, o, stats);
}

/**
 * Solve dy/dt = f(t, y), y(t0) = y0.
 *
 * Returns the states at `options.saveat` (or at t1) and the solve's statistics. By default the
 * saveat states come from the method's dense output inside the accepted steps (`saveatMode`), so
 * they cost no extra steps; the solve covers the whole tspan either way. The returned
 * tensors are new; `y0` is neither modified nor disposed. Throws `InvalidArgumentError` for bad
 * options and `SolverError` (with `.stats`) when the solve fails; nothing is leaked either way.
 */
export function solve(f: VectorField, y0: tf.Tensor, options: SolveOptions = {}): SolveResult {
  checkState(y0);
  const o = resolveOptions(options);
  const { ys, ts, stats } = solveResolved(f, y0, o);
  return { ys, ts, stats };
}
