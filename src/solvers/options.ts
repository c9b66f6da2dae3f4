/**
 * Solver options of both kinds: the public types, one resolver (`resolveOptions(opts, kind)`) that checks them
 * and fills in defaults from the method's record, and the checks the layers share (unknown keys with a
 * spelling hint). Errors name the fix. The controller's settings (tolerances, dtmax, growth limits) are resolved
 * into `controller`, the one place the loop and the discrete adjoint read them from.
 */
import { InvalidArgumentError } from '../errors';
import { isValidSeed, MAX_SEED } from '../noise/prng';
import { BrownianPath, isBrownianPath } from '../noise/path';
import { ArithmeticChoice } from './core/arithmetic';
import { ControllerSettings } from './core/controller';
import { LoopOptions, SaveatMode } from './core/integrate';
import { odeMethod, OdeMethod, sdeMethod, SdeMethod, SdeSolverName, SolverName } from './registry';

export type { SaveatMode };

/** The options every solve takes. */
interface CommonSolveOptions {
  /** Relative tolerance. Default: the method's (1e-3 for ODE methods, 1e-2 for SDE methods). */
  rtol?: number;
  /** Absolute tolerance. Default: the method's (1e-6 for ODE methods, 1e-2 for SDE methods). */
  atol?: number;
  /** Initial step magnitude. Adaptive methods default to Hairer's heuristic (2 extra NFE); fixed-step methods require it. */
  dt0?: number;
  /** Smallest step magnitude the controller may propose before the solve fails. Default 0 (only float underflow fails). */
  dtmin?: number;
  /** Largest step magnitude. Default |t1 − t0|. */
  dtmax?: number;
  /** Maximum number of attempted steps (accepted + rejected). Default 10000. */
  maxSteps?: number;
  /** Times (in integration order, inside tspan) at which to return the state. Default: only t1. */
  saveat?: number[];
}

export interface SolveOptions extends CommonSolveOptions {
  /** Integration interval [t0, t1]; t1 < t0 integrates backwards. Default [0, 1]. */
  tspan?: [number, number];
  /** Method name. Default 'tsit5'. */
  solver?: SolverName;
  /**
   * How the states at `saveat` are computed: 'interpolate' (the method's dense output inside
   * accepted steps; the steps are those of a solve without saveat) or 'step' (step exactly onto
   * every output time). Default 'interpolate' for methods with a dense output (tsit5, dopri5,
   * bosh3), 'step' for the fixed-step methods (euler, midpoint, rk4), which have none.
   */
  saveatMode?: SaveatMode;
  /**
   * Compute the stiffness estimate S_j of every accepted step into `stats.stiffnessEstimate`
   * (tsit5, dopri5). Default false: on the tensor arithmetic it costs three read-backs per step.
   */
  estimateStiffness?: boolean;
  /** Where the step arithmetic runs: 'auto' (host loops on cpu/wasm, tensor ops elsewhere), 'host' or 'tensor'. */
  arithmetic?: ArithmeticChoice;
}

export interface SdeSolveOptions extends CommonSolveOptions {
  /** Integration interval [t0, t1] with t0 < t1 (SDE solves run forward in time). Default [0, 1]. */
  tspan?: [number, number];
  /** Method name. Default 'sosri'. */
  solver?: SdeSolverName;
  /**
   * How `saveat` outputs are made: 'interpolate' (default, StochasticDiffEq's) interpolates linearly between
   * the accepted steps, which take the same steps as without `saveat`; 'step' steps exactly onto each time
   * (more, shorter steps). Both are differentiable through the discrete adjoint.
   */
  saveatMode?: SaveatMode;
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
  brownian?: BrownianPath;
}

/** What both kinds resolve to: the loop's options (with the controller's settings) and the method. */
interface CommonResolved extends LoopOptions {
  /** Whether the solve adapts its step (false: fixed steps of dt0). */
  readonly adaptive: boolean;
  /** The controller's settings in force: tolerances, dtmax, the method's exponents and limits. */
  readonly controller: ControllerSettings;
  readonly estimates: { readonly stiffness: boolean };
}

/** ODE options after validation, with defaults filled in. */
export interface ResolvedOptions extends CommonResolved {
  readonly kind: 'ode';
  readonly solver: SolverName;
  readonly method: OdeMethod;
  readonly arithmetic: ArithmeticChoice;
}

/** SDE options after validation, with defaults filled in. */
export interface SdeResolvedOptions extends CommonResolved {
  readonly kind: 'sde';
  readonly direction: 1;
  readonly solver: SdeSolverName;
  readonly method: SdeMethod;
  /** The seed of the path to draw (the given one or a fresh random one); unused when `brownian` is given. */
  readonly seed: number;
  readonly brownian: BrownianPath | undefined;
  /** δ in force (undefined for fixed-step solves). */
  readonly delta: number | undefined;
}

export const DEFAULT_TSPAN: [number, number] = [0, 1];
export const DEFAULT_MAX_STEPS = 10000;
/** Default ODE and SDE methods. */
export const DEFAULT_SOLVER = { ode: 'tsit5', sde: 'sosri' } as const;

const COMMON_KEYS = ['tspan', 'solver', 'rtol', 'atol', 'dt0', 'dtmin', 'dtmax', 'maxSteps', 'saveat', 'saveatMode'] as const;
/** The keys of `SolveOptions`. */
export const SOLVE_OPTION_KEYS: readonly (keyof SolveOptions)[] = [...COMMON_KEYS, 'estimateStiffness', 'arithmetic'];
/** The keys of `SdeSolveOptions`. */
export const SDE_SOLVE_OPTION_KEYS: readonly (keyof SdeSolveOptions)[] = [...COMMON_KEYS, 'seed', 'brownian', 'adaptive', 'delta', 'qmax'];

/** A uniformly random valid seed (53 bits from two `Math.random` draws). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) * 2 ** 21 + Math.floor(Math.random() * 2 ** 21);
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new InvalidArgumentError(`Option '${name}' must be a finite positive number, got ${String(v)}.`);
  }
  return v;
}

/**
 * The closest valid key to a misspelt one, if one is close: the same ignoring case, or within two edits
 * (insertions, deletions, substitutions, swaps of neighbours) that change at most a quarter of the longer
 * name, so `rtoll` → `rtol` and `wieght` → `weight`, but `sdeType` suggests nothing (not `dtype`).
 */
export function closestKey(key: string, valid: Iterable<string>): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const v of valid) {
    const other = v.toLowerCase();
    const d = other === lower ? 0 : editDistance(lower, other);
    const close = d <= 2 && d <= 0.25 * Math.max(lower.length, other.length);
    if (close && d < bestDistance) {
      best = v;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal-string-alignment distance: Levenshtein plus swaps of adjacent characters. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length][b.length];
}

/** Throws for the first key of `opts` not in `valid`, suggesting the closest valid key. */
export function rejectUnknownKeys(opts: object, valid: Iterable<string>, who = ''): void {
  const list = [...valid];
  for (const key of Object.keys(opts)) {
    if (list.includes(key)) continue;
    const guess = closestKey(key, list);
    throw new InvalidArgumentError(`${who}Unknown option '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}. Valid options: ${list.join(', ')}.`);
  }
}

/** Throws unless `mode` is a saveat mode ('interpolate' or 'step'). */
export function checkSaveatMode(mode: unknown): asserts mode is SaveatMode {
  if (mode !== 'interpolate' && mode !== 'step') {
    throw new InvalidArgumentError(`Option 'saveatMode' must be 'interpolate' or 'step', got ${JSON.stringify(mode)}.`);
  }
}

/**
 * Checks every option of an ODE (`kind` 'ode', the default) or SDE solve and fills in defaults from the
 * method's record. Throws `InvalidArgumentError` naming the fix.
 */
export function resolveOptions(opts?: SolveOptions, kind?: 'ode'): ResolvedOptions;
export function resolveOptions(opts: SdeSolveOptions | undefined, kind: 'sde'): SdeResolvedOptions;
export function resolveOptions(opts: SolveOptions | SdeSolveOptions = {}, kind: 'ode' | 'sde' = 'ode'): ResolvedOptions | SdeResolvedOptions {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    const example = kind === 'ode' ? '{tspan: [0, 1], rtol: 1e-3}' : '{tspan: [0, 1], rtol: 1e-2, seed: 0}';
    throw new InvalidArgumentError(
      `${kind === 'sde' ? 'SDE solver' : 'Solver'} options must be an object such as ${example}, got ${Array.isArray(opts) ? 'an array' : String(opts)}.`,
    );
  }
  rejectUnknownKeys(opts, kind === 'ode' ? SOLVE_OPTION_KEYS : SDE_SOLVE_OPTION_KEYS);
  const method = kind === 'ode' ? odeMethod(opts.solver ?? DEFAULT_SOLVER.ode) : sdeMethod(opts.solver ?? DEFAULT_SOLVER.sde);
  const tspan = opts.tspan ?? DEFAULT_TSPAN;
  if (!Array.isArray(tspan) || tspan.length !== 2 || !tspan.every((x) => typeof x === 'number' && Number.isFinite(x)) || tspan[0] === tspan[1]) {
    throw new InvalidArgumentError(`Option 'tspan' must be two finite, distinct numbers [t0, t1], got ${JSON.stringify(tspan)}.`);
  }
  const [t0, t1] = tspan;
  const direction: 1 | -1 = t1 > t0 ? 1 : -1;
  if (kind === 'sde' && direction !== 1) {
    throw new InvalidArgumentError(
      `SDE solves run forward in time only: option 'tspan' must have t0 < t1, got [${t0}, ${t1}]. Reverse the interval (for a time-reversed SDE, substitute s = t0 + t1 − t into the drift and diffusion).`,
    );
  }
  const rtol = opts.rtol === undefined ? method.tolerances.rtol : positive('rtol', opts.rtol);
  const atol = opts.atol === undefined ? method.tolerances.atol : positive('atol', opts.atol);
  const span = Math.abs(t1 - t0);
  const dtmax = opts.dtmax === undefined ? span : positive('dtmax', opts.dtmax);
  let dtmin = 0;
  if (opts.dtmin !== undefined) {
    if (typeof opts.dtmin !== 'number' || !Number.isFinite(opts.dtmin) || opts.dtmin < 0) {
      throw new InvalidArgumentError(`Option 'dtmin' must be a finite number ≥ 0, got ${String(opts.dtmin)}.`);
    }
    dtmin = opts.dtmin;
  }
  if (dtmin > dtmax) throw new InvalidArgumentError(`Option 'dtmin' (${dtmin}) must not exceed 'dtmax' (${dtmax}).`);
  const dt0 = opts.dt0 === undefined ? undefined : positive('dt0', opts.dt0);
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new InvalidArgumentError(`Option 'maxSteps' must be a positive integer, got ${String(opts.maxSteps)}.`);
  }
  const saveat = resolveSaveat(opts.saveat, t0, t1, direction);
  const saveatMode = resolveSaveatMode(opts.saveatMode, method.name, method.estimates.dense);
  const common = { t0, t1, dt0, dtmin, maxSteps, saveat, saveatMode };

  if (kind === 'ode') {
    const o = opts as SolveOptions;
    const m = method as OdeMethod;
    if (!m.adaptive && dt0 === undefined) {
      throw new InvalidArgumentError(
        `Solver '${m.name}' takes fixed steps: set 'dt0' to the step size (e.g. dt0: ${span / 100}), or use an adaptive solver such as 'tsit5'.`,
      );
    }
    const arithmetic = o.arithmetic ?? 'auto';
    if (!['auto', 'host', 'tensor'].includes(arithmetic)) {
      throw new InvalidArgumentError(`Option 'arithmetic' must be 'auto', 'host' or 'tensor', got ${String(arithmetic)}.`);
    }
    const stiffness = o.estimateStiffness ?? false;
    if (typeof stiffness !== 'boolean') {
      throw new InvalidArgumentError(`Option 'estimateStiffness' must be a boolean, got ${String(stiffness)}.`);
    }
    if (stiffness && !m.estimates.stiffness) {
      throw new InvalidArgumentError(
        `Option 'estimateStiffness': solver '${m.name}' has no stiffness estimate (it needs two stages at the same node). Use 'tsit5' or 'dopri5', or drop the option.`,
      );
    }
    const controller: ControllerSettings = { ...m.controller, rtol, atol, dtmax };
    return { kind, solver: m.name as SolverName, method: m, direction, ...common, adaptive: m.adaptive, controller, arithmetic, estimates: { stiffness } };
  }

  const o = opts as SdeSolveOptions;
  const m = method as SdeMethod;
  if (o.adaptive !== undefined && typeof o.adaptive !== 'boolean') {
    throw new InvalidArgumentError(`Option 'adaptive' must be true or false, got ${String(o.adaptive)}.`);
  }
  if (o.adaptive === true && !m.adaptive) {
    throw new InvalidArgumentError(`Solver '${m.name}' has no error estimate and cannot adapt its step: drop 'adaptive' or use 'sosri'.`);
  }
  const adaptive = o.adaptive ?? m.adaptive;
  for (const name of ['delta', 'qmax'] as const) {
    if (o[name] !== undefined && !adaptive) {
      throw new InvalidArgumentError(
        `Option '${name}' tunes the step-size control of adaptive methods; this solve takes fixed steps ('${m.name}'${m.adaptive ? ' with adaptive: false' : ''}). Drop it or use 'sosri'.`,
      );
    }
  }
  const { delta, qmax, seed, brownian } = o;
  if (delta !== undefined && !(typeof delta === 'number' && Number.isFinite(delta) && delta >= 0)) {
    throw new InvalidArgumentError(`Option 'delta' must be a finite number ≥ 0 (the drift term's weight in the error estimate), got ${String(delta)}.`);
  }
  if (qmax !== undefined && !(typeof qmax === 'number' && Number.isFinite(qmax) && qmax > 1)) {
    throw new InvalidArgumentError(`Option 'qmax' must be a finite number > 1 (the largest step growth factor, e.g. 9/8 or 10), got ${String(qmax)}.`);
  }
  if (!adaptive && dt0 === undefined) {
    throw new InvalidArgumentError(
      m.adaptive
        ? `With adaptive: false, '${m.name}' takes fixed steps: set 'dt0' to the step size (e.g. dt0: ${span / 100}), or drop 'adaptive'.`
        : `Solver '${m.name}' takes fixed steps: set 'dt0' to the step size (e.g. dt0: ${span / 100}), or use an adaptive SDE solver such as 'sosri'.`,
    );
  }
  if (seed !== undefined && !isValidSeed(seed)) {
    throw new InvalidArgumentError(`Option 'seed' must be an integer in [0, ${MAX_SEED}], got ${String(seed)}.`);
  }
  if (brownian !== undefined) checkBrownian(brownian, seed, t0, t1);
  const controller: ControllerSettings = { ...m.controller, ...(qmax !== undefined ? { qmax } : {}), rtol, atol, dtmax };
  return {
    kind,
    solver: m.name as SdeSolverName,
    method: m,
    direction: 1,
    ...common,
    adaptive,
    controller,
    estimates: { stiffness: false },
    seed: seed ?? brownian?.seed ?? randomSeed(),
    brownian,
    delta: m.delta !== undefined && adaptive ? (delta ?? m.delta) : undefined,
  };
}

function resolveSaveat(given: unknown, t0: number, t1: number, direction: 1 | -1): number[] | undefined {
  if (given === undefined) return undefined;
  if (!Array.isArray(given) || given.length === 0) {
    throw new InvalidArgumentError(`Option 'saveat' must be a non-empty array of times, got ${JSON.stringify(given)}.`);
  }
  const saveat: number[] = given.slice();
  saveat.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      throw new InvalidArgumentError(`Option 'saveat' must hold finite numbers; entry ${i} is ${String(s)}.`);
    }
    if ((s - t0) * direction < 0 || (s - t1) * direction > 0) {
      throw new InvalidArgumentError(`Option 'saveat' entry ${i} (${s}) lies outside tspan [${t0}, ${t1}].`);
    }
    if (i > 0 && (s - saveat[i - 1]) * direction <= 0) {
      throw new InvalidArgumentError(
        `Option 'saveat' must be strictly ${direction > 0 ? 'increasing' : 'decreasing'} (the direction of tspan); entries ${i - 1} and ${i} are ${saveat[i - 1]} and ${s}.`,
      );
    }
  });
  return saveat;
}

/** The saveat mode in force: the given one (checked against the method) or the method's default. */
function resolveSaveatMode(mode: unknown, solver: string, dense: boolean): SaveatMode {
  if (mode === undefined) return dense ? 'interpolate' : 'step';
  checkSaveatMode(mode);
  if (mode === 'interpolate' && !dense) {
    throw new InvalidArgumentError(
      `Option saveatMode: 'interpolate' needs a method with a dense output; '${solver}' has none. Use saveatMode: 'step' (step onto the saveat times), or a solver with one: 'tsit5', 'dopri5' or 'bosh3'.`,
    );
  }
  return mode;
}

function checkBrownian(brownian: unknown, seed: number | undefined, t0: number, t1: number): void {
  if (!isBrownianPath(brownian)) {
    throw new InvalidArgumentError(
      `Option 'brownian' must be a Brownian path (brownianInterval({seed, t0, t1, shape}) or brownianTree({...})), got ${typeof brownian}.`,
    );
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
