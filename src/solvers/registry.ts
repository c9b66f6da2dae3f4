import { ButcherTableau } from './tableau';
import { tsit5 } from './tableaus/tsit5';
import { dopri5 } from './tableaus/dopri5';
import { bosh3 } from './tableaus/bosh3';
import { euler, midpoint, rk4 } from './tableaus/fixed';
import { InvalidArgumentError } from '../errors';

/** Solver names. Lowercase, because tfjs serialization case-converts string values. */
export const SOLVER_NAMES = ['tsit5', 'dopri5', 'bosh3', 'euler', 'midpoint', 'rk4'] as const;
export type SolverName = (typeof SOLVER_NAMES)[number];

const TABLEAUS: Record<SolverName, ButcherTableau> = { tsit5, dopri5, bosh3, euler, midpoint, rk4 };

export function isSolverName(name: unknown): name is SolverName {
  return typeof name === 'string' && (SOLVER_NAMES as readonly string[]).includes(name);
}

/** The tableau for a solver name; throws with the list of valid names otherwise. */
export function getTableau(name: string): ButcherTableau {
  if (!isSolverName(name)) {
    throw new InvalidArgumentError(`Unknown solver '${String(name)}'. Valid solvers: ${SOLVER_NAMES.map((n) => `'${n}'`).join(', ')}.`);
  }
  return TABLEAUS[name];
}

/** The solvers that provide an estimate: 'error' (adaptive ones) or 'stiffness'. */
export function solversWithEstimate(estimate: 'error' | 'stiffness'): SolverName[] {
  return SOLVER_NAMES.filter((n) => (estimate === 'error' ? TABLEAUS[n].adaptive : TABLEAUS[n].stiffnessStages !== undefined));
}
