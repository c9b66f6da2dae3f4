/**
 * The stepper protocol: what the integration loop needs from a method. An ODE Runge–Kutta
 * method implements it in `rk_stepper.ts`; a stochastic method implements the same protocol with a
 * term that bundles drift, diffusion and a Brownian path queried by time interval (so a rejected
 * step that is retried with a smaller dt sees a consistent path). The loop never looks inside the
 * term or the carried state.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Tolerances } from './controller';

export type { Tolerances };

/** A vector field `f(t, y)` returning a tensor shaped like `y`. `t` is a float64 JS number. */
export type VectorField = (t: number, y: tf.Tensor) => tf.Tensor;

/** What the loop asks of one step beyond its new state and error estimate. */
export interface StepRequest {
  /**
   * Fractions θ ∈ (0, 1) of the step at which to evaluate the dense output y(t + θ·dt) from the
   * step's own stages (only asked of steppers with `denseOutput`).
   */
  readonly thetas?: readonly number[];
  /** Whether to compute the stiffness estimate (a stepper may compute it anyway). */
  readonly stiffness?: boolean;
}

/**
 * The result of one attempted step. The loop owns `y1`, `dense` and `state` and disposes them if
 * the step is rejected.
 */
export interface StepAttempt<S> {
  readonly y1: tf.Tensor;
  /** The dense output at the requested `thetas`, in order (present when thetas were requested). */
  readonly dense?: tf.Tensor[];
  /** What the next step needs if this one is accepted (e.g. the FSAL derivative). */
  readonly state: S;
  /**
   * Scaled error norm E (accept when E ≤ 1). Fixed-step methods report 0 for a finite new state and
   * NaN otherwise. NaN or ±Infinity always means "reject".
   */
  readonly error: number;
  /** Stiffness estimate S, if the method provides one and it was requested. */
  readonly stiffness?: number;
}

/** Which estimates a differentiable replay of a step computes (see `Stepper.replay`). */
export interface ReplayWants {
  readonly error?: boolean;
  readonly stiffness?: boolean;
  /**
   * Whether the stiffness estimate was reliable on this step in the forward solve (S_j ≠ 0); the
   * replay reuses that decision so value and gradient agree. Omitted: decided on the values.
   */
  readonly stiffnessActive?: boolean;
  /** Fractions θ of the step at which to also return the (differentiable) dense output. */
  readonly thetas?: readonly number[];
}

/** A step recomputed with tfjs ops, differentiable by tfjs autodiff. */
export interface ReplayResult {
  readonly y1: tf.Tensor;
  /** The dense output at `want.thetas`, in order. */
  readonly dense?: tf.Tensor[];
  readonly error?: tf.Scalar;
  readonly stiffness?: tf.Scalar;
}

export interface Stepper<Term, S> {
  readonly name: string;
  /** Order used by the initial-step heuristic and the controller defaults. */
  readonly order: number;
  readonly adaptive: boolean;
  readonly hasStiffness: boolean;
  /**
   * Whether `step` evaluates a dense output (a continuous extension of the step from its stages)
   * when asked for `thetas`. Steppers without one (the SDE methods, fixed-step RK methods) get
   * their output times as step ends instead.
   */
  readonly denseOutput?: boolean;
  /** Size of the stability region along the negative real axis, if known (used to diagnose stiffness). */
  readonly stabilitySize?: number;
  /**
   * State before the first step; `f0`, if computed, is checked for finiteness by the loop and handed
   * to `initialStep` (so f(t0, y0) is evaluated once).
   */
  init(term: Term, t0: number, y0: tf.Tensor): { state: S; f0?: tf.Tensor };
  /** Initial step size magnitude when the user gave no `dt0` (may call the term; reuses `f0` when given). */
  initialStep(term: Term, t0: number, y0: tf.Tensor, f0: tf.Tensor | undefined, direction: 1 | -1, tol: Tolerances, dtmin: number, dtmax: number): number;
  /**
   * One attempt from (t, y) with signed step dt. Must not dispose `y` or `state`. `request` (absent:
   * nothing beyond y1 and the error) asks for the dense output and the stiffness estimate.
   */
  step(term: Term, t: number, y: tf.Tensor, dt: number, state: S, tol: Tolerances, request?: StepRequest): StepAttempt<S>;
  disposeState(state: S): void;
  /**
   * A stiffness estimate (dominant eigenvalue magnitude) at (t, y) for a step dt, robust to float32
   * rounding, for diagnosing a failed solve; costs one extra step. Only methods that can tell.
   */
  diagnoseStiffness?(term: Term, t: number, y: tf.Tensor, dt: number, state: S): number;
  /**
   * Recomputes an accepted step from its start state with tfjs ops only (for SDEs with the same
   * Brownian increments, re-queried from the term's path), so that the discrete adjoint can take its
   * vector–Jacobian product. Must give the forward step's values up to float rounding (the dense
   * output too, when `want.thetas` asks for it).
   */
  replay?(term: Term, t: number, y: tf.Tensor, dt: number, tol: Tolerances, want: ReplayWants): ReplayResult;
  /** True when no element of `x` is NaN or ±Infinity (uses the stepper's arithmetic). */
  allFinite(x: tf.Tensor): boolean;
}
