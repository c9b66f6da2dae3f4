/**
 * Options of `solveSDE`: the public type, defaults and validation. The options shared with the ODE solver
 * (tspan, tolerances, step bounds, maxSteps, saveat) are checked by `resolveOptions`, so both solvers
 * report the same errors for them; SDE-specific rules (forward time only, the SDE solver names, seed and
 * Brownian path) are checked here.
 */
import { BrownianTree } from '../../noise/brownian';
import { isValidSeed, MAX_SEED } from '../../noise/prng';
import { InvalidArgumentError } from '../../errors';
import { checkSaveatMode, rejectUnknownKeys, ResolvedOptions, resolveOptions, SolveOptions } from '../options';
import { getSdeMethod, SdeSolverName } from './registry';

export interface SdeSolveOptions {
  /** Integration interval [t0, t1] with t0 < t1 (SDE solves run forward in time). Default [0, 1]. */
  tspan?: [number, number];
  /** Method name. Default 'sosri'. */
  solver?: SdeSolverName;
  /** Relative tolerance. Default 1e-2 (StochasticDiffEq's SDE default). */
  rtol?: number;
  /** Absolute tolerance. Default 1e-2. */
  atol?: number;
  /** Initial step magnitude. Adaptive methods default to the SDE initial-step heuristic; Euler–Maruyama requires it. */
  dt0?: number;
  /** Smallest step magnitude the controller may propose before the solve fails. Default 0. */
  dtmin?: number;
  /** Largest step magnitude. Default t1 − t0. */
  dtmax?: number;
  /** Maximum number of attempted steps (accepted + rejected). Default 10000. */
  maxSteps?: number;
  /** Increasing times inside tspan at which to return the state. Default: only t1. */
  saveat?: number[];
  /**
   * How `saveat` outputs are made: 'interpolate' (default, StochasticDiffEq's) interpolates linearly between
   * the accepted steps, which take the same steps as without `saveat`; 'step' steps exactly onto each time
   * (more, shorter steps). Both are differentiable through the discrete adjoint.
   */
  saveatMode?: 'interpolate' | 'step';
  /** Integer seed in [0, 2^53 − 1] of the Brownian path. Default: a fresh random seed per call. */
  seed?: number;
  /**
   * `false` runs an SRI method with the fixed step `dt0` (every step accepted; no error estimate in the
   * statistics), as torchsde's `adaptive=False`. Default true; Euler–Maruyama always takes fixed steps.
   */
  adaptive?: boolean;
  /**
   * Weight δ of the drift term in the SRI error estimate EEst = RMS((δ·E1 + E2)/scale), E1 = h·Σk_i
   * (adaptive methods only). Default the method's, StochasticDiffEq's: 1 for SOSRI/SOSRI2, 1/6 for SRIW1.
   * E1 is O(h·|f|), so with δ > 0 a strong drift bounds the step at about tol·scale/(4|f|) whatever the
   * noise; smaller δ takes fewer steps (δ = 0 controls the step by the noise terms alone).
   */
  delta?: number;
  /**
   * Largest factor by which the controller grows the step after an accepted one (adaptive methods
   * only). Default 9/8, StochasticDiffEq's for SDEs (10 for ODEs): steps ramp up slowly after a rejection.
   */
  qmax?: number;
  /**
   * An existing Brownian path to use instead of drawing one (to share a path across calls); it must have
   * the state's shape and cover tspan. Exclusive with `seed`.
   */
  brownian?: BrownianTree;
}

/** Options after validation, with defaults filled in; what `solveSDEResolved` and the loop read. */
export interface SdeResolvedOptions extends Omit<ResolvedOptions, 'solver' | 'arithmetic' | 'direction'> {
  readonly direction: 1;
  readonly solver: SdeSolverName;
  /** The seed of the path to draw (the given one or a fresh random one); unused when `brownian` is given. */
  readonly seed: number;
  readonly brownian: BrownianTree | undefined;
  /** Whether the solve adapts its step (false: fixed steps of dt0). */
  readonly adaptive: boolean;
  /** δ in force (undefined for fixed-step methods). */
  readonly delta: number | undefined;
  /** The controller's qmax in force (undefined for fixed-step methods). */
  readonly qmax: number | undefined;
}

/** Default SDE method. */
export const SDE_DEFAULT_SOLVER: SdeSolverName = 'sosri';
/** Default relative tolerance of an SDE solve (StochasticDiffEq's reltol). */
export const SDE_DEFAULT_RTOL = 1e-2;
/** Default absolute tolerance of an SDE solve (StochasticDiffEq's abstol). */
export const SDE_DEFAULT_ATOL = 1e-2;

/** The keys of `SdeSolveOptions`. */
export const SDE_SOLVE_OPTION_KEYS: readonly (keyof SdeSolveOptions)[] = [
  'tspan',
  'solver',
  'rtol',
  'atol',
  'dt0',
  'dtmin',
  'dtmax',
  'maxSteps',
  'saveat',
  'saveatMode',
  'seed',
  'brownian',
  'adaptive',
  'delta',
  'qmax',
];
const SHARED_KEYS: ReadonlySet<string> = new Set<keyof SolveOptions>(['tspan', 'rtol', 'atol', 'dt0', 'dtmin', 'dtmax', 'maxSteps', 'saveat']);

/** A uniformly random valid seed (53 bits from two `Math.random` draws). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) * 2 ** 21 + Math.floor(Math.random() * 2 ** 21);
}

/** Checks every option and fills in defaults. Throws `InvalidArgumentError` naming the fix. */
export function resolveSdeOptions(opts: SdeSolveOptions = {}): SdeResolvedOptions {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new InvalidArgumentError(
      `SDE solver options must be an object such as {tspan: [0, 1], rtol: 1e-2, seed: 0}, got ${Array.isArray(opts) ? 'an array' : String(opts)}.`,
    );
  }
  rejectUnknownKeys(opts, SDE_SOLVE_OPTION_KEYS);
  const { solver = SDE_DEFAULT_SOLVER, seed, brownian, adaptive: adaptiveOpt, delta, qmax, saveatMode = 'interpolate', ...shared } = opts;
  checkSaveatMode(saveatMode);
  const method = getSdeMethod(solver);
  if (adaptiveOpt !== undefined && typeof adaptiveOpt !== 'boolean') {
    throw new InvalidArgumentError(`Option 'adaptive' must be true or false, got ${String(adaptiveOpt)}.`);
  }
  if (adaptiveOpt === true && !method.adaptive) {
    throw new InvalidArgumentError(`Solver '${solver}' has no error estimate and cannot adapt its step: drop 'adaptive' or use 'sosri'.`);
  }
  const adaptive = adaptiveOpt ?? method.adaptive;
  for (const [name, value] of [
    ['delta', delta],
    ['qmax', qmax],
  ] as const) {
    if (value !== undefined && !adaptive) {
      throw new InvalidArgumentError(
        `Option '${name}' tunes the step-size control of adaptive methods; this solve takes fixed steps ('${solver}'${method.adaptive ? ' with adaptive: false' : ''}). Drop it or use 'sosri'.`,
      );
    }
  }
  if (delta !== undefined && !(typeof delta === 'number' && Number.isFinite(delta) && delta >= 0)) {
    throw new InvalidArgumentError(`Option 'delta' must be a finite number ≥ 0 (the drift term's weight in the error estimate), got ${String(delta)}.`);
  }
  if (qmax !== undefined && !(typeof qmax === 'number' && Number.isFinite(qmax) && qmax > 1)) {
    throw new InvalidArgumentError(`Option 'qmax' must be a finite number > 1 (the largest step growth factor, e.g. 9/8 or 10), got ${String(qmax)}.`);
  }
  const base = resolveOptions({ ...shared, rtol: shared.rtol ?? SDE_DEFAULT_RTOL, atol: shared.atol ?? SDE_DEFAULT_ATOL }, SHARED_KEYS);
  const { t0, t1, direction } = base;
  if (direction !== 1) {
    throw new InvalidArgumentError(
      `SDE solves run forward in time only: option 'tspan' must have t0 < t1, got [${t0}, ${t1}]. Reverse the interval (for a time-reversed SDE, substitute s = t0 + t1 − t into the drift and diffusion).`,
    );
  }
  if (!adaptive && base.dt0 === undefined) {
    throw new InvalidArgumentError(
      method.adaptive
        ? `With adaptive: false, '${solver}' takes fixed steps: set 'dt0' to the step size (e.g. dt0: ${(t1 - t0) / 100}), or drop 'adaptive'.`
        : `Solver '${solver}' takes fixed steps: set 'dt0' to the step size (e.g. dt0: ${(t1 - t0) / 100}), or use an adaptive SDE solver such as 'sosri'.`,
    );
  }
  if (seed !== undefined && !isValidSeed(seed)) {
    throw new InvalidArgumentError(`Option 'seed' must be an integer in [0, ${MAX_SEED}], got ${String(seed)}.`);
  }
  if (brownian !== undefined) {
    if (!(brownian instanceof BrownianTree)) {
      throw new InvalidArgumentError(`Option 'brownian' must be a BrownianTree (from brownianTree({seed, t0, t1, shape})), got ${typeof brownian}.`);
    }
    if (seed !== undefined) {
      throw new InvalidArgumentError(`Give either 'seed' or 'brownian', not both: the Brownian tree already has its seed (${brownian.seed}).`);
    }
    if (brownian.t0 > t0 || brownian.t1 < t1) {
      throw new InvalidArgumentError(
        `Option 'brownian' covers [${brownian.t0}, ${brownian.t1}], which does not contain tspan [${t0}, ${t1}]: build the tree with t0 ≤ ${t0} and t1 ≥ ${t1}.`,
      );
    }
  }
  const { solver: _odeSolver, arithmetic: _arithmetic, ...loop } = base;
  const tab = method.tableau;
  return {
    ...loop,
    direction: 1,
    solver: method.name,
    seed: seed ?? brownian?.seed ?? randomSeed(),
    brownian,
    saveatMode,
    adaptive,
    delta: tab && adaptive ? (delta ?? tab.delta) : undefined,
    qmax: tab && adaptive ? (qmax ?? tab.controller.qmax) : undefined,
  };
}
