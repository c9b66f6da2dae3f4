/**
 * The integration loop: the one place that walks from t0 to t1, clips steps to output times or
 * evaluates the dense output at them, asks the controller to accept or reject, records statistics
 * and reports failures.
 * It works for any `Stepper` (ODE or SDE) and owns every tensor it creates: on success the caller
 * receives exactly the returned tensors; on failure nothing is left allocated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ControllerSettings, PIController } from './controller';
import { SolverError } from './errors';
import { OutputRecorder } from './outputs';
import { SolveStats } from './stats';
import { StepAttempt, Stepper } from './stepper';

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
  /** For each output, the index of the accepted step it comes from (−1: the initial state). */
  outputStep: number[];
  /**
   * For each output, the fraction θ of its step at which the step's dense output gave it; 1: the
   * step's end state itself (always so in 'step' mode).
   */
  outputTheta: number[];
}

/**
 * How the states at `saveat` are produced:
 * - 'interpolate': the solver steps freely and evaluates the method's dense output (its continuous extension:
 *   Tsit5's free interpolant, DP5's dense output, BS3's Hermite interpolant; linear between states for SDE
 *   methods) at every output time inside an accepted step: no extra steps, no extra NFE.
 * - 'step': every output time is a step end (the step before it is shortened to land on it).
 */
export type SaveatMode = 'interpolate' | 'step';

/** What the loop reads from a solve's resolved options (the method and its arithmetic come with the stepper). */
export interface LoopOptions {
  readonly t0: number;
  readonly t1: number;
  readonly direction: 1 | -1;
  /** Initial step magnitude (undefined: the stepper's heuristic). */
  readonly dt0: number | undefined;
  readonly dtmin: number;
  readonly maxSteps: number;
  readonly saveat: number[] | undefined;
  readonly saveatMode: SaveatMode;
  /** The controller's settings: tolerances (the error norm), dtmax, exponents and growth limits. */
  readonly controller: ControllerSettings;
  /** Which optional per-step estimates the steps compute (the error estimate is always computed). */
  readonly estimates?: { readonly stiffness: boolean };
  /** Times to step exactly onto without returning the state there (e.g. a sampled regularization time). */
  readonly tstops?: readonly number[];
  /**
   * End the solve at the last `saveat` time instead of t1 (nothing needs the steps after it: no regularizer
   * reads their estimates). Ignored without `saveat`.
   */
  readonly stopAtLastOutput?: boolean;
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
  const recent = stats.dt
    .slice(-n)
    .map(Math.abs)
    .sort((a, b) => a - b);
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

/** Frees what a rejected attempt produced. */
function discard<S>(stepper: Stepper<unknown, S>, attempt: StepAttempt<S>): void {
  attempt.y1.dispose();
  if (attempt.dense) tf.dispose(attempt.dense);
  stepper.disposeState(attempt.state);
}

/**
 * Integrate with `stepper` from `y0` (not modified, not disposed). `stats` is filled in place; the
 * term is expected to count its own evaluations into `stats.nfe`.
 *
 * Output times: with `saveatMode: 'interpolate'` and a stepper with a dense output, steps are
 * taken as without saveat and each output time inside an accepted step is evaluated from that
 * step's stages; otherwise ('step', SDE steppers) every output time is a step end. `tstops` and
 * the end time are always step ends. With `stopAtLastOutput` the solve ends at the last saveat time.
 */
export function integrate<Term, S>(
  stepper: Stepper<Term, S>,
  term: Term,
  y0: tf.Tensor,
  o: LoopOptions,
  stats: SolveStats,
  keepStepStates = false,
): IntegrateResult {
  const { t0, t1, direction } = o;
  const controller = new PIController(o.controller);
  const tol = controller.tolerances;
  const dtmax = o.controller.dtmax;
  const saveat = o.saveat;
  const tEnd = saveat && o.stopAtLastOutput ? saveat[saveat.length - 1] : t1;
  const interpolate = saveat !== undefined && o.saveatMode === 'interpolate' && stepper.denseOutput === true;
  const wantStiffness = o.estimates?.stiffness === true;
  let t = t0;
  let y: tf.Tensor | null = null;
  let state: S | null = null;
  const outputs = new OutputRecorder(saveat ?? [t1], direction);
  const stepStates: tf.Tensor[] = [];
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
    let dt = o.dt0 ?? stepper.initialStep(term, t0, y0, init.f0, direction, tol, o.dtmin, dtmax);
    dt = Math.min(dt, dtmax);
    stats.dtInitial = direction * dt;

    // Step ends the loop must land on: tstops, the end time and (unless interpolated) saveat times.
    const inside = (s: number): boolean => (s - t0) * direction > 0 && (s - tEnd) * direction < 0;
    const targets = [...new Set([...(interpolate ? [] : (saveat ?? [])), ...(o.tstops ?? [])].filter(inside))].sort((a, b) => (a - b) * direction);
    if (tEnd !== t0) targets.push(tEnd);
    outputs.start(t0, y0);
    y = tf.clone(y0);

    for (const target of targets) {
      while (t !== target) {
        if (stats.nSteps >= o.maxSteps) {
          fail(
            'max_steps',
            `Reached maxSteps=${o.maxSteps} attempted steps before t1=${tEnd}. Increase 'maxSteps', loosen 'rtol'/'atol', or regularize the dynamics (errorEstimate/stiffness regularizers) so they need fewer steps.${hint()}`,
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
        const tNew = clipped ? target : t + h;
        const thetas = interpolate ? outputs.thetasInside(t, h, tNew) : [];
        const attempt = stepper.step(term, t, y, h, state as S, tol, { thetas, stiffness: wantStiffness });
        stats.nSteps++;
        let accept: boolean;
        let dtNext = dt;
        if (stepper.adaptive) {
          ({ accept, dtNext } = controller.decide(attempt.error, Math.abs(h), clipped && Math.abs(h) < dt));
        } else {
          accept = Number.isFinite(attempt.error);
          if (!accept) {
            discard(stepper, attempt);
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
          outputs.accept(stats.nAccepted - 1, tNew, y, thetas, attempt.dense ?? []);
          t = tNew;
          nonFiniteRejects = 0;
        } else {
          stats.nRejected++;
          discard(stepper, attempt);
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
    }
    if (!outputs.complete) throw new Error(`internal: the solve ended at t=${t} before the output time ${outputs.lastTime}`);
    y.dispose();
    y = null;
    const { ys, ts, sources } = outputs;
    return { ys, ts, stats, stepStates, outputStep: sources.map((s) => s.step), outputTheta: sources.map((s) => s.theta) };
  } catch (e) {
    y?.dispose();
    outputs.dispose();
    stepStates.forEach((x) => x.dispose());
    throw e;
  } finally {
    if (state !== null) stepper.disposeState(state);
  }
}
