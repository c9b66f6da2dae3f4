/** tfjs-neural-de: neural differential equations for TensorFlow.js. Public API. */

// Tensor-level solvers
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

// Gradients
export { discreteAdjoint } from './adjoint/discrete';
export type { ParametricField, AdjointRecord } from './adjoint/discrete';

// Layers
export { NeuralODE, neuralODE } from './layers/neural_ode';
export type { NeuralODEArgs, NeuralODEOptions, NeuralODEStats } from './layers/neural_ode';
export type { SerializedLayer } from './layers/vector_field';
export { Power, power } from './layers/power';
export type { PowerArgs } from './layers/power';

// Callbacks
export { NFELogger, nfeLogger, countNFE, findNeuralODELayers } from './callbacks/nfe';

// IO
export { fileSystem } from './io/file_system';
