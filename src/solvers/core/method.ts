/**
 * A method is one record: what it is (kind, order, adaptive), what each accepted step provides (error estimate,
 * stiffness estimate, dense output), its controller defaults and default tolerances, and a factory for its
 * `Stepper`. The registry (`solvers/registry.ts`) maps names to records; the options resolver, the loop, the
 * discrete adjoint and the layers read everything about a method from its record.
 */
import { StateArithmetic } from './arithmetic';
import { ControllerDefaults, Tolerances } from './controller';
import { Stepper } from './stepper';

/** ODE methods step a vector field; SDE methods a drift, a diffusion and a Brownian path. */
export type MethodKind = 'ode' | 'sde';

/** The estimates a method's accepted steps can provide. */
export interface MethodEstimates {
  /** An embedded error estimate (the method adapts its step). */
  readonly error: boolean;
  /** A stiffness estimate (two stages at the same node). */
  readonly stiffness: boolean;
  /** A dense output (an interpolant from the step's stages, or linear between states for SDEs). */
  readonly dense: boolean;
}

/** What a solve tunes its stepper with (the controller's settings go to the controller, not here). */
export interface StepperSettings {
  /** Where host-capable step arithmetic runs (see `chooseArithmetic`). */
  readonly arithmetic: StateArithmetic;
  /** SDE methods: the weight δ of the drift term in the error estimate (default the method's). */
  readonly delta?: number;
  /** False: an adaptive method takes fixed steps of dt0 (SDE methods). Default: the method's `adaptive`. */
  readonly adaptive?: boolean;
}

export interface Method<Term = unknown, S = unknown> {
  /** Lowercase name (tfjs serialization case-converts string values). */
  readonly name: string;
  readonly kind: MethodKind;
  /** Order (ODE) or strong order (SDE); used by the initial-step heuristic. */
  readonly order: number;
  /** True when the method has an error estimate and adapts its step; false: it needs `dt0`. */
  readonly adaptive: boolean;
  readonly estimates: MethodEstimates;
  /** The PI controller's exponents and limits for this method. */
  readonly controller: ControllerDefaults;
  /** Default rtol and atol of a solve with this method. */
  readonly tolerances: Tolerances;
  /** SDE methods: the default weight δ of the drift term in the error estimate. */
  readonly delta?: number;
  /** Size of the stability region along the negative real axis, if known (stiffness diagnosis, regularizers). */
  readonly stabilitySize?: number;
  /** Field evaluations per attempted step (drift; and diffusion for SDE methods). */
  readonly evaluationsPerStep: { readonly drift: number; readonly diffusion: number };
  /** A fresh stepper for one solve. */
  stepper(settings: StepperSettings): Stepper<Term, S>;
}
