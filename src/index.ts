/** tfjs-neural-de: neural differential equations for TensorFlow.js. Public API. */

// Tensor-level solvers
export { solve } from './solvers/solve';
export type { SolveResult } from './solvers/core/integrate';
export type { SolveOptions } from './solvers/options';
export type { SolveStats } from './solvers/core/stats';
export type { VectorField, Stepper, StepAttempt, Tolerances } from './solvers/core/stepper';
export { SOLVER_NAMES, getTableau } from './solvers/registry';
export type { SolverName } from './solvers/registry';
export { defineTableau, orderConditionResiduals } from './solvers/rk/tableau';
export type { ButcherTableau, TableauSpec } from './solvers/rk/tableau';
export { PIController } from './solvers/core/controller';
export { SolverError } from './solvers/core/errors';
export { InvalidArgumentError } from './errors';
export type { SolverErrorCode } from './solvers/core/errors';

// Gradients
export { discreteAdjoint } from './adjoint/discrete';
export type { ParametricField, AdjointRecord, DiscreteAdjoint } from './adjoint/discrete';
export { discreteAdjointSDE } from './adjoint/sde';
export type { DiscreteAdjointSDE } from './adjoint/sde';

// SDE solvers and Brownian paths
export { solveSDE } from './solvers/solve_sde';
export type { SdeSolveResult, SdeSolveStats } from './solvers/solve_sde';
export type { SdeSolveOptions } from './solvers/options';
export { SDE_SOLVER_NAMES } from './solvers/registry';
export type { SdeSolverName } from './solvers/registry';
export { defineSriTableau, sriOrderConditions } from './solvers/sri/tableau';
export type { SriTableau, SriTableauSpec } from './solvers/sri/tableau';
export { sosri, sosri2, sriw1 } from './solvers/sri/tableaus';
export { BrownianTree, brownianTree } from './noise/brownian';
export type { BrownianTreeOptions } from './noise/brownian';
export { BrownianInterval, brownianInterval } from './noise/brownian_interval';
export type { BrownianIntervalOptions } from './noise/brownian_interval';
export { isBrownianPath } from './noise/path';
export type { BrownianIncrement, BrownianPath } from './noise/path';

// Layers
export { NeuralODE, neuralODE } from './layers/neural_ode';
export { NeuralSDE, neuralSDE } from './layers/neural_sde';
export type { NeuralSDEArgs, NeuralSDEOptions, NeuralSDEStats } from './layers/neural_sde';
export { meanOverPaths } from './layers/mean_over_paths';
export type { NeuralODEArgs, NeuralODEOptions, NeuralODEStats } from './layers/neural_ode';
export type { SerializedLayer } from './layers/vector_field';
export { DELayer, isDELayer } from './layers/de_layer';
export type { DELayerStats } from './layers/de_layer';
export { Power, power } from './layers/power';
export { GaussianSample, gaussianSample } from './layers/gaussian_sample';
export type { GaussianSampleArgs } from './layers/gaussian_sample';
export type { PowerArgs } from './layers/power';

// Callbacks
export { NFELogger, nfeLogger, countNFE, findDELayers, findNeuralODELayers } from './callbacks/nfe';

// IO
export { fileSystem } from './io/file_system';

// Regularizers
export { SolverRegularizer } from './regularizers/base';
export type { RegularizerInputs, SolverEstimate } from './regularizers/base';
export { ErrorEstimateRegularizer, errorEstimate } from './regularizers/error_estimate';
export type { ErrorEstimateArgs } from './regularizers/error_estimate';
export { StiffnessRegularizer, stiffness } from './regularizers/stiffness';
export type { StiffnessArgs } from './regularizers/stiffness';
export { LocalErrorEstimateRegularizer, localErrorEstimate } from './regularizers/local';
export type { LocalErrorEstimateArgs } from './regularizers/local';
export { REGULARIZER_NAMES, toRegularizer } from './regularizers/registry';
export type { RegularizerName, RegularizerSpec } from './regularizers/registry';
export { RegularizationSchedule, anneal, scheduledWeight } from './callbacks/schedule';
export type { WeightSchedule } from './callbacks/schedule';
