/** tfjs-neural-de: neural differential equations for TensorFlow.js. Public API. */
export { solve } from './solvers/solve';
export type { SolveResult } from './solvers/integrate';
export type { SolveOptions } from './solvers/options';
export type { SolveStats } from './solvers/stats';
export type { VectorField, Stepper, StepAttempt, Tolerances } from './solvers/stepper';
export { SOLVER_NAMES, getTableau } from './solvers/registry';
export type { SolverName } from './solvers/registry';
export { defineTableau, orderConditionResiduals } from './solvers/tableau';
export type { ButcherTableau, TableauSpec } from './solvers/tableau';
export { PIController } from './solvers/controller';
export { SolverError, InvalidArgumentError } from './solvers/errors';
export type { SolverErrorCode } from './solvers/errors';
