/**
 * A sequential Brownian sampler with space-time Lévy area for solves that run forward in time: one exact bridge
 * draw (2 normals per state element) per attempted step, rejection-consistent, with exact answers for queries
 * that go back to intervals already passed. The structure follows the Brownian Interval of Kidger et al. 2021
 * ("Efficient and accurate gradients for neural SDEs", §4): a binary tree of intervals whose split points are
 * the query ends, built lazily, with node values in a bounded cache and recomputed from an ancestor on a miss.
 *
 * ## Construction
 * The root [t0, t1] draws its (ΔW, J) ~ N(0, Q(t1 − t0)) (see bridge.ts for the notation). A query [s, u] makes
 * s and u split points: the interval of the current partition that contains s strictly inside is split at s,
 * then the same for u. A split of [a, b] at c draws the left part [a, c] from the exact conditional law given
 * the parent's (ΔW, J) (the bridge of bridge.ts at r = (c − a)/(b − a)) and gets the right part by Chen's
 * relation, so the pieces always add up to their parent. The answer is the node [s, u] when one exists,
 * otherwise the partition's pieces between s and u combined by Chen's relation.
 *
 * A solver stepping forward queries [t, t + h] with [t, t1] a piece of the partition: one split. A rejected
 * attempt is retried over [t, t + h'], h' < h: one split of [t, t + h], the exact bridge given what was drawn.
 * So each attempted step costs one bridge draw: 2·size normals.
 *
 * ## Determinism and consistency
 * The normals of a split are the counter-based stream (seed, node id), node ids counting nodes in creation
 * order, and element i uses normals 2i and 2i + 1 of the stream: the path is a deterministic function of the
 * seed and the sequence of queries, and element i's path does not depend on the number of elements. Repeating a
 * query returns the same bits when the answer is one node (always the case for a solver's attempts, and for its
 * accepted steps replayed later); an answer combined from several pieces is bit-identical as long as no later
 * query split the interval, and equal to within float32 rounding (relative 1e-7) after.
 *
 * ## Storage and memory
 * Node values are stored as float32 (2·size float32 = 8·size bytes a node) and combined in float64: the solver
 * uses float32 increments, and values are local to their interval (scale √h and h^{3/2}), so float32 keeps
 * their relative precision at any step size; the pieces of a split add up to the stored parent to float32
 * rounding. Values are held for the root, for at most `cacheSize` recently used nodes (LRU) and, as checkpoints,
 * for every right child whose depth in the tree is a multiple of `checkpointEvery` (each accepted step of a
 * forward solve adds one level: its future [t + h, t1] is the right child of [t, t1]). Node memory is therefore
 * 8·size·(1 + cacheSize + checkpoints) bytes, plus two spare buffers: with the defaults (16, 64) a solve of N
 * steps at size = 163,840 holds 1.31 MB·(19 + N/64), 25 MB + 1.31 MB per 64 steps (49 MB after 1,200 steps).
 * `checkpointEvery: Infinity` keeps the memory at 25 MB whatever N, for solves that never query back. The
 * tree's structure (times and links, about 100 bytes a node) is kept for the whole solve.
 *
 * ## Queries back in time
 * A query over an interval already passed is answered from the cache, or by recomputing the missing values
 * down from the nearest ancestor that has them (bit-identical, since the same normals and the same stored
 * parent values are used): at most `checkpointEvery` splits from the nearest checkpoint. Walking the accepted
 * steps of a solve backwards costs at most about 2·checkpointEvery/cacheSize splits per step (8 with the defaults;
 * 4, i.e. 8 normals per element, measured by `npm run bench -- --section brownian`); a larger cache makes it cheaper, and training solves, whose reverse pass reads recorded increments, never pay it.
 */
import { InvalidArgumentError } from '../errors';
import { bridgeCoefficients, bridgeSplit, chen, drawInterval, levyArea } from './bridge';
import { LruCache } from './lru';
import { BrownianIncrement, BrownianPath, BrownianPathOptions, checkPathOptions, checkQuery, newIncrement, shapeSize } from './path';
import { CounterRNG, StreamKey } from './prng';

/** Options of {@link BrownianInterval}: seed, t0, t1 and shape ({@link BrownianPathOptions}), plus: */
export interface BrownianIntervalOptions extends BrownianPathOptions {
  /** Most node values kept in the LRU cache besides the root and the checkpoints (≥ 4). Default 16. */
  cacheSize?: number;
  /** Keep the values of each right child at a depth that is a multiple of this (≥ 1; Infinity: none). Default 64. */
  checkpointEvery?: number;
}

const OPTION_KEYS: readonly (keyof BrownianIntervalOptions)[] = ['seed', 't0', 't1', 'shape', 'cacheSize', 'checkpointEvery'];
/** Defaults: see the module comment for what they cost. */
export const INTERVAL_DEFAULT_CACHE_SIZE = 16;
export const INTERVAL_DEFAULT_CHECKPOINT_EVERY = 64;
/** Stream word 0 of this sampler's draws (the tree's streams use 0..48 and 0xffffffff). */
const STREAM_TAG = 0x42494e54;
const TWO32 = 4294967296;

/** One interval [a, b] of the tree. Its values are held elsewhere (cache, checkpoints or the root). */
interface IntervalNode {
  readonly a: number;
  readonly b: number;
  readonly parent: IntervalNode | null;
  readonly depth: number;
  /** Creation index: the stream of the normals that split this node. */
  readonly id: number;
  left: IntervalNode | null;
  right: IntervalNode | null;
}

/** Per-element (ΔW, J) of one interval, as stored. */
interface NodeValues {
  readonly w: Float32Array;
  readonly j: Float32Array;
}

function checkCount(name: string, v: unknown, min: number, allowInfinity: boolean, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number' && ((Number.isInteger(v) && v >= min) || (allowInfinity && v === Infinity))) return v;
  const inf = allowInfinity ? ' or Infinity' : '';
  throw new InvalidArgumentError(`Option '${name}' must be an integer ≥ ${min}${inf}, got ${String(v)}; omit it for the default ${fallback}.`);
}

/**
 * A Brownian motion with space-time Lévy area on [t0, t1] for a state of `shape`, sampled sequentially for a
 * solve that steps forward in time: one bridge draw per attempted step, rejection-consistent. See the module
 * comment for the construction, its determinism and its memory.
 */
export class BrownianInterval implements BrownianPath {
  readonly t0: number;
  readonly t1: number;
  readonly shape: number[];
  readonly size: number;
  readonly seed: number;
  readonly cacheSize: number;
  readonly checkpointEvery: number;

  private readonly rng: CounterRNG;
  private readonly root: IntervalNode;
  private readonly rootValues: NodeValues;
  private readonly cache: LruCache<IntervalNode, NodeValues>;
  private readonly checkpoints = new Map<IntervalNode, NodeValues>();
  /** Buffers of evicted cache entries, reused by the next splits. */
  private readonly spare: NodeValues[] = [];
  /** The current partition of [t0, t1]: its pieces in time order and their start times. */
  private readonly leaves: IntervalNode[];
  private readonly starts: number[];
  /** The topmost node that starts at each split point (the others are its left descendants). */
  private readonly byStart = new Map<number, IntervalNode>();
  private readonly noise: Float64Array;
  private readonly accW: Float64Array;
  private readonly accJ: Float64Array;
  private nodeCount = 0;
  private normals = 0;
  private splits = 0;

  constructor(opts: BrownianIntervalOptions) {
    checkPathOptions('BrownianInterval', opts, OPTION_KEYS);
    this.cacheSize = checkCount('cacheSize', opts.cacheSize, 4, false, INTERVAL_DEFAULT_CACHE_SIZE);
    this.checkpointEvery = checkCount('checkpointEvery', opts.checkpointEvery, 1, true, INTERVAL_DEFAULT_CHECKPOINT_EVERY);
    this.t0 = opts.t0;
    this.t1 = opts.t1;
    this.seed = opts.seed;
    this.shape = opts.shape.slice();
    this.size = shapeSize(this.shape);
    const n = this.size;
    this.rng = new CounterRNG(this.seed);
    this.cache = new LruCache<IntervalNode, NodeValues>(this.cacheSize, (v) => this.spare.push(v));
    this.noise = new Float64Array(2 * n);
    this.accW = new Float64Array(n);
    this.accJ = new Float64Array(n);
    this.root = this.newNode(this.t0, this.t1, null);
    this.rootValues = { w: new Float32Array(n), j: new Float32Array(n) };
    this.draw([STREAM_TAG, 0xffffffff, 0xffffffff]);
    drawInterval(this.t1 - this.t0, this.noise, this.rootValues.w, this.rootValues.j);
    this.leaves = [this.root];
    this.starts = [this.t0];
    this.byStart.set(this.t0, this.root);
  }

  /** Standard normals drawn so far: 2·size for the root and for each split (including recomputed ones). */
  get normalsDrawn(): number {
    return this.normals;
  }

  /** Bridge draws so far (each 2·size normals), including recomputations of evicted values. */
  get splitCount(): number {
    return this.splits;
  }

  /** Nodes whose values are held now (root, cache and checkpoints), each 2·size float32. */
  get nodesHeld(): number {
    return 1 + this.cache.size + this.checkpoints.size;
  }

  /** Bytes of node values held now: 8·size per node (the structure's few numbers per node not counted). */
  get nodeBytes(): number {
    return 8 * this.size * (this.nodesHeld + this.spare.length);
  }

  /** Pieces of the current partition of [t0, t1] (the split points so far, plus one). */
  get pieces(): number {
    return this.leaves.length;
  }

  /** W(u) − W(s) and the space-time Lévy area over [s, u], t0 ≤ s < u ≤ t1. */
  increment(s: number, u: number): BrownianIncrement {
    return newIncrement(this, s, u);
  }

  /** As {@link increment}, writing into caller-owned arrays of length `size` (no allocation per query). */
  incrementInto(s: number, u: number, dW: Float64Array, H: Float64Array): void {
    checkQuery(this, 'sampler', s, u, dW, H);
    this.splitAt(s);
    this.splitAt(u);
    const node = this.findNode(s, u);
    if (node !== null) {
      const v = this.values(node);
      levyArea(v.w, v.j, u - s, dW, H);
      return;
    }
    // [s, u] is a run of pieces of the partition: combine them left to right.
    let k = this.leafIndex(s);
    let first = true;
    for (; k < this.leaves.length && this.leaves[k].a < u; k++) {
      const leaf = this.leaves[k];
      const v = this.values(leaf);
      if (first) {
        this.accW.set(v.w);
        this.accJ.set(v.j);
        first = false;
      } else {
        chen(this.accW, this.accJ, v.w, v.j, leaf.b - leaf.a, this.accW, this.accJ);
      }
    }
    levyArea(this.accW, this.accJ, u - s, dW, H);
  }

  private newNode(a: number, b: number, parent: IntervalNode | null): IntervalNode {
    return { a, b, parent, depth: parent === null ? 0 : parent.depth + 1, id: this.nodeCount++, left: null, right: null };
  }

  /** Normals of `stream` into the scratch buffer (element i: 2i, 2i + 1). */
  private draw(stream: StreamKey): void {
    this.rng.fillNormal(this.noise, stream);
    this.normals += this.noise.length;
  }

  /** Index of the piece of the partition that contains t (a ≤ t < b; the last piece for t = t1). */
  private leafIndex(t: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Makes t a split point of the partition (no values are computed until they are read). */
  private splitAt(t: number): void {
    if (t === this.t1) return;
    const k = this.leafIndex(t);
    const leaf = this.leaves[k];
    if (leaf.a === t) return;
    const left = this.newNode(leaf.a, t, leaf);
    const right = this.newNode(t, leaf.b, leaf);
    leaf.left = left;
    leaf.right = right;
    this.leaves.splice(k, 1, left, right);
    this.starts.splice(k + 1, 0, t);
    this.byStart.set(t, right);
  }

  /** The node [s, u] if the tree has one. */
  private findNode(s: number, u: number): IntervalNode | null {
    let x = this.byStart.get(s) ?? null;
    while (x !== null && x.b > u) x = x.left;
    return x !== null && x.b === u ? x : null;
  }

  private held(node: IntervalNode): NodeValues | undefined {
    if (node === this.root) return this.rootValues;
    return this.checkpoints.get(node) ?? this.cache.get(node);
  }

  /** The values of `node`, recomputed down from its nearest ancestor with values when they are not held. */
  private values(node: IntervalNode): NodeValues {
    const have = this.held(node);
    if (have !== undefined) return have;
    const chain: IntervalNode[] = [];
    let p = node;
    let pv: NodeValues | undefined;
    do {
      chain.push(p);
      p = p.parent!;
      pv = this.held(p);
    } while (pv === undefined);
    for (let k = chain.length - 1; k >= 0; k--) {
      const child = chain[k];
      const [left, right] = this.splitValues(p, pv);
      pv = child === p.left ? left : right;
      p = child;
    }
    return pv;
  }

  /** Draws the bridge that splits `node` (values `v`) and stores both children's values. */
  private splitValues(node: IntervalNode, v: NodeValues): [NodeValues, NodeValues] {
    const left = node.left!;
    const right = node.right!;
    const h = node.b - node.a;
    this.draw([STREAM_TAG, node.id % TWO32, Math.floor(node.id / TWO32)]);
    this.splits++;
    const lv = this.buffers();
    const rv = this.buffers();
    bridgeSplit(bridgeCoefficients((left.b - left.a) / h, h), right.b - right.a, v.w, v.j, this.noise, lv.w, lv.j, rv.w, rv.j);
    this.store(left, lv);
    this.store(right, rv);
    return [lv, rv];
  }

  private buffers(): NodeValues {
    return this.spare.pop() ?? { w: new Float32Array(this.size), j: new Float32Array(this.size) };
  }

  private store(node: IntervalNode, v: NodeValues): void {
    if (node.depth % this.checkpointEvery === 0 && node === node.parent!.right) this.checkpoints.set(node, v);
    else this.cache.set(node, v);
  }
}

/** Builds a {@link BrownianInterval}; see {@link BrownianIntervalOptions}. */
export function brownianInterval(opts: BrownianIntervalOptions): BrownianInterval {
  return new BrownianInterval(opts);
}
