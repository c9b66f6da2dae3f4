/** Explicit Runge–Kutta methods (any tableau) as a `Stepper` over a vector field. */
import * as tf from '@tensorflow/tfjs-core';
import { combineTensor, rmsTensor, StateArithmetic, Term } from '../core/arithmetic';
import { hairerInitialStep } from '../core/initial_step';
import { Interpolant, interpolantTerms } from './interpolant';
import { ReplayWants, Stepper, StepAttempt, StepRequest, Tolerances, VectorField } from '../core/stepper';
import { ButcherTableau } from './tableau';
import { interpolantFor } from './tableaus/interpolants';

/** Carried between steps: the derivative at the current state for FSAL methods. */
export interface RkState {
  readonly k1: tf.Tensor | null;
}

/** Stage arguments g_i, stage values k_i and the new state of one explicit RK step. */
export interface RkStages {
  readonly g: tf.Tensor[];
  readonly k: tf.Tensor[];
  readonly y1: tf.Tensor;
}

/**
 * Stage loop of one explicit RK step: g_1 = y, k_i = f(t + c_i·dt, g_i),
 * g_i = y + dt·Σ_j a_ij k_j, y1 = y + dt·Σ b_j k_j (= g_s for FSAL methods).
 * `k1`, if given, is f(t, y). Created tensors belong to the caller's tidy scope.
 */
export function rkStages(
  tab: ButcherTableau,
  arith: Pick<StateArithmetic, 'combine'>,
  f: VectorField,
  t: number,
  y: tf.Tensor,
  dt: number,
  k1: tf.Tensor | null,
): RkStages {
  const s = tab.stages;
  const g: tf.Tensor[] = [y];
  const k: tf.Tensor[] = [k1 ?? f(t, y)];
  for (let i = 1; i < s; i++) {
    const gi = arith.combine(
      y,
      tab.a[i].map((aij, j): Term => [dt * aij, k[j]]),
    );
    g.push(gi);
    k.push(f(t + tab.c[i] * dt, gi));
  }
  const y1 = tab.fsal
    ? g[s - 1]
    : arith.combine(
        y,
        tab.b.map((bj, j): Term => [dt * bj, k[j]]),
      );
  return { g, k, y1 };
}

/**
 * S = ‖k_q − k_p‖ / ‖g_q − g_p‖, or 0 when the denominator is at the level of float32 rounding
 * of the stage arguments (relative 1e-5 of ‖g_q‖): there the ratio is noise, and its gradient
 * (∝ 1/den²) would blow up training with the stiffness regularizer.
 */
export function stiffnessRatio(num: number, den: number, scale: () => number): number {
  if (!(den > 0) || !Number.isFinite(num)) return 0;
  if (den <= 1e-5 * scale()) return 0;
  return num / den;
}

/**
 * ‖Δk‖ / ‖Δg‖ over only the elements whose stage difference Δg is well above float32 rounding of
 * that element. Unlike `stiffnessRatio` (one RMS over the whole state), a stiff component that is
 * tiny next to the others (Robertson's y2 ≈ 4e-5 beside y1 ≈ 1) is not drowned in their rounding.
 */
export function elementwiseStiffness(gp: ArrayLike<number>, gq: ArrayLike<number>, kp: ArrayLike<number>, kq: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < gp.length; i++) {
    const dg = gq[i] - gp[i];
    if (!(Math.abs(dg) > 1e-5 * Math.max(Math.abs(gp[i]), Math.abs(gq[i])))) continue;
    const dk = kq[i] - kp[i];
    num += dk * dk;
    den += dg * dg;
  }
  return den > 0 && Number.isFinite(num) ? Math.sqrt(num / den) : 0;
}

/**
 * The dense output y + dt·Σ_i b_i(θ)·k_i of a step at each θ, from its stage values `k`. Throws
 * for a method without an interpolant. Created tensors belong to the caller's tidy scope.
 */
export function denseValues(
  interp: Interpolant | undefined,
  method: string,
  arith: Pick<StateArithmetic, 'combine'>,
  y: tf.Tensor,
  dt: number,
  k: readonly tf.Tensor[],
  thetas: readonly number[],
): tf.Tensor[] {
  if (thetas.length === 0) return [];
  if (!interp) throw new Error(`Solver '${method}' has no dense output: step onto the output times instead (saveatMode: 'step').`);
  return thetas.map((theta) => arith.combine(y, interpolantTerms(interp, theta, dt, k)));
}

/** The error terms dt·Σ bError_j k_j of a step (empty for fixed-step methods). */
export function errorTerms(tab: ButcherTableau, k: readonly tf.Tensor[], dt: number): Term[] {
  return (tab.bError ?? []).map((e, j): Term => [dt * e, k[j]]);
}

export function rkStepper(tab: ButcherTableau, arith: StateArithmetic): Stepper<VectorField, RkState> {
  const stiff = tab.stiffnessStages;
  const interp = interpolantFor(tab);
  return {
    name: tab.name,
    order: tab.order,
    adaptive: tab.adaptive,
    hasStiffness: stiff !== undefined,
    denseOutput: interp !== undefined,
    stabilitySize: tab.stabilitySize,

    init(f, t0, y0) {
      if (!tab.fsal) return { state: { k1: null } };
      const k1 = tf.tidy(() => f(t0, y0));
      return { state: { k1 }, f0: k1 };
    },

    initialStep(f, t0, y0, f0, direction, tol, dtmin, dtmax) {
      return hairerInitialStep(f, t0, y0, f0, direction, tab.order, tol, dtmin, dtmax, arith);
    },

    step(f, t, y, dt, state, tol: Tolerances, request: StepRequest = {}): StepAttempt<RkState> {
      let error = NaN;
      let stiffness: number | undefined;
      const thetas = request.thetas ?? [];
      const { y1, kLast, dense } = tf.tidy(() => {
        const { g, k, y1 } = rkStages(tab, arith, f, t, y, dt, state.k1);
        if (tab.bError) {
          error = arith.rms(errorTerms(tab, k, dt), { ref0: y, ref1: y1, atol: tol.atol, rtol: tol.rtol });
        } else {
          // No error estimate: report 0 for a finite new state, NaN otherwise.
          error = arith.allFinite(y1) ? 0 : NaN;
        }
        if (stiff && request.stiffness) {
          const [p, q] = stiff;
          const num = arith.rms([
            [1, k[q]],
            [-1, k[p]],
          ]);
          const den = arith.rms([
            [1, g[q]],
            [-1, g[p]],
          ]);
          stiffness = stiffnessRatio(num, den, () => arith.rms([[1, g[q]]]));
        }
        // FSAL: k_s = f(t + dt, y1) is the next step's k_1.
        return { y1, kLast: tab.fsal ? k[tab.stages - 1] : undefined, dense: denseValues(interp, tab.name, arith, y, dt, k, thetas) };
      });
      return { y1, state: { k1: kLast ?? null }, error, stiffness, ...(thetas.length > 0 ? { dense } : {}) };
    },

    disposeState(state) {
      state.k1?.dispose();
    },

    diagnoseStiffness: stiff
      ? (f, t, y, dt, state) =>
          tf.tidy(() => {
            const { g, k } = rkStages(tab, arith, f, t, y, dt, state.k1);
            return elementwiseStiffness(g[stiff[0]].dataSync(), g[stiff[1]].dataSync(), k[stiff[0]].dataSync(), k[stiff[1]].dataSync());
          })
      : undefined,

    replay: (f, t, y, dt, tol, want) => rkStepTensor(tab, f, t, y, dt, tol, want),

    allFinite: (x) => arith.allFinite(x),
  };
}

export interface RkStepTensorResult {
  readonly y1: tf.Tensor;
  /** Scaled error norm E as a scalar tensor (when requested and the method has an error estimate). */
  readonly error?: tf.Scalar;
  /** Stiffness estimate S as a scalar tensor (when requested and the method has one). */
  readonly stiffness?: tf.Scalar;
  /** Dense output at `want.thetas`, in order (when requested). */
  readonly dense?: tf.Tensor[];
}

/**
 * One step with tfjs ops only, so that tfjs autodiff can differentiate it: the discrete adjoint
 * recomputes accepted steps with this, and tests unroll it as the autodiff reference. Computes the
 * same quantities as the stepper's forward step (which may use host arithmetic), including the
 * dense output at `want.thetas`. With `want.stiffnessActive` omitted the rule of `stiffnessRatio`
 * is evaluated on the values (3 read-backs); the discrete adjoint passes the forward solve's
 * decision instead.
 */
export function rkStepTensor(
  tab: ButcherTableau,
  f: VectorField,
  t: number,
  y: tf.Tensor,
  dt: number,
  tol: Tolerances,
  want: ReplayWants = {},
): RkStepTensorResult {
  const { g, k, y1 } = rkStages(tab, { combine: combineTensor }, f, t, y, dt, null);
  let error: tf.Scalar | undefined;
  let stiffness: tf.Scalar | undefined;
  if (want.error && tab.bError) {
    error = rmsTensor(errorTerms(tab, k, dt), { ref0: y, ref1: y1, atol: tol.atol, rtol: tol.rtol });
  }
  if (want.stiffness && tab.stiffnessStages) {
    const [p, q] = tab.stiffnessStages;
    const num = rmsTensor([
      [1, k[q]],
      [-1, k[p]],
    ]);
    const den = rmsTensor([
      [1, g[q]],
      [-1, g[p]],
    ]);
    const active = want.stiffnessActive ?? stiffnessRatio(num.dataSync()[0], den.dataSync()[0], () => rmsTensor([[1, g[q]]]).dataSync()[0]) !== 0;
    stiffness = active ? (tf.div(num, den) as tf.Scalar) : tf.scalar(0);
  }
  const dense = want.thetas ? denseValues(interpolantFor(tab), tab.name, { combine: combineTensor }, y, dt, k, want.thetas) : undefined;
  return { y1, error, stiffness, dense };
}
