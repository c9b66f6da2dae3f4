/**
 * The integration loop: the one place that walks from t0 to t1, clips steps to saveat times,
 * asks the controller to accept or reject, records statistics and reports failures.
 * It works for any `Stepper` (ODE or SDE) and owns every tensor it creates: on success the caller
 * receives exactly the returned tensors; on failure nothing is left allocated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PIController } from './controller';
import { SolverError } from './errors';
import { ResolvedOptions } from './options';
import { SolveStats } from './stats';
import { Stepper } from './stepper';

export interface SolveResult {
  /** States at `ts`, one tensor per time, each shaped like y0. */
  ys: tf.Tensor[];
  /** The saveat times, or [t1]. */
  ts: number[];
  stats: SolveStats;
}

export interface IntegrateResult extends SolveResult {
  /** State at the start of every accepted step (only with `keepStepStates`); owned by the caller. */
  stepStates: tf.Tensor[];
  /** For each output, the index of the accepted step it ends (−1: the initial state). */
  outputStep: number[];
}

const SNAP = 1e-9;

/**
 * Consecutive attempts with a non-finite error estimate after which the solve fails instead of
 * shrinking the step further: each shrinks dt by the controller's qmin (×0.2), so 10 of them have
 * already cut the step by ~10^7 without finding a finite state.
 */
export const MAX_NON_FINITE_REJECTS = 10;

/** Accepted steps looked at to decide whether a failing solve is limited by stability. */
const STIFFNESS_WINDOW = 20;

/**
 * A sentence saying that the problem looks stiff, when the last accepted steps sat near the edge of
 * the method's stability region (|dt|·S ≥ half its size, with S the stepper's float32-robust
 * estimate at the current state and |dt| the median of the last accepted steps); '' otherwise.
 */
function stiffnessDiagnosis(stats: SolveStats, stabilitySize: number | undefined, stiffnessNow: () => number): string {
  if (!stabilitySize || stats.dt.length === 0) return '';
  const n = Math.min(STIFFNESS_WINDOW, stats.dt.length);
  const recent = stats.dt.slice(-n).map(Math.abs).sort((a, b) => a - b);
  const dt = recent[Math.floor(n / 2)];
  // The diagnostic step is not part of the solve: its evaluations are not counted in stats.nfe.
  const nfe = stats.nfe;
  let S: number;
  try {
    S = stiffnessNow();
  } catch {
    return '';
  } finally {
    stats.nfe = nfe;
  }
  const product = S * dt;
  if (!(product >= 0.5 * stabilitySize)) return '';
  return ` The problem looks stiff: the stiffness estimate is ${S.toPrecision(3)} and the median of the last ${n} accepted step sizes ${dt.toPrecision(3)}, so |dt|·S = ${product.toPrecision(3)} sits at this method's stability limit (${stabilitySize}): the step size is limited by stability, not accuracy, and an explicit solver needs very many steps. Shorten or rescale tspan, or train with the stiffness regularizer so the learned dynamics stay non-stiff.`;
}

/**
 * Integrate with `stepper` from `y0` (not modified, not disposed). `stats` is filled in place; the
 * term is expected to count its own evaluations into `stats.nfe`.
 */
export function integrate<Term, S>(
  stepper: Stepper<Term, S>,
  term: Term,
  y0: tf.Tensor,
  o: ResolvedOptions,
  stats: SolveStats,
  keepStepStates = false,
): IntegrateResult {
  const { t0, t1, direction } = o;
  const tol = { atol: o.atol, rtol: o.rtol };
  let t = t0;
  let y: tf.Tensor | null = null;
  let state: S | null = null;
  const ys: tf.Tensor[] = [];
  const ts: number[] = [];
  const stepStates: tf.Tensor[] = [];
  const outputStep: number[] = [];
  let nonFiniteRejects = 0;
  const fail = (code: SolverError['code'], msg: string): never => {
    throw new SolverError(code, msg, stats, t);
  };
  const hint = (): string =>
    (nonFiniteRejects > 0
      ? ` The last ${nonFiniteRejects} attempted step(s) produced a non-finite (NaN/Inf) error estimate: the state or the vector field blows up near this time.`
      : '') +
    (y && state !== null && stepper.diagnoseStiffness
      ? stiffnessDiagnosis(stats, stepper.stabilitySize, () => stepper.diagnoseStiffness!(term, t, y!, stats.dt[stats.dt.length - 1] ?? 0, state as S))
      : '');

  try {
    if (!stepper.allFinite(y0)) fail('non_finite_state', 'The initial state contains NaN or Infinity: check the input data.');
    const init = stepper.init(term, t0, y0);
    state = init.state;
    if (init.f0 && !stepper.allFinite(init.f0)) {
      fail('non_finite_derivative', 'The vector field returned NaN or Infinity at the initial state: check its weights and inputs.');
    }
    let dt = o.dt0 ?? stepper.initialStep(term, t0, y0, init.f0, direction, tol, o.dtmin, o.dtmax);
    dt = Math.min(dt, o.dtmax);
    stats.dtInitial = direction * dt;
    const controller = new PIController({ ...stepper.controller, dtmax: o.dtmax });

    const saveat = o.saveat;
    const requested = new Set(saveat ?? []);
    const inside = (s: number): boolean => (s - t0) * direction > 0 && (s - t1) * direction < 0;
    const targets = [...new Set([...(saveat ?? [t1]), ...(o.tstops ?? []).filter(inside)])]
      .filter((s) => s !== t0)
      .sort((a, b) => (a - b) * direction);
    if (saveat && saveat[0] === t0) {
      ys.push(tf.clone(y0));
      ts.push(t0);
      outputStep.push(-1);
    }
    if (targets.length === 0 || targets[targets.length - 1] !== t1) targets.push(t1);
    y = tf.clone(y0);

    for (const target of targets) {
      while (t !== target) {
        if (stats.nSteps >= o.maxSteps) {
          fail(
            'max_steps',
            `Reached maxSteps=${o.maxSteps} attempted steps before t1=${t1}. Increase 'maxSteps', loosen 'rtol'/'atol', or regularize the dynamics (errorEstimate/stiffness regularizers) so they need fewer steps.${hint()}`,
          );
        }
        const remaining = target - t;
        const clipped = Math.abs(remaining) <= dt * (1 + SNAP);
        const h = clipped ? remaining : direction * dt;
        if (t + h === t || h === 0) {
          fail(
            'dt_underflow',
            `Step size underflow: dt=${h} no longer changes t. The dynamics are too stiff for an explicit solver at these tolerances: loosen 'rtol'/'atol', set 'dtmin' to stop earlier, or regularize the dynamics.${hint()}`,
          );
        }
        const attempt = stepper.step(term, t, y, h, state as S, tol);
        stats.nSteps++;
        let accept: boolean;
        let dtNext = dt;
        if (stepper.adaptive) {
          ({ accept, dtNext } = controller.decide(attempt.error, Math.abs(h)));
        } else {
          accept = Number.isFinite(attempt.error);
          if (!accept) {
            attempt.y1.dispose();
            stepper.disposeState(attempt.state);
            fail('non_finite_state', `The state became NaN or Infinity with the fixed step dt=${h}: use a smaller 'dt0' or an adaptive solver.`);
          }
        }
        if (accept) {
          stats.nAccepted++;
          stats.t.push(t);
          stats.dt.push(h);
          if (stepper.adaptive) stats.errorEstimate.push(attempt.error);
          if (attempt.stiffness !== undefined) stats.stiffnessEstimate.push(attempt.stiffness);
          if (keepStepStates) stepStates.push(y);
          else y.dispose();
          stepper.disposeState(state as S);
          y = attempt.y1;
          state = attempt.state;
          t = clipped ? target : t + h;
          nonFiniteRejects = 0;
        } else {
          stats.nRejected++;
          attempt.y1.dispose();
          stepper.disposeState(attempt.state);
          if (Number.isFinite(attempt.error)) nonFiniteRejects = 0;
          else if (++nonFiniteRejects >= MAX_NON_FINITE_REJECTS) {
            fail(
              'non_finite_state',
              `The last ${nonFiniteRejects} attempted steps all produced NaN or Infinity, although the step size was cut to ${Math.abs(h).toPrecision(3)}: the vector field or the state blows up here. Check the weights and inputs (e.g. lower the learning rate if this appears during training) or shorten tspan.`,
            );
          }
        }
        if (stepper.adaptive) {
          // A step shortened to land on a target says little about the step size the dynamics
          // allow: resume from the proposal made before the clip when that is larger (otherwise
          // every saveat time would shrink the steps after it). And only a controller that
          // shrinks below dtmin on its own is a failure.
          if (accept && clipped) dtNext = Math.max(dtNext, dt);
          if (dtNext < o.dtmin && (!accept || !clipped)) {
            fail(
              'dt_below_dtmin',
              `The step size controller asked for dt=${dtNext}, below dtmin=${o.dtmin}. The dynamics are stiff or blow up here: loosen 'rtol'/'atol', lower 'dtmin', or regularize the dynamics.${hint()}`,
            );
          }
          dt = dtNext;
        }
      }
      if (saveat && requested.has(target)) {
        ys.push(tf.clone(y));
        ts.push(target);
        outputStep.push(stats.nAccepted - 1);
      }
    }
    if (saveat) {
      y.dispose();
    } else {
      ys.push(y);
      ts.push(t1);
      outputStep.push(stats.nAccepted - 1);
    }
    y = null;
    return { ys, ts, stats, stepStates, outputStep };
  } catch (e) {
    y?.dispose();
    ys.forEach((x) => x.dispose());
    stepStates.forEach((x) => x.dispose());
    throw e;
  } finally {
    if (state !== null) stepper.disposeState(state);
  }
}
