/** An explicit Runge–Kutta tableau as a method record (see `core/method.ts`). */
import { ODE_CONTROLLER_LIMITS, ODE_TOLERANCES } from '../core/controller';
import { Method } from '../core/method';
import { VectorField } from '../core/stepper';
import { RkState, rkStepper } from './stepper';
import { ButcherTableau } from './tableau';
import { interpolantFor } from './tableaus/interpolants';

/** An ODE method: a vector field is its term, the FSAL derivative its carried state. */
export type OdeMethod = Method<VectorField, RkState> & { readonly kind: 'ode'; readonly tableau: ButcherTableau };

/** The record of an RK method: everything but the stepper follows from the tableau's data. */
export function rkMethod(tab: ButcherTableau): OdeMethod {
  const method: OdeMethod = {
    name: tab.name,
    kind: 'ode',
    order: tab.order,
    adaptive: tab.adaptive,
    estimates: { error: tab.adaptive, stiffness: tab.stiffnessStages !== undefined, dense: interpolantFor(tab) !== undefined },
    controller: { ...ODE_CONTROLLER_LIMITS, ...tab.controller },
    tolerances: ODE_TOLERANCES,
    stabilitySize: tab.stabilitySize,
    evaluationsPerStep: { drift: tab.fsal ? tab.stages - 1 : tab.stages, diffusion: 0 },
    tableau: tab,
    stepper: ({ arithmetic }) => rkStepper(tab, arithmetic),
  };
  return Object.freeze(method);
}
