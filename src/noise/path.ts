/**
 * What an SDE solver reads from a Brownian motion, whatever builds it: W(u) − W(s) and the space-time Lévy area
 * H over [s, u], per element of the state. `BrownianTree` (a virtual Brownian tree: any query in any order,
 * for reusing one path across solves) and `BrownianInterval` (a sequential sampler: one bridge per attempted
 * step of a solve running forward in time) both implement {@link BrownianPath}. This file also holds the option
 * and query checks they share.
 */
import { InvalidArgumentError } from '../errors';
import { isValidSeed, MAX_SEED } from './prng';

/** W(u) − W(s) and the space-time Lévy area H = J/(u − s) − ΔW/2 over [s, u], per element of the state. */
export interface BrownianIncrement {
  readonly dW: Float64Array;
  readonly H: Float64Array;
}

/**
 * A Brownian motion with space-time Lévy area on [t0, t1] for a state of `shape`: each element is its own Wiener
 * process, and the path is a deterministic function of `seed` (and, for a sequential sampler, of the sequence of
 * queries).
 */
export interface BrownianPath {
  readonly seed: number;
  readonly t0: number;
  readonly t1: number;
  readonly shape: number[];
  /** Number of elements (independent Wiener processes). */
  readonly size: number;
  /** Standard normals drawn so far (a measure of work: a bridge draw costs 2·size). */
  readonly normalsDrawn: number;
  /** W(u) − W(s) and H over [s, u], t0 ≤ s < u ≤ t1. */
  increment(s: number, u: number): BrownianIncrement;
  /** As `increment`, writing into caller-owned arrays of length `size`. */
  incrementInto(s: number, u: number, dW: Float64Array, H: Float64Array): void;
}

/**
 * Whether `x` implements {@link BrownianPath} (for checking an option that takes any path): numbers t0 < t1, an
 * integer seed, shape and size, and the two query methods.
 */
export function isBrownianPath(x: unknown): x is BrownianPath {
  if (x === null || typeof x !== 'object') return false;
  const p = x as Partial<Record<keyof BrownianPath, unknown>>;
  return (
    isValidSeed(p.seed) &&
    typeof p.t0 === 'number' &&
    typeof p.t1 === 'number' &&
    p.t0 < p.t1 &&
    Array.isArray(p.shape) &&
    typeof p.size === 'number' &&
    typeof p.increment === 'function' &&
    typeof p.incrementInto === 'function'
  );
}

/** The options every Brownian path takes. */
export interface BrownianPathOptions {
  /** Integer in [0, 2^53 − 1]; the whole path is a deterministic function of it. */
  seed: number;
  /** Start of the time interval. */
  t0: number;
  /** End of the time interval; must exceed t0. */
  t1: number;
  /** Shape of the state; each element is an independent Wiener process ([] is a single one). */
  shape: number[];
}

/** Checks the shared options and rejects keys not in `keys`; `kind` names the class in messages. */
export function checkPathOptions(kind: string, opts: BrownianPathOptions, keys: readonly string[]): void {
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidArgumentError(`${kind} options must be an object { seed, t0, t1, shape }, got ${String(opts)}.`);
  }
  for (const key of Object.keys(opts)) {
    if (!keys.includes(key)) {
      throw new InvalidArgumentError(`Unknown ${kind} option '${key}'. Valid options: ${keys.join(', ')}.`);
    }
  }
  if (!isValidSeed(opts.seed)) {
    throw new InvalidArgumentError(`Option 'seed' must be an integer in [0, ${MAX_SEED}] (e.g. 0 or 42), got ${String(opts.seed)}.`);
  }
  for (const name of ['t0', 't1'] as const) {
    const v = opts[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidArgumentError(`Option '${name}' must be a finite number, got ${String(v)}.`);
    }
  }
  if (!(opts.t1 > opts.t0)) {
    throw new InvalidArgumentError(`Option 't1' (${opts.t1}) must exceed 't0' (${opts.t0}); for a reversed time span pass the smaller time as t0.`);
  }
  const shape: unknown = opts.shape;
  if (!Array.isArray(shape) || !shape.every((x) => Number.isInteger(x) && x > 0)) {
    throw new InvalidArgumentError(`Option 'shape' must be an array of positive integers such as [64, 32] ([] for one process), got ${JSON.stringify(shape)}.`);
  }
}

/** Checks an `incrementInto(s, u, dW, H)` query on `path`; `noun` names the path in messages ("tree"). */
export function checkQuery(path: BrownianPath, noun: string, s: number, u: number, dW?: Float64Array, H?: Float64Array): void {
  if (typeof s !== 'number' || typeof u !== 'number' || !Number.isFinite(s) || !Number.isFinite(u)) {
    throw new InvalidArgumentError(`increment(s, u) needs finite numbers, got s=${String(s)}, u=${String(u)}.`);
  }
  if (!(s < u)) {
    throw new InvalidArgumentError(`increment(s, u) needs s < u, got s=${s}, u=${u}; for a backward step query increment(u, s) and negate dW and H.`);
  }
  if (s < path.t0 || u > path.t1) {
    throw new InvalidArgumentError(`increment(${s}, ${u}) lies outside the ${noun}'s span [${path.t0}, ${path.t1}]; build the ${noun} with t0 ≤ s and u ≤ t1.`);
  }
  if (dW === undefined || H === undefined) return;
  const n = path.size;
  if (!(dW instanceof Float64Array) || !(H instanceof Float64Array) || dW.length !== n || H.length !== n) {
    throw new InvalidArgumentError(`incrementInto needs two Float64Arrays of length ${n} (the ${noun}'s size).`);
  }
}

/** A fresh increment of `path` over [s, u] (the allocating form of `incrementInto`). */
export function newIncrement(path: BrownianPath, s: number, u: number): BrownianIncrement {
  const dW = new Float64Array(path.size);
  const H = new Float64Array(path.size);
  path.incrementInto(s, u, dW, H);
  return { dW, H };
}

/** The number of elements of `shape`. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
