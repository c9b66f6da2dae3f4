/**
 * A seedable virtual Brownian tree with space-time Lévy area: W(u) − W(s) and H over any [s, u] ⊂ [t0, t1], as a
 * deterministic function of (seed, s, u), consistent across all queries (Li et al. 2020, "Scalable gradients for
 * stochastic differential equations", §virtual Brownian tree; Kidger et al. 2021, "Efficient and accurate
 * gradients for neural SDEs", for the Lévy area). Each element of the state is its own Wiener process.
 *
 * ## What a node carries
 * For an interval [a, b] of length h the tree stores, per element, the pair
 *   ΔW = W(b) − W(a)   and   J = ∫_a^b (W(r) − W(a)) dr,
 * from which the space-time Lévy area is H = J/h − ΔW/2 (Var H = h/12, H independent of ΔW). Pairs of adjacent
 * intervals [a, b], [b, c] combine exactly (Chen's relation):
 *   ΔW_ac = ΔW_ab + ΔW_bc,   J_ac = J_ab + J_bc + (c − b)·ΔW_ab,
 * equivalently, with h1 = b − a, h2 = c − b, h = h1 + h2:
 *   H_ac = (h1·H_ab + h2·H_bc)/h + (h2·ΔW_ab − h1·ΔW_bc)/(2h).
 * All values are local to their interval (scale √h and h^{3/2}), so H keeps full relative precision however small
 * the query: nothing is computed as a difference of large running integrals.
 *
 * ## The bridge with Lévy area
 * (W, ∫W) is a Gaussian Markov process; over a length τ its increment (ΔW, J) has covariance
 * Q(τ) = [[τ, τ²/2], [τ²/2, τ³/3]]. Given (ΔW, J) over [a, b] (length h) and a point c = a + r·h, q = 1 − r,
 * the left part (ΔW_ac, J_ac) is Gaussian with (derived by conditioning; in units h = 1, scale ΔW by √h and
 * J by h^{3/2}):
 *   mean  = [[r(3r − 2), 6rq], [−r²q, r²(3 − 2r)]] · (ΔW, J)
 *   cov   = [[rq(1 − 3rq), r²q²(q − r)/2], [r²q²(q − r)/2, r³q³/3]]
 *   Cholesky: L00 = √(rq(1 − 3rq)), L10 = cov01/L00, L11 = √(r³q³ / (12(1 − 3rq)))
 * and the right part follows by Chen's relation. At the midpoint (r = 1/2), in terms of (ΔW, H):
 *   ΔW_left = ΔW/2 + 3H/2 + (√h/4)·Z1,   J_left = −(h/8)·ΔW + J/2 + h^{3/2}/√192·Z2,
 * so E[H_left | ΔW, H] = H/4, Var[ΔW_left | ΔW, H] = h/16, Var[H_left | ΔW, H] = 7h/192,
 * Cov[ΔW_left, H_left | ΔW, H] = −h/32; and given ΔW alone, ΔW_left has mean ΔW/2 and variance h/4.
 *
 * ## Structure, tolerance and cost
 * Node (d, k) covers [t0 + k·L/2^d, t0 + (k+1)·L/2^d], L = t1 − t0, and is split at its midpoint with normals
 * drawn from the counter-based stream (seed, d, k). Bisection stops at depth D, the first with L/2^D ≤ tol. A
 * query point inside a leaf gets the exact conditional sample at that point given the leaf's (ΔW, J), driven by
 * the leaf's own stream: W is a deterministic function of t, exact in law on the dyadic grid of spacing L/2^D
 * and for any single point, while two points in the same leaf share the leaf's normals (their joint law is
 * approximate). So increments over intervals much longer than tol have the exact joint law up to a relative
 * error of order tol/(u − s), while steps shorter than tol are smooth interpolants. Cost: a query descends D
 * levels; each node split not in the cache costs 2·size normals. A solver that queries adjacent intervals
 * [t, t + h] reuses the previous query's path and pays about log2(h/tol) + 1 new splits per query. Smaller tol:
 * exact statistics for smaller steps, more levels per query.
 */
import { InvalidArgumentError } from '../errors';
import { CounterRNG, isValidSeed, MAX_SEED, StreamKey } from './prng';

/** W(u) − W(s) and the space-time Lévy area H over [s, u], per element of the state. */
export interface BrownianIncrement {
  readonly dW: Float64Array;
  readonly H: Float64Array;
}

/** Options of {@link BrownianTree}. */
export interface BrownianTreeOptions {
  /** Integer in [0, 2^53 − 1]; the whole path is a deterministic function of it. */
  seed: number;
  /** Start of the time interval. */
  t0: number;
  /** End of the time interval; must exceed t0. */
  t1: number;
  /** Shape of the state; each element is an independent Wiener process ([] is a single one). */
  shape: number[];
  /** Leaf length bound: bisect until intervals are ≤ tol. Default (t1 − t0)·2^-20 ≈ 9.5e-7·(t1 − t0). */
  tol?: number;
  /** Most tree nodes kept in the LRU cache (each holds 2·size float64). Default 4·(depth + 1). */
  cacheSize?: number;
}

/** Default leaf length as a fraction of t1 − t0 (20 levels of bisection). */
export const DEFAULT_TOL_FRACTION = 2 ** -20;
/** Deepest allowed tree (node indices must stay exact in float64 and fit the PRNG stream words). */
export const MAX_TREE_DEPTH = 48;

const OPTION_KEYS: readonly (keyof BrownianTreeOptions)[] = ['seed', 't0', 't1', 'shape', 'tol', 'cacheSize'];
const KNOWN_KEYS: ReadonlySet<string> = new Set(OPTION_KEYS);
const TWO32 = 4294967296;
/** Stream of the root's own (ΔW, J) draw; split streams use word 0 = depth ≤ 48. */
const ROOT_STREAM: StreamKey = [0xffffffff, 0, 0];

/** Per-element (ΔW, J) of one interval. */
interface NodeValues {
  readonly w: Float64Array;
  readonly j: Float64Array;
}

/** Coefficients of the conditional law of the left part of an interval of length h split at fraction r. */
interface BridgeCoefficients {
  /** Mean: ΔW_left = mww·ΔW + mwj·J, J_left = mjw·ΔW + mjj·J. */
  mww: number;
  mwj: number;
  mjw: number;
  mjj: number;
  /** Noise: ΔW_left += lw·Z1, J_left += ljw·Z1 + ljj·Z2. */
  lw: number;
  ljw: number;
  ljj: number;
}

/** The bridge-with-Lévy-area coefficients (see the module comment), scaled to an interval of length h. */
function bridgeCoefficients(r: number, h: number): BridgeCoefficients {
  const q = 1 - r;
  const c = 1 - 3 * r * q;
  const s00 = r * q * c;
  const s01 = (r * r * q * q * (q - r)) / 2;
  const l00 = Math.sqrt(s00);
  const l10 = l00 > 0 ? s01 / l00 : 0;
  const l11 = Math.sqrt((r * r * r * q * q * q) / (12 * c));
  const sh = Math.sqrt(h);
  const h32 = h * sh;
  return {
    mww: r * (3 * r - 2),
    mwj: (6 * r * q) / h,
    mjw: -r * r * q * h,
    mjj: r * r * (3 - 2 * r),
    lw: l00 * sh,
    ljw: l10 * h32,
    ljj: l11 * h32,
  };
}

/** A bounded least-recently-used map from node id to values. */
class NodeCache<V> {
  private readonly map = new Map<number, V>();
  constructor(private readonly capacity: number) {}

  get(id: number): V | undefined {
    const v = this.map.get(id);
    if (v !== undefined) {
      this.map.delete(id);
      this.map.set(id, v);
    }
    return v;
  }

  set(id: number, v: V): void {
    this.map.delete(id);
    this.map.set(id, v);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as number);
  }
}

function checkOptions(opts: BrownianTreeOptions): void {
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidArgumentError(`BrownianTree options must be an object { seed, t0, t1, shape }, got ${String(opts)}.`);
  }
  for (const key of Object.keys(opts)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new InvalidArgumentError(`Unknown BrownianTree option '${key}'. Valid options: ${OPTION_KEYS.join(', ')}.`);
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

/**
 * A Brownian motion on [t0, t1] for a state of `shape`, with space-time Lévy area, as a virtual Brownian tree:
 * every query is a deterministic function of the seed and the query, consistent with all other queries. See the
 * module comment for the construction, the formulas and the tolerance trade-off.
 */
export class BrownianTree {
  readonly t0: number;
  readonly t1: number;
  readonly shape: number[];
  /** Number of elements (independent Wiener processes). */
  readonly size: number;
  readonly seed: number;
  /** Leaf length bound used. */
  readonly tol: number;
  /** Bisection depth D: leaves have length (t1 − t0)/2^D ≤ tol. */
  readonly depth: number;
  /** Most tree nodes kept in memory. */
  readonly cacheSize: number;

  private readonly span: number;
  private readonly rng: CounterRNG;
  private readonly root: NodeValues;
  private readonly nodes: NodeCache<NodeValues>;
  private readonly leafNoise: NodeCache<Float64Array>;
  private readonly midpoint: BridgeCoefficients[] = [];
  private readonly noise: Float64Array;
  /** Scratch: [s, m] (suffix accumulator), [m, u] (prefix accumulator) and one point sample inside a leaf. */
  private readonly leftW: Float64Array;
  private readonly leftJ: Float64Array;
  private readonly rightW: Float64Array;
  private readonly rightJ: Float64Array;
  private readonly pointW: Float64Array;
  private readonly pointJ: Float64Array;
  private splits = 0;

  constructor(opts: BrownianTreeOptions) {
    checkOptions(opts);
    this.t0 = opts.t0;
    this.t1 = opts.t1;
    this.span = opts.t1 - opts.t0;
    this.seed = opts.seed;
    this.shape = opts.shape.slice();
    this.size = this.shape.reduce((a, b) => a * b, 1);
    const minTol = this.span * 2 ** -MAX_TREE_DEPTH;
    const tol = opts.tol ?? this.span * DEFAULT_TOL_FRACTION;
    if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < minTol) {
      throw new InvalidArgumentError(
        `Option 'tol' must be a finite number ≥ (t1 − t0)·2^-${MAX_TREE_DEPTH} = ${minTol}, got ${String(opts.tol)}; ` +
          `omit it for the default (t1 − t0)·2^-20.`,
      );
    }
    this.tol = tol;
    let depth = 0;
    while (this.span * 2 ** -depth > tol) depth++;
    this.depth = depth;
    const cacheSize = opts.cacheSize ?? 4 * (depth + 1);
    if (!Number.isInteger(cacheSize) || cacheSize < 2) {
      throw new InvalidArgumentError(`Option 'cacheSize' must be an integer ≥ 2 (tree nodes), got ${String(opts.cacheSize)}.`);
    }
    this.cacheSize = cacheSize;
    for (let d = 0; d < depth; d++) this.midpoint.push(bridgeCoefficients(0.5, this.nodeLength(d)));

    const n = this.size;
    this.rng = new CounterRNG(this.seed);
    this.nodes = new NodeCache<NodeValues>(cacheSize);
    this.leafNoise = new NodeCache<Float64Array>(4);
    this.noise = new Float64Array(2 * n);
    this.leftW = new Float64Array(n);
    this.leftJ = new Float64Array(n);
    this.rightW = new Float64Array(n);
    this.rightJ = new Float64Array(n);
    this.pointW = new Float64Array(n);
    this.pointJ = new Float64Array(n);

    // Root: (ΔW, J) over [t0, t1] ~ N(0, Q(L)): ΔW = √L·Z1, J = L^{3/2}·(Z1/2 + Z2/√12).
    this.root = { w: new Float64Array(n), j: new Float64Array(n) };
    this.rng.fillNormal(this.noise, ROOT_STREAM);
    const sl = Math.sqrt(this.span);
    const l32 = this.span * sl;
    for (let i = 0; i < n; i++) {
      const z1 = this.noise[i];
      const z2 = this.noise[n + i];
      this.root.w[i] = sl * z1;
      this.root.j[i] = l32 * (0.5 * z1 + z2 / Math.sqrt(12));
    }
  }

  /** Node splits performed so far (each cost 2·size normals): a measure of work, for tuning tol and cacheSize. */
  get splitCount(): number {
    return this.splits;
  }

  /** W(u) − W(s) and the space-time Lévy area over [s, u], t0 ≤ s < u ≤ t1. */
  increment(s: number, u: number): BrownianIncrement {
    const dW = new Float64Array(this.size);
    const H = new Float64Array(this.size);
    this.incrementInto(s, u, dW, H);
    return { dW, H };
  }

  /** As {@link increment}, writing into caller-owned arrays of length `size` (no allocation per query). */
  incrementInto(s: number, u: number, dW: Float64Array, H: Float64Array): void {
    this.checkQuery(s, u);
    if (!(dW instanceof Float64Array) || !(H instanceof Float64Array) || dW.length !== this.size || H.length !== this.size) {
      throw new InvalidArgumentError(`incrementInto needs two Float64Arrays of length ${this.size} (the tree's size).`);
    }
    const n = this.size;
    // Descend while [s, u] lies inside one child.
    let d = 0;
    let k = 0;
    let vals = this.root;
    while (d < this.depth) {
      const m = this.nodeTime(d + 1, 2 * k + 1);
      if (u <= m) {
        vals = this.children(d, k, vals)[0];
        k = 2 * k;
      } else if (s >= m) {
        vals = this.children(d, k, vals)[1];
        k = 2 * k + 1;
      } else break;
      d++;
    }
    const h = u - s;
    if (d === this.depth) {
      // Both ends in one leaf: (ΔW, J) over [a, s] and [a, u], then J_su = J_au − J_as − (u − s)·ΔW_as.
      this.leafPoint(d, k, vals, s, this.leftW, this.leftJ);
      this.leafPoint(d, k, vals, u, this.rightW, this.rightJ);
      for (let i = 0; i < n; i++) {
        const ws = this.leftW[i];
        const w = this.rightW[i] - ws;
        const j = this.rightJ[i] - this.leftJ[i] - h * ws;
        dW[i] = w;
        H[i] = j / h - 0.5 * w;
      }
      return;
    }
    // s < m < u: [s, m] from the left child, [m, u] from the right child, then Chen's relation.
    const m = this.nodeTime(d + 1, 2 * k + 1);
    const [left, right] = this.children(d, k, vals);
    this.suffix(d + 1, 2 * k, left, s, this.leftW, this.leftJ);
    this.prefix(d + 1, 2 * k + 1, right, u, this.rightW, this.rightJ);
    const tail = u - m;
    for (let i = 0; i < n; i++) {
      const w1 = this.leftW[i];
      const w = w1 + this.rightW[i];
      const j = this.leftJ[i] + this.rightJ[i] + tail * w1;
      dW[i] = w;
      H[i] = j / h - 0.5 * w;
    }
  }

  private checkQuery(s: number, u: number): void {
    if (typeof s !== 'number' || typeof u !== 'number' || !Number.isFinite(s) || !Number.isFinite(u)) {
      throw new InvalidArgumentError(`increment(s, u) needs finite numbers, got s=${String(s)}, u=${String(u)}.`);
    }
    if (!(s < u)) {
      throw new InvalidArgumentError(`increment(s, u) needs s < u, got s=${s}, u=${u}; for a backward step query increment(u, s) and negate dW and H.`);
    }
    if (s < this.t0 || u > this.t1) {
      throw new InvalidArgumentError(`increment(${s}, ${u}) lies outside the tree's span [${this.t0}, ${this.t1}]; build the tree with t0 ≤ s and u ≤ t1.`);
    }
  }

  /** Nominal length (t1 − t0)·2^-d of a node at depth d. */
  private nodeLength(d: number): number {
    return this.span * 2 ** -d;
  }

  /** Time of the grid point k at depth d (k = 2^d is t1 exactly). */
  private nodeTime(d: number, k: number): number {
    const scale = 2 ** -d;
    return k * scale === 1 ? this.t1 : this.t0 + this.span * (k * scale);
  }

  private stream(d: number, k: number): StreamKey {
    return [d, k % TWO32, Math.floor(k / TWO32)];
  }

  /** Both children of node (d, k), from the cache or by one bisection with the exact bridge. */
  private children(d: number, k: number, vals: NodeValues): [NodeValues, NodeValues] {
    const idLeft = 2 ** (d + 1) + 2 * k;
    const cachedLeft = this.nodes.get(idLeft);
    const cachedRight = this.nodes.get(idLeft + 1);
    if (cachedLeft !== undefined && cachedRight !== undefined) return [cachedLeft, cachedRight];
    const n = this.size;
    const z = this.noise;
    this.rng.fillNormal(z, this.stream(d, k));
    this.splits++;
    const { mww, mwj, mjw, mjj, lw, ljw, ljj } = this.midpoint[d];
    const half = 0.5 * this.nodeLength(d);
    const lW = new Float64Array(n);
    const lJ = new Float64Array(n);
    const rW = new Float64Array(n);
    const rJ = new Float64Array(n);
    const w = vals.w;
    const j = vals.j;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      const ji = j[i];
      const z1 = z[i];
      const wl = mww * wi + mwj * ji + lw * z1;
      const jl = mjw * wi + mjj * ji + ljw * z1 + ljj * z[n + i];
      lW[i] = wl;
      lJ[i] = jl;
      rW[i] = wi - wl;
      rJ[i] = ji - jl - half * wl;
    }
    const left: NodeValues = { w: lW, j: lJ };
    const right: NodeValues = { w: rW, j: rJ };
    this.nodes.set(idLeft, left);
    this.nodes.set(idLeft + 1, right);
    return [left, right];
  }

  /** (ΔW, J) over [a, t] for t inside leaf (d, k) = [a, b]: the exact conditional sample given the leaf's values. */
  private leafPoint(d: number, k: number, vals: NodeValues, t: number, outW: Float64Array, outJ: Float64Array): void {
    const n = this.size;
    const a = this.nodeTime(d, k);
    const h = this.nodeLength(d);
    const r = Math.min(1, Math.max(0, (t - a) / h));
    const id = 2 ** d + k;
    let z = this.leafNoise.get(id);
    if (z === undefined) {
      z = new Float64Array(2 * n);
      this.rng.fillNormal(z, this.stream(d, k));
      this.leafNoise.set(id, z);
    }
    const { mww, mwj, mjw, mjj, lw, ljw, ljj } = bridgeCoefficients(r, h);
    const w = vals.w;
    const j = vals.j;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      const ji = j[i];
      const z1 = z[i];
      outW[i] = mww * wi + mwj * ji + lw * z1;
      outJ[i] = mjw * wi + mjj * ji + ljw * z1 + ljj * z[n + i];
    }
  }

  /** (ΔW, J) over [s, b] where node (d, k) = [a, b] contains s. */
  private suffix(d: number, k: number, vals: NodeValues, s: number, outW: Float64Array, outJ: Float64Array): void {
    const n = this.size;
    // The accumulator (outW, outJ) holds [b_current, b] once `accLen` > 0.
    let accLen = 0;
    for (;;) {
      if (s === this.nodeTime(d, k)) {
        this.prepend(vals.w, vals.j, accLen, outW, outJ);
        return;
      }
      if (d === this.depth) {
        const b = this.nodeTime(d, k + 1);
        const pw = this.pointW;
        const pj = this.pointJ;
        this.leafPoint(d, k, vals, s, pw, pj);
        // [s, b] = leaf minus [a, s]: ΔW = w − ΔW_as, J = j − J_as − (b − s)·ΔW_as.
        const rest = b - s;
        const w = vals.w;
        const j = vals.j;
        for (let i = 0; i < n; i++) {
          const was = pw[i];
          pw[i] = w[i] - was;
          pj[i] = j[i] - pj[i] - rest * was;
        }
        this.prepend(pw, pj, accLen, outW, outJ);
        return;
      }
      const m = this.nodeTime(d + 1, 2 * k + 1);
      const [left, right] = this.children(d, k, vals);
      if (s < m) {
        this.prepend(right.w, right.j, accLen, outW, outJ);
        accLen += this.nodeLength(d + 1);
        vals = left;
        k = 2 * k;
      } else {
        vals = right;
        k = 2 * k + 1;
      }
      d++;
    }
  }

  /** (ΔW, J) over [a, u] where node (d, k) = [a, b] contains u. */
  private prefix(d: number, k: number, vals: NodeValues, u: number, outW: Float64Array, outJ: Float64Array): void {
    // The accumulator (outW, outJ) holds [a, a_current] once `accLen` > 0.
    let accLen = 0;
    for (;;) {
      if (u === this.nodeTime(d, k + 1)) {
        this.append(vals.w, vals.j, this.nodeLength(d), accLen, outW, outJ);
        return;
      }
      if (d === this.depth) {
        const a = this.nodeTime(d, k);
        this.leafPoint(d, k, vals, u, this.pointW, this.pointJ);
        this.append(this.pointW, this.pointJ, u - a, accLen, outW, outJ);
        return;
      }
      const m = this.nodeTime(d + 1, 2 * k + 1);
      const [left, right] = this.children(d, k, vals);
      if (u > m) {
        this.append(left.w, left.j, this.nodeLength(d + 1), accLen, outW, outJ);
        accLen += this.nodeLength(d + 1);
        vals = right;
        k = 2 * k + 1;
      } else {
        vals = left;
        k = 2 * k;
      }
      d++;
    }
  }

  /** acc ← X ⊕ acc, with X over [p, q] and acc over [q, q + accLen] (accLen = 0: acc is empty). */
  private prepend(xw: Float64Array, xj: Float64Array, accLen: number, accW: Float64Array, accJ: Float64Array): void {
    if (accLen === 0) {
      accW.set(xw);
      accJ.set(xj);
    } else {
      this.chen(xw, xj, accW, accJ, accLen, accW, accJ);
    }
  }

  /** acc ← acc ⊕ Y, with acc over [p, p + accLen] (accLen = 0: acc is empty) and Y of length `len` after it. */
  private append(yw: Float64Array, yj: Float64Array, len: number, accLen: number, accW: Float64Array, accJ: Float64Array): void {
    if (accLen === 0) {
      accW.set(yw);
      accJ.set(yj);
    } else {
      this.chen(accW, accJ, yw, yj, len, accW, accJ);
    }
  }

  /**
   * out ← A ⊕ B for A followed by B (B of length `bLen`): W = W_A + W_B, J = J_A + J_B + bLen·W_A
   * (Chen's relation for the time integral). `out` may alias A or B.
   */
  private chen(aw: Float64Array, aj: Float64Array, bw: Float64Array, bj: Float64Array, bLen: number, outW: Float64Array, outJ: Float64Array): void {
    for (let i = 0; i < this.size; i++) {
      const jSum = aj[i] + bj[i] + bLen * aw[i];
      outW[i] = aw[i] + bw[i];
      outJ[i] = jSum;
    }
  }
}

/** Builds a {@link BrownianTree}; see {@link BrownianTreeOptions}. */
export function brownianTree(opts: BrownianTreeOptions): BrownianTree {
  return new BrownianTree(opts);
}
