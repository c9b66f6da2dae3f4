/**
 * The methods by name, ODE and SDE in one registry of records (`core/method.ts`). Adding a method is adding a
 * record here: a tableau file and `rkMethod(tableau)` or `sriMethod(tableau)`, plus its tests.
 */
import { InvalidArgumentError } from '../errors';
import { MethodEstimates, MethodKind } from './core/method';
import { OdeMethod, rkMethod } from './rk/method';
import { ButcherTableau } from './rk/tableau';
import { bosh3 } from './rk/tableaus/bosh3';
import { dopri5 } from './rk/tableaus/dopri5';
import { euler, midpoint, rk4 } from './rk/tableaus/fixed';
import { tsit5 } from './rk/tableaus/tsit5';
import { eulerMaruyamaMethod, SdeMethod, sriMethod } from './sri/method';
import { SRI_TABLEAUS } from './sri/tableaus';

/** ODE solver names. Lowercase, because tfjs serialization case-converts string values. `tsit5` is the default. */
export const SOLVER_NAMES = ['tsit5', 'dopri5', 'bosh3', 'euler', 'midpoint', 'rk4'] as const;
export type SolverName = (typeof SOLVER_NAMES)[number];

/** SDE solver names (lowercase, like the ODE names). `sosri` is the default. */
export const SDE_SOLVER_NAMES = ['sosri', 'sosri2', 'sriw1', 'euler_maruyama'] as const;
/** One of `SDE_SOLVER_NAMES`. */
export type SdeSolverName = (typeof SDE_SOLVER_NAMES)[number];

export type { OdeMethod, SdeMethod };

const ODE_METHODS: Record<SolverName, OdeMethod> = {
  tsit5: rkMethod(tsit5),
  dopri5: rkMethod(dopri5),
  bosh3: rkMethod(bosh3),
  euler: rkMethod(euler),
  midpoint: rkMethod(midpoint),
  rk4: rkMethod(rk4),
};

const SDE_METHODS: Record<SdeSolverName, SdeMethod> = {
  sosri: sriMethod(SRI_TABLEAUS.sosri),
  sosri2: sriMethod(SRI_TABLEAUS.sosri2),
  sriw1: sriMethod(SRI_TABLEAUS.sriw1),
  euler_maruyama: eulerMaruyamaMethod,
};

function listed(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

export function isSolverName(name: unknown): name is SolverName {
  return typeof name === 'string' && (SOLVER_NAMES as readonly string[]).includes(name);
}

/** Whether `name` is an SDE solver name. */
export function isSdeSolverName(name: unknown): name is SdeSolverName {
  return typeof name === 'string' && (SDE_SOLVER_NAMES as readonly string[]).includes(name);
}

/** The ODE method of a name; throws `InvalidArgumentError` listing the valid names otherwise. */
export function odeMethod(name: unknown): OdeMethod {
  if (!isSolverName(name)) throw new InvalidArgumentError(`Unknown solver '${String(name)}'. Valid solvers: ${listed(SOLVER_NAMES)}.`);
  return ODE_METHODS[name];
}

/** The SDE method of a name; throws `InvalidArgumentError` listing the valid names otherwise. */
export function sdeMethod(name: unknown): SdeMethod {
  if (!isSdeSolverName(name)) throw new InvalidArgumentError(`Unknown SDE solver '${String(name)}'. Valid SDE solvers: ${listed(SDE_SOLVER_NAMES)}.`);
  return SDE_METHODS[name];
}

/** The tableau of an ODE solver name; throws with the list of valid names otherwise. */
export function getTableau(name: string): ButcherTableau {
  return odeMethod(name).tableau;
}

/** The methods of a kind whose steps provide an estimate ('error': the adaptive ones; 'stiffness'). */
export function methodsWith(kind: MethodKind, estimate: keyof Omit<MethodEstimates, 'dense'>): string[] {
  const methods: readonly (OdeMethod | SdeMethod)[] = kind === 'ode' ? Object.values(ODE_METHODS) : Object.values(SDE_METHODS);
  return methods.filter((m) => m.estimates[estimate]).map((m) => m.name);
}
