/**
 * SDE solver names and what each method offers: adaptive or fixed-step, stiffness estimate, stability size,
 * evaluations per step, and its `Stepper`.
 */
import { InvalidArgumentError } from '../../errors';
import { Stepper } from '../stepper';
import { eulerMaruyamaStepper, SdeTerm, SriState, sriStepper } from './stepper';
import { SriTableau } from './tableau';
import { SRI_TABLEAUS } from './tableaus';

/** SDE solver names (lowercase, like the ODE names). `sosri` is the default. */
export const SDE_SOLVER_NAMES = ['sosri', 'sosri2', 'sriw1', 'euler_maruyama'] as const;
/** One of `SDE_SOLVER_NAMES`. */
export type SdeSolverName = (typeof SDE_SOLVER_NAMES)[number];

/** What the loop, the options and the discrete adjoint need to know about an SDE method. */
export interface SdeMethod {
  readonly name: SdeSolverName;
  /** True when the method has an error estimate and adapts its step; false: it needs `dt0`. */
  readonly adaptive: boolean;
  /** True when each accepted step reports a stiffness estimate (SOSRI2). */
  readonly hasStiffness: boolean;
  /** Size of the stability region along the negative real axis, if known. */
  readonly stabilitySize?: number;
  /** Strong order. */
  readonly order: number;
  /** Drift and diffusion evaluations per attempted step. */
  readonly evaluationsPerStep: { readonly drift: number; readonly diffusion: number };
  /** The SRI tableau (null for Euler–Maruyama), e.g. for replaying a step with `sriStep`. */
  readonly tableau: SriTableau | null;
}

function sriMethod(tab: SriTableau): SdeMethod {
  return {
    name: tab.name as SdeSolverName,
    adaptive: true,
    hasStiffness: tab.stiffnessStages !== undefined,
    stabilitySize: tab.stabilitySize,
    order: tab.order,
    evaluationsPerStep: tab.evaluationsPerStep,
    tableau: tab,
  };
}

const METHODS: Record<SdeSolverName, SdeMethod> = {
  sosri: sriMethod(SRI_TABLEAUS.sosri),
  sosri2: sriMethod(SRI_TABLEAUS.sosri2),
  sriw1: sriMethod(SRI_TABLEAUS.sriw1),
  euler_maruyama: {
    name: 'euler_maruyama',
    adaptive: false,
    hasStiffness: false,
    order: 0.5,
    evaluationsPerStep: { drift: 1, diffusion: 1 },
    tableau: null,
  },
};

/** Whether `name` is an SDE solver name. */
export function isSdeSolverName(name: unknown): name is SdeSolverName {
  return typeof name === 'string' && (SDE_SOLVER_NAMES as readonly string[]).includes(name);
}

/** The method for an SDE solver name; throws `InvalidArgumentError` listing the valid names otherwise. */
export function getSdeMethod(name: unknown): SdeMethod {
  if (!isSdeSolverName(name)) {
    throw new InvalidArgumentError(`Unknown SDE solver '${String(name)}'. Valid SDE solvers: ${SDE_SOLVER_NAMES.map((n) => `'${n}'`).join(', ')}.`);
  }
  return METHODS[name];
}

/**
 * A fresh `Stepper` for an SDE solver name (throws like `getSdeMethod` for unknown names), with the
 * error estimate's drift weight `delta` and the controller's `qmax` overridden where given, and an SRI
 * method run with fixed steps when `adaptive` is false.
 */
export function sdeStepper(name: unknown, tuning: { delta?: number; qmax?: number; adaptive?: boolean } = {}): Stepper<SdeTerm, SriState> {
  const method = getSdeMethod(name);
  const tab = method.tableau;
  if (!tab) return eulerMaruyamaStepper();
  const tuned = { ...tab, delta: tuning.delta ?? tab.delta, controller: { ...tab.controller, qmax: tuning.qmax ?? tab.controller.qmax } };
  return sriStepper(tuned, tuning.adaptive ?? true);
}

/** The SDE solvers that provide an estimate: 'error' (adaptive ones) or 'stiffness'. */
export function sdeSolversWithEstimate(estimate: 'error' | 'stiffness'): SdeSolverName[] {
  return SDE_SOLVER_NAMES.filter((n) => (estimate === 'error' ? METHODS[n].adaptive : METHODS[n].hasStiffness));
}
