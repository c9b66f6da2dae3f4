/**
 * `solve(f, y0, options)`: the tensor-level ODE solver, and the one entry point both kinds run through
 * (`stepperFor`: the method's stepper, tuned by the options, on the one loop, `integrate`).
 *
 * The state is a float32 tensor of any rank (batch first by convention); time and step sizes are
 * float64 JS numbers. The error norm is one RMS over all elements, so a whole batch shares one
 * step-size sequence (as in OrdinaryDiffEq and torchdiffeq).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors';
import { chooseArithmetic } from './core/arithmetic';
import { countedField } from './core/fields';
import { integrate, IntegrateResult, SolveResult } from './core/integrate';
import { Method } from './core/method';
import { emptyStats } from './core/stats';
import { Stepper, VectorField } from './core/stepper';
import { resolveOptions, ResolvedOptions, SdeResolvedOptions, SolveOptions } from './options';

export function checkState(y0: unknown, what = 'y0'): tf.Tensor {
  if (!(y0 instanceof tf.Tensor)) throw new InvalidArgumentError(`${what} must be a tf.Tensor, got ${typeof y0}.`);
  if (y0.isDisposed) throw new InvalidArgumentError(`${what} has been disposed.`);
  if (y0.dtype !== 'float32') throw new InvalidArgumentError(`${what} must have dtype float32, got ${y0.dtype}: cast it with tf.cast(y0, 'float32').`);
  if (y0.rank < 1 || y0.size === 0) throw new InvalidArgumentError(`${what} must be a non-empty tensor of rank ≥ 1, got shape [${y0.shape}].`);
  return y0;
}

/**
 * The stepper of one solve: the resolved method's, tuned by the options (where its arithmetic runs, δ, fixed
 * steps). ODE and SDE solves, and the discrete adjoint's forward and reverse passes, all get theirs here.
 */
export function stepperFor<Term, S>(method: Method<Term, S>, o: ResolvedOptions | SdeResolvedOptions, stateSize: number): Stepper<Term, S> {
  const arithmetic = chooseArithmetic(o.kind === 'ode' ? o.arithmetic : 'auto', stateSize);
  return method.stepper({ arithmetic, delta: o.kind === 'sde' ? o.delta : undefined, adaptive: o.adaptive });
}

/** Internal: solve with resolved options. */
export function solveResolved(f: VectorField, y0: tf.Tensor, o: ResolvedOptions, keepStepStates = false): IntegrateResult {
  const stats = emptyStats();
  return integrate(stepperFor(o.method, o, y0.size), countedField(f, 'field', stats), y0, o, stats, keepStepStates);
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
