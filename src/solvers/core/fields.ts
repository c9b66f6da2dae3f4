/**
 * The functions a solve evaluates (the ODE vector field; the SDE drift and diffusion), wrapped to count their
 * evaluations into the statistics and to check what they return, with an error that names the function and the
 * fix. The loop and the steps then own every tensor a field returns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../errors';
import { SolverError } from './errors';
import { SolveStats } from './stats';
import { VectorField } from './stepper';

/** Statistics of an SDE solve: `nfe` counts drift evaluations (the paper's NFE), `nfeDiffusion` diffusion ones. */
export interface SdeSolveStats extends SolveStats {
  nfeDiffusion: number;
}

const ROLES = {
  field: { counter: 'nfe', call: 'vector field', fix: 'f(t, y) must return a float32 tensor shaped like y' },
  drift: { counter: 'nfe', call: 'drift f(t, y)', fix: 'f(t, y) must return a float32 tensor shaped like y' },
  diffusion: {
    counter: 'nfeDiffusion',
    call: 'diffusion g(t, y)',
    fix: 'diagonal noise: g(t, y) must return a float32 tensor shaped like y (one coefficient per state element)',
  },
} as const;

/** Which function a field is: an ODE's vector field, or an SDE's drift or diffusion. */
export type FieldRole = keyof typeof ROLES;

/**
 * Wraps `fn` to count its evaluations into `stats` (`nfe`, or `nfeDiffusion` for a diffusion) and to check what it
 * returns (a float32 tensor shaped like y; otherwise `SolverError('bad_derivative')` naming the function).
 */
export function countedField(fn: VectorField, role: 'field' | 'drift', stats: SolveStats): VectorField;
export function countedField(fn: VectorField, role: FieldRole, stats: SdeSolveStats): VectorField;
export function countedField(fn: VectorField, role: FieldRole, stats: SolveStats & Partial<SdeSolveStats>): VectorField {
  const { counter, call, fix } = ROLES[role];
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`The ${call} must be a function of (t, y) returning a tensor, got ${typeof fn}.`);
  }
  return (t, y) => {
    stats[counter] = (stats[counter] ?? 0) + 1;
    const out = fn(t, y);
    if (!(out instanceof tf.Tensor)) {
      throw new SolverError('bad_derivative', `The ${call} returned ${typeof out}, not a tf.Tensor: ${fix}`, stats, t);
    }
    if (out.dtype !== 'float32' || !tf.util.arraysEqual(out.shape, y.shape)) {
      const msg = `The ${call} returned a ${out.dtype} tensor of shape [${out.shape}] for a state of shape [${y.shape}]: ${fix}`;
      if (out !== y) out.dispose();
      throw new SolverError('bad_derivative', msg, stats, t);
    }
    // The steps dispose stage values; never hand them a tensor they do not own.
    return out === y ? tf.clone(out) : out;
  };
}
