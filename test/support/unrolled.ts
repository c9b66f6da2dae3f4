/**
 * The autodiff reference of the gradient tests: a solve over frozen accepted steps recomputed with
 * `rkStepTensor` (tfjs ops only), with the outputs taken where the solver takes them — the end
 * state of a step when an output time is a step end, the step's dense output (interpolant of its
 * stages) when the time lies strictly inside a step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RkStepTensorResult, rkStepTensor } from '../../src/solvers/rk/stepper';
import { ReplayWants, Tolerances, VectorField } from '../../src/solvers/core/stepper';
import { ButcherTableau } from '../../src/solvers/rk/tableau';

/** The accepted steps of a solve: start times and signed sizes; `end` is where the last one ends. */
export interface FrozenSteps {
  readonly t: readonly number[];
  readonly dt: readonly number[];
  readonly end: number;
}

/** Where step j ends: where step j + 1 starts, or `end` for the last one. */
export function stepEnd(steps: FrozenSteps, j: number): number {
  return j + 1 < steps.t.length ? steps.t[j + 1] : steps.end;
}

/** The output times strictly inside step j, as fractions θ of it. */
export function thetasInside(steps: FrozenSteps, j: number, outTimes: readonly number[]): number[] {
  const t = steps.t[j];
  const e = stepEnd(steps, j);
  const dir = Math.sign(steps.dt[j]);
  return outTimes.filter((s) => (s - t) * dir > 0 && (s - e) * dir < 0).map((s) => (s - t) / steps.dt[j]);
}

/**
 * Unrolls the frozen steps from `x` (at time `t0`) and returns the states at `outTimes` (in time
 * order) and every step's result (with the estimates `want` asks for).
 */
export function unrolledSolve(
  tab: ButcherTableau,
  f: VectorField,
  steps: FrozenSteps,
  x: tf.Tensor,
  t0: number,
  outTimes: readonly number[],
  tol: Tolerances,
  want: ReplayWants = {},
): { outs: tf.Tensor[]; results: RkStepTensorResult[] } {
  const outs: tf.Tensor[] = outTimes.filter((s) => s === t0).map(() => x);
  const results: RkStepTensorResult[] = [];
  let y = x;
  steps.dt.forEach((dt, j) => {
    const thetas = thetasInside(steps, j, outTimes);
    const r = rkStepTensor(tab, f, steps.t[j], y, dt, tol, { ...want, thetas });
    results.push(r);
    outs.push(...(r.dense ?? []));
    y = r.y1;
    if (outTimes.includes(stepEnd(steps, j))) outs.push(y);
  });
  if (outs.length !== outTimes.length) throw new Error(`unrolledSolve: ${outs.length} outputs for ${outTimes.length} times`);
  return { outs, results };
}
