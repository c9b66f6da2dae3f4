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
 * drawn from the counter-based stream (seed, d, k); element i uses normals 2i and 2i + 1 of each stream, so its
 * path depends on the seed, its index and time, not on the state's size. Node values are float64 (2·size
 * float64 = 16·size bytes a node; `BrownianInterval` stores float32 and holds far fewer nodes). Bisection stops at depth D, the first with L/2^D ≤ tol. A
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
import { bridgeCoefficients, BridgeCoefficients, bridgeLeft, bridgeSplit, chen, drawInterval, levyArea } from './bridge';
import { BrownianIncrement, BrownianPath, BrownianPathOptions, checkPathOptions, checkQuery, newIncrement, shapeSize } from './path';
import { LruCache } from './lru';
import { CounterRNG, StreamKey } from './prng';

export type { BrownianIncrement } from './path';

/** Options of {@link BrownianTree}: seed, t0, t1 and shape ({@link BrownianPathOptions}), plus: */
export interface BrownianTreeOptions extends BrownianPathOptions {
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
/** Stream of the root's own (ΔW, J) draw; split streams use word 0 = depth ≤ 48. */
const ROOT_STREAM: StreamKey = [0xffffffff, 0, 0];
const TWO32 = 4294967296;

/** Per-element (ΔW, J) of one interval. */
interface NodeValues {
  readonly w: Float64Array;
  readonly j: Float64Array;
}

/**
 * A Brownian motion on [t0, t1] for a state of `shape`, with space-time Lévy area, as a virtual Brownian tree:
 * every query is a deterministic function of the seed and the query, consistent with all other queries. See the
 * module comment for the construction, the formulas and the tolerance trade-off.
 */
export class BrownianTree implements BrownianPath {
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
  private readonly nodes: LruCache<number, NodeValues>;
  private readonly leafNoise: LruCache<number, Float64Array>;
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
  private normals = 0;

  constructor(opts: BrownianTreeOptions) {
    checkPathOptions('BrownianTree', opts, OPTION_KEYS);
    this.t0 = opts.t0;
    this.t1 = opts.t1;
    this.span = opts.t1 - opts.t0;
    this.seed = opts.seed;
    this.shape = opts.shape.slice();
    this.size = shapeSize(this.shape);
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
    this.nodes = new LruCache<number, NodeValues>(cacheSize);
    this.leafNoise = new LruCache<number, Float64Array>(4);
    this.noise = new Float64Array(2 * n);
    this.leftW = new Float64Array(n);
    this.leftJ = new Float64Array(n);
    this.rightW = new Float64Array(n);
    this.rightJ = new Float64Array(n);
    this.pointW = new Float64Array(n);
    this.pointJ = new Float64Array(n);

    // Root: (ΔW, J) over [t0, t1] ~ N(0, Q(L)).
    this.root = { w: new Float64Array(n), j: new Float64Array(n) };
    this.draw(this.noise, ROOT_STREAM);
    drawInterval(this.span, this.noise, this.root.w, this.root.j);
  }

  /** Node splits performed so far (each cost 2·size normals): a measure of work, for tuning tol and cacheSize. */
  get splitCount(): number {
    return this.splits;
  }

  /** Standard normals drawn so far: 2·size for the root, for each split and for each leaf whose inside was queried. */
  get normalsDrawn(): number {
    return this.normals;
  }

  /** Fills z with the normals of `stream`: element i gets z[2i], z[2i + 1], whatever the size. */
  private draw(z: Float64Array, stream: StreamKey): void {
    this.rng.fillNormal(z, stream);
    this.normals += z.length;
  }

  /** W(u) − W(s) and the space-time Lévy area over [s, u], t0 ≤ s < u ≤ t1. */
  increment(s: number, u: number): BrownianIncrement {
    return newIncrement(this, s, u);
  }

  /** As {@link increment}, writing into caller-owned arrays of length `size` (no allocation per query). */
  incrementInto(s: number, u: number, dW: Float64Array, H: Float64Array): void {
    checkQuery(this, 'tree', s, u, dW, H);
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
    chen(this.leftW, this.leftJ, this.rightW, this.rightJ, u - m, this.leftW, this.leftJ);
    levyArea(this.leftW, this.leftJ, h, dW, H);
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
    this.draw(this.noise, this.stream(d, k));
    this.splits++;
    const lW = new Float64Array(n);
    const lJ = new Float64Array(n);
    const rW = new Float64Array(n);
    const rJ = new Float64Array(n);
    bridgeSplit(this.midpoint[d], 0.5 * this.nodeLength(d), vals.w, vals.j, this.noise, lW, lJ, rW, rJ);
    const left: NodeValues = { w: lW, j: lJ };
    const right: NodeValues = { w: rW, j: rJ };
    this.nodes.set(idLeft, left);
    this.nodes.set(idLeft + 1, right);
    return [left, right];
  }

  /** (ΔW, J) over [a, t] for t inside leaf (d, k) = [a, b]: the exact conditional sample given the leaf's values. */
  private leafPoint(d: number, k: number, vals: NodeValues, t: number, outW: Float64Array, outJ: Float64Array): void {
    const a = this.nodeTime(d, k);
    const h = this.nodeLength(d);
    const r = Math.min(1, Math.max(0, (t - a) / h));
    const id = 2 ** d + k;
    let z = this.leafNoise.get(id);
    if (z === undefined) {
      z = new Float64Array(2 * this.size);
      this.draw(z, this.stream(d, k));
      this.leafNoise.set(id, z);
    }
    bridgeLeft(bridgeCoefficients(r, h), vals.w, vals.j, z, outW, outJ);
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
      chen(xw, xj, accW, accJ, accLen, accW, accJ);
    }
  }

  /** acc ← acc ⊕ Y, with acc over [p, p + accLen] (accLen = 0: acc is empty) and Y of length `len` after it. */
  private append(yw: Float64Array, yj: Float64Array, len: number, accLen: number, accW: Float64Array, accJ: Float64Array): void {
    if (accLen === 0) {
      accW.set(yw);
      accJ.set(yj);
    } else {
      chen(accW, accJ, yw, yj, len, accW, accJ);
    }
  }
}

/** Builds a {@link BrownianTree}; see {@link BrownianTreeOptions}. */
export function brownianTree(opts: BrownianTreeOptions): BrownianTree {
  return new BrownianTree(opts);
}
