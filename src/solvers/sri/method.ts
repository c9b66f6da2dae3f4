/** The SDE methods as records (see `core/method.ts`): the SRI tableaus and Euler–Maruyama. */
import { Method } from '../core/method';
import { eulerMaruyamaStepper, SdeTerm, SriState, sriStepper } from './stepper';
import { sdeControllerDefaults, SriTableau } from './tableau';

/** An SDE method: drift, diffusion and Brownian path are its term; nothing is carried between steps. */
export type SdeMethod = Method<SdeTerm, SriState> & { readonly kind: 'sde'; readonly tableau: SriTableau | null };

/** StochasticDiffEq's default tolerances for SDE solves (abstol = reltol = 1e-2). */
export const SDE_TOLERANCES = { rtol: 1e-2, atol: 1e-2 } as const;

/** The record of an adaptive SRI method; `delta` and `adaptive: false` tune its stepper per solve. */
export function sriMethod(tab: SriTableau): SdeMethod {
  const method: SdeMethod = {
    name: tab.name,
    kind: 'sde',
    order: tab.order,
    adaptive: true,
    estimates: { error: true, stiffness: tab.stiffnessStages !== undefined, dense: true },
    controller: tab.controller,
    tolerances: tab.tolerances,
    delta: tab.delta,
    stabilitySize: tab.stabilitySize,
    evaluationsPerStep: tab.evaluationsPerStep,
    tableau: tab,
    stepper: ({ delta, adaptive, arithmetic }) => sriStepper(delta === undefined ? tab : { ...tab, delta }, adaptive ?? true, arithmetic),
  };
  return Object.freeze(method);
}

/** Euler–Maruyama: strong order 1/2, fixed steps, one drift and one diffusion evaluation per step. */
const eulerMaruyama: SdeMethod = {
  name: 'euler_maruyama',
  kind: 'sde',
  order: 0.5,
  adaptive: false,
  estimates: { error: false, stiffness: false, dense: true },
  controller: sdeControllerDefaults(0.5),
  tolerances: SDE_TOLERANCES,
  evaluationsPerStep: { drift: 1, diffusion: 1 },
  tableau: null,
  stepper: () => eulerMaruyamaStepper(),
};
export const eulerMaruyamaMethod: SdeMethod = Object.freeze(eulerMaruyama);
