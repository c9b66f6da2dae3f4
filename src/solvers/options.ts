/** Solver options: the public type, defaults and validation (errors name the fix). */
import { ArithmeticChoice } from './arithmetic';
import { InvalidArgumentError } from '../errors';
import { SolverName, getTableau, SOLVER_NAMES } from './registry';
import { interpolantFor } from './tableaus/interpolants';

/**
 * How the states at `saveat` times are produced:
 * - 'interpolate': the solver steps freely and evaluates the method's dense output (its continuous
 *   extension: Tsit5's free interpolant, DP5's dense output, BS3's Hermite interpolant) at every
 *   output time inside an accepted step, from that step's stages: no extra steps, no extra NFE.
 * - 'step': every output time is a step end (the step before it is shortened to land on it).
 */
export type SaveatMode = 'interpolate' | 'step';

export interface SolveOptions {
  /** Integration interval [t0, t1]; t1 < t0 integrates backwards. Default [0, 1]. */
  tspan?: [number, number];
  /** Method name. Default 'tsit5'. */
  solver?: SolverName;
  /** Relative tolerance. Default 1e-3. */
  rtol?: number;
  /** Absolute tolerance. Default 1e-6. */
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

export interface ResolvedOptions {
  t0: number;
  t1: number;
  direction: 1 | -1;
  solver: SolverName;
  rtol: number;
  atol: number;
  dt0: number | undefined;
  dtmin: number;
  dtmax: number;
  maxSteps: number;
  saveat: number[] | undefined;
  saveatMode: SaveatMode;
  arithmetic: ArithmeticChoice;
  /** Which optional per-step estimates the steps compute (the error estimate is always computed). */
  estimates: { readonly stiffness: boolean };
  /** Internal: times to step exactly onto without returning the state there (e.g. a sampled regularization time). */
  tstops?: number[];
  /**
   * Internal: end the solve at the last `saveat` time instead of t1 (nothing needs the steps
   * after it: no regularizer reads their estimates). Ignored without `saveat`.
   */
  stopAtLastOutput?: boolean;
}

export const DEFAULT_TSPAN: [number, number] = [0, 1];
export const DEFAULT_RTOL = 1e-3;
export const DEFAULT_ATOL = 1e-6;
export const DEFAULT_MAX_STEPS = 10000;

/** The keys of `SolveOptions`. */
export const SOLVE_OPTION_KEYS: readonly (keyof SolveOptions)[] = [
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
  'estimateStiffness',
  'arithmetic',
];
const KNOWN_KEYS: ReadonlySet<string> = new Set(SOLVE_OPTION_KEYS);

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

/**
 * Checks every option and fills in defaults. Throws `InvalidArgumentError` naming the fix. A
 * caller whose `knownKeys` leave out 'saveatMode' (the SDE solver) offers no dense output: its
 * solves step onto the saveat times.
 */
export function resolveOptions(opts: SolveOptions = {}, knownKeys: ReadonlySet<string> = KNOWN_KEYS): ResolvedOptions {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new InvalidArgumentError(
      `Solver options must be an object such as {tspan: [0, 1], rtol: 1e-3}, got ${Array.isArray(opts) ? 'an array' : String(opts)}.`,
    );
  }
  rejectUnknownKeys(opts, knownKeys);
  const tspan = opts.tspan ?? DEFAULT_TSPAN;
  if (!Array.isArray(tspan) || tspan.length !== 2 || !tspan.every((x) => typeof x === 'number' && Number.isFinite(x)) || tspan[0] === tspan[1]) {
    throw new InvalidArgumentError(`Option 'tspan' must be two finite, distinct numbers [t0, t1], got ${JSON.stringify(tspan)}.`);
  }
  const [t0, t1] = tspan;
  const direction: 1 | -1 = t1 > t0 ? 1 : -1;
  const solver = (opts.solver ?? 'tsit5') as SolverName;
  const tableau = getTableau(solver);
  const rtol = opts.rtol === undefined ? DEFAULT_RTOL : positive('rtol', opts.rtol);
  const atol = opts.atol === undefined ? DEFAULT_ATOL : positive('atol', opts.atol);
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
  if (!tableau.adaptive && dt0 === undefined) {
    throw new InvalidArgumentError(
      `Solver '${solver}' takes fixed steps: set 'dt0' to the step size (e.g. dt0: ${span / 100}), or use an adaptive solver such as 'tsit5'.`,
    );
  }
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new InvalidArgumentError(`Option 'maxSteps' must be a positive integer, got ${String(opts.maxSteps)}.`);
  }
  let saveat: number[] | undefined;
  if (opts.saveat !== undefined) {
    if (!Array.isArray(opts.saveat) || opts.saveat.length === 0) {
      throw new InvalidArgumentError(`Option 'saveat' must be a non-empty array of times, got ${JSON.stringify(opts.saveat)}.`);
    }
    saveat = opts.saveat.slice();
    saveat.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isFinite(s)) {
        throw new InvalidArgumentError(`Option 'saveat' must hold finite numbers; entry ${i} is ${String(s)}.`);
      }
      if ((s - t0) * direction < 0 || (s - t1) * direction > 0) {
        throw new InvalidArgumentError(`Option 'saveat' entry ${i} (${s}) lies outside tspan [${t0}, ${t1}].`);
      }
      if (i > 0 && (s - saveat![i - 1]) * direction <= 0) {
        throw new InvalidArgumentError(
          `Option 'saveat' must be strictly ${direction > 0 ? 'increasing' : 'decreasing'} (the direction of tspan); entries ${i - 1} and ${i} are ${saveat![i - 1]} and ${s}.`,
        );
      }
    });
  }
  const arithmetic = opts.arithmetic ?? 'auto';
  if (!['auto', 'host', 'tensor'].includes(arithmetic)) {
    throw new InvalidArgumentError(`Option 'arithmetic' must be 'auto', 'host' or 'tensor', got ${String(arithmetic)}.`);
  }
  const saveatMode = resolveSaveatMode(opts.saveatMode, solver, knownKeys.has('saveatMode'));
  const stiffness = opts.estimateStiffness ?? false;
  if (typeof stiffness !== 'boolean') {
    throw new InvalidArgumentError(`Option 'estimateStiffness' must be a boolean, got ${String(stiffness)}.`);
  }
  if (stiffness && !tableau.stiffnessStages) {
    throw new InvalidArgumentError(
      `Option 'estimateStiffness': solver '${solver}' has no stiffness estimate (it needs two stages at the same node). Use 'tsit5' or 'dopri5', or drop the option.`,
    );
  }
  return { t0, t1, direction, solver, rtol, atol, dt0, dtmin, dtmax, maxSteps, saveat, saveatMode, arithmetic, estimates: { stiffness } };
}

/** Throws unless `mode` is a saveat mode ('interpolate' or 'step'). */
export function checkSaveatMode(mode: unknown): asserts mode is SaveatMode {
  if (mode !== 'interpolate' && mode !== 'step') {
    throw new InvalidArgumentError(`Option 'saveatMode' must be 'interpolate' or 'step', got ${JSON.stringify(mode)}.`);
  }
}

/** The saveat mode in force: the given one (checked against the method) or the method's default. */
function resolveSaveatMode(mode: unknown, solver: SolverName, offered: boolean): SaveatMode {
  const dense = offered && interpolantFor(solver) !== undefined;
  if (mode === undefined) return dense ? 'interpolate' : 'step';
  checkSaveatMode(mode);
  if (mode === 'interpolate' && !dense) {
    throw new InvalidArgumentError(
      `Option saveatMode: 'interpolate' needs a method with a dense output; '${solver}' has none. Use saveatMode: 'step' (step onto the saveat times), or a solver with one: 'tsit5', 'dopri5' or 'bosh3'.`,
    );
  }
  return mode;
}

export { SOLVER_NAMES };
