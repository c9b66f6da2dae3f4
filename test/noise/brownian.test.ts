/**
 * The virtual Brownian tree: increment and Lévy-area statistics, bridge conditional laws, independence,
 * determinism (including after cache eviction), consistency over partitions, work per query and input checks.
 *
 * The n = 20000 elements of one state are independent samples. Bounds are 4.5 standard errors (two-sided
 * p ≈ 7e-6 per check): SE(sample variance / true variance) = √(2/n) = 0.0100, SE(correlation) = 1/√n = 0.0071,
 * SE(regression slope) = √(residual variance / (n·Var x)).
 */
import { BrownianTree, brownianTree, BrownianTreeOptions, DEFAULT_TOL_FRACTION } from '../../src/noise/brownian';
import { InvalidArgumentError } from '../../src/solvers/core/errors';
import { combineH, correlation, expectIncrementLaw, regress2, variance } from '../support/brownian_stats';

const N = 20000;
const K = 4.5;

const base: BrownianTreeOptions = { seed: 2024, t0: 0, t1: 1, shape: [N] };

describe('BrownianTree statistics', () => {
  const tree = brownianTree(base);
  // Whole span, straddling the root split, inside a subtree, a short step, and one just 4·tol long.
  const intervals: [number, number][] = [
    [0, 1],
    [0.3, 0.8],
    [0.61, 0.62],
    [0.123456789, 0.123466789],
    [0.7, 0.7 + 4 * DEFAULT_TOL_FRACTION],
  ];

  it.each(intervals)('over [%p, %p]: mean 0, Var dW = h, Var H = h/12, corr(dW, H) = 0', (s, u) => {
    const h = u - s;
    const { dW, H } = tree.increment(s, u);
    expectIncrementLaw(dW, H, h, K);
  });

  it('gives independent increments and Lévy areas over disjoint intervals (|corr| < 4.5/√n)', () => {
    const pieces = [tree.increment(0.1, 0.35), tree.increment(0.35, 0.36), tree.increment(0.5, 0.9)];
    for (let p = 0; p < pieces.length; p++) {
      for (let q = p + 1; q < pieces.length; q++) {
        for (const x of [pieces[p].dW, pieces[p].H]) {
          for (const y of [pieces[q].dW, pieces[q].H]) expect(Math.abs(correlation(x, y))).toBeLessThan(K / Math.sqrt(N));
        }
      }
    }
  });

  it('bridge given W only: W over the first half has slope 1/2 on W and residual variance h/4', () => {
    // [0.1, 0.7], h = 0.6, split at 0.4 (not a tree node: the law holds for any interval).
    const whole = tree.increment(0.1, 0.7);
    const half = tree.increment(0.1, 0.4);
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < N; i++) {
      sxy += whole.dW[i] * half.dW[i];
      sxx += whole.dW[i] * whole.dW[i];
    }
    const slope = sxy / sxx;
    let resid = 0;
    for (let i = 0; i < N; i++) resid += (half.dW[i] - slope * whole.dW[i]) ** 2;
    resid /= N;
    expect(Math.abs(slope - 0.5)).toBeLessThan(K * Math.sqrt(0.15 / (N * 0.6)));
    expect(Math.abs(resid / 0.15 - 1)).toBeLessThan(K * Math.sqrt(2 / N));
  });

  it('bridge given (W, H) at the midpoint: E[W_left] = W/2 + 3H/2, Var = h/16; E[H_left] = H/4, Var = 7h/192', () => {
    const h = 0.6;
    const whole = tree.increment(0.1, 0.7);
    const left = tree.increment(0.1, 0.4);
    const w = regress2(left.dW, whole.dW, whole.H);
    // SE of each slope ≈ √(resid / (n·Var x)), Var x = h (for W) and h/12 (for H).
    expect(Math.abs(w.b1 - 0.5)).toBeLessThan(K * Math.sqrt(h / 16 / (N * h)));
    expect(Math.abs(w.b2 - 1.5)).toBeLessThan(K * Math.sqrt(h / 16 / ((N * h) / 12)));
    expect(Math.abs(w.resid / (h / 16) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    const a = regress2(left.H, whole.dW, whole.H);
    expect(Math.abs(a.b1)).toBeLessThan(K * Math.sqrt((7 * h) / 192 / (N * h)));
    expect(Math.abs(a.b2 - 0.25)).toBeLessThan(K * Math.sqrt((7 * h) / 192 / ((N * h) / 12)));
    expect(Math.abs(a.resid / ((7 * h) / 192) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    // Cov(W_left, H_left | W, H) = −h/32.
    let c = 0;
    for (let i = 0; i < N; i++) {
      c += (left.dW[i] - w.b1 * whole.dW[i] - w.b2 * whole.H[i]) * (left.H[i] - a.b1 * whole.dW[i] - a.b2 * whole.H[i]);
    }
    const corrResid = c / N / Math.sqrt(w.resid * a.resid);
    expect(Math.abs(corrResid - -1 / 32 / Math.sqrt((1 / 16) * (7 / 192)))).toBeLessThan(K / Math.sqrt(N));
  });

  it('exact conditional sample inside a leaf: at fraction r = 0.3, E[W] = rW + 6r(1−r)H, Var = h·r(1−r)(1 − 3r(1−r))', () => {
    // tol = span: the whole interval is one leaf, so every query point is drawn from the closed-form bridge.
    const leaf = brownianTree({ ...base, seed: 7, tol: 1 });
    expect(leaf.depth).toBe(0);
    const r = 0.3;
    const q = 1 - r;
    const whole = leaf.increment(0, 1);
    const part = leaf.increment(0, r);
    const resid = r * q * (1 - 3 * r * q);
    const fit = regress2(part.dW, whole.dW, whole.H);
    expect(Math.abs(fit.b1 - r)).toBeLessThan(K * Math.sqrt(resid / N));
    expect(Math.abs(fit.b2 - 6 * r * q)).toBeLessThan(K * Math.sqrt(resid / (N / 12)));
    expect(Math.abs(fit.resid / resid - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    // Its marginal law is still exact: Var = r, Var H = r/12.
    expect(Math.abs(variance(part.dW) / r - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    expect(Math.abs(variance(part.H) / (r / 12) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
  });
});

describe('BrownianTree determinism', () => {
  const small: BrownianTreeOptions = { seed: 31, t0: -1, t1: 2.5, shape: [4, 5] };

  it('returns identical bits for the same seed and query, whatever happened in between (even after eviction)', () => {
    const first = brownianTree(small).increment(0.3, 0.6);
    // A tree with the smallest cache: every query evicts almost everything.
    const other = brownianTree({ ...small, cacheSize: 2 });
    let x = 0.123;
    for (let i = 0; i < 200; i++) {
      x = (x * 7.31 + 0.5) % 1;
      const s = -1 + 3.5 * x;
      other.increment(s, Math.min(2.5, s + 0.001 + x * 0.2));
    }
    const again = other.increment(0.3, 0.6);
    expect(Array.from(again.dW)).toEqual(Array.from(first.dW));
    expect(Array.from(again.H)).toEqual(Array.from(first.H));
    // Same tree, same query twice with other queries between.
    const tree = brownianTree(small);
    const a = tree.increment(-0.5, 1.7);
    tree.increment(1.7, 2.5);
    tree.increment(-1, -0.999);
    const b = tree.increment(-0.5, 1.7);
    expect(Array.from(b.dW)).toEqual(Array.from(a.dW));
    expect(Array.from(b.H)).toEqual(Array.from(a.H));
  });

  it("gives element i the same path whatever the state's size: [4, 3] and [7, 3] agree on their first 12 elements", () => {
    const a = brownianTree({ ...small, shape: [4, 3] });
    const b = brownianTree({ ...small, shape: [7, 3] });
    for (const [s, u] of [
      [-1, 2.5],
      [0.3, 0.6],
      [0.3, 0.3 + 1e-7],
    ]) {
      const x = a.increment(s, u);
      const y = b.increment(s, u);
      expect(Array.from(y.dW.subarray(0, 12))).toEqual(Array.from(x.dW));
      expect(Array.from(y.H.subarray(0, 12))).toEqual(Array.from(x.H));
    }
  });

  it('gives different, uncorrelated paths for different seeds', () => {
    const a = brownianTree({ ...base, seed: 1 }).increment(0.2, 0.9);
    const b = brownianTree({ ...base, seed: 2 }).increment(0.2, 0.9);
    expect(Math.abs(correlation(a.dW, b.dW))).toBeLessThan(K / Math.sqrt(N));
    expect(Math.abs(correlation(a.H, b.H))).toBeLessThan(K / Math.sqrt(N));
    expect(a.dW[0]).not.toBe(b.dW[0]);
  });

  it('writes the same values with incrementInto as with increment', () => {
    const tree = brownianTree(small);
    const dW = new Float64Array(20);
    const H = new Float64Array(20);
    tree.incrementInto(0.25, 0.5, dW, H);
    const ref = brownianTree(small).increment(0.25, 0.5);
    expect(Array.from(dW)).toEqual(Array.from(ref.dW));
    expect(Array.from(H)).toEqual(Array.from(ref.H));
  });
});

describe('BrownianTree consistency', () => {
  it('sums increments over a random partition (pieces from 1e-9 to 0.05) to the whole increment, H by Chen', () => {
    const n = 2000;
    const tree = brownianTree({ ...base, seed: 5, shape: [n] });
    const [s, u] = [0.05, 0.95];
    const cuts = [s];
    let x = 0.37;
    while (cuts[cuts.length - 1] < u) {
      x = (x * 9.73 + 0.31) % 1;
      const len = x < 0.3 ? 1e-9 * (1 + 10 * x) : x < 0.6 ? 1e-6 * x : 0.02 * x;
      cuts.push(Math.min(u, cuts[cuts.length - 1] + len));
    }
    expect(cuts.length).toBeGreaterThan(100);
    const sumW = new Float64Array(n);
    const accH = new Float64Array(n);
    let len = 0;
    for (let p = 0; p + 1 < cuts.length; p++) {
      const h2 = cuts[p + 1] - cuts[p];
      const piece = tree.increment(cuts[p], cuts[p + 1]);
      for (let i = 0; i < n; i++) {
        accH[i] = len === 0 ? piece.H[i] : combineH(len, sumW[i], accH[i], h2, piece.dW[i], piece.H[i]);
        sumW[i] += piece.dW[i];
      }
      len += h2;
    }
    const whole = tree.increment(s, u);
    let errW = 0;
    let errH = 0;
    for (let i = 0; i < n; i++) {
      errW = Math.max(errW, Math.abs(sumW[i] - whole.dW[i]));
      errH = Math.max(errH, Math.abs(accH[i] - whole.H[i]));
    }
    // Values are O(1); float64 rounding over ~100 pieces stays below 1e-13.
    expect(errW).toBeLessThan(1e-13);
    expect(errH).toBeLessThan(1e-13);
  });

  it.each([
    [0.2, 0.45, 0.7],
    [0.5 - 1e-4, 0.5, 0.5 + 3e-4],
    [0.3, 0.3 + 2e-9, 0.3 + 5e-9],
  ])('Lévy area over [%p, %p] ∪ [%p] equals the combination of the halves, relative to √h', (a, b, c) => {
    const tree = brownianTree({ ...base, seed: 9, shape: [1000] });
    const left = tree.increment(a, b);
    const right = tree.increment(b, c);
    const whole = tree.increment(a, c);
    let err = 0;
    for (let i = 0; i < 1000; i++) {
      const H = combineH(b - a, left.dW[i], left.H[i], c - b, right.dW[i], right.H[i]);
      err = Math.max(err, Math.abs(H - whole.H[i]), Math.abs(left.dW[i] + right.dW[i] - whole.dW[i]));
    }
    // H and dW scale as √h: local (per-interval) storage keeps their relative accuracy at any scale.
    expect(err / Math.sqrt(c - a)).toBeLessThan(1e-12);
  });
});

describe('BrownianTree work per query', () => {
  it('pays about log2(h/tol) + 1 new splits per query when a solver steps forward by h', () => {
    const tree = brownianTree({ seed: 3, t0: 0, t1: 1, shape: [8] });
    expect(tree.depth).toBe(20);
    const h = 0.01;
    tree.increment(0, h);
    const before = tree.splitCount;
    let t = h;
    const steps = 60;
    for (let i = 0; i < steps; i++, t += h) tree.increment(t, t + h);
    const perQuery = (tree.splitCount - before) / steps;
    // Each split draws 2 normals per element; so do the root and each leaf whose inside is queried.
    expect(tree.normalsDrawn % 16).toBe(0);
    expect(tree.normalsDrawn).toBeGreaterThanOrEqual(16 * (tree.splitCount + 1));
    const expected = Math.log2(h / tree.tol) + 1;
    expect(perQuery).toBeLessThan(expected + 1);
    expect(perQuery).toBeGreaterThan(expected - 2);
    // A repeated query (an accepted step re-read by the adjoint) is served from the cache.
    const again = tree.splitCount;
    tree.increment(t - h, t);
    expect(tree.splitCount).toBe(again);
  });
});

describe('BrownianTree input checks', () => {
  const good: BrownianTreeOptions = { seed: 1, t0: 0, t1: 1, shape: [3] };
  const cases: [string, unknown, RegExp][] = [
    ['negative seed', { ...good, seed: -1 }, /'seed' must be an integer in \[0, 9007199254740991\]/],
    ['fractional seed', { ...good, seed: 1.5 }, /'seed' must be an integer/],
    ['t1 ≤ t0', { ...good, t1: 0 }, /'t1' \(0\) must exceed 't0' \(0\)/],
    ['infinite t0', { ...good, t0: -Infinity }, /'t0' must be a finite number/],
    ['bad shape entry', { ...good, shape: [3, 0] }, /'shape' must be an array of positive integers/],
    ['shape not an array', { ...good, shape: 3 }, /'shape' must be an array/],
    ['unknown key', { ...good, levyArea: 'space-time' }, /Unknown BrownianTree option 'levyArea'. Valid options: seed, t0, t1, shape, tol, cacheSize/],
    ['tol too small', { ...good, tol: 1e-300 }, /'tol' must be a finite number ≥/],
    ['bad cacheSize', { ...good, cacheSize: 1 }, /'cacheSize' must be an integer ≥ 2/],
  ];
  it.each(cases)('rejects %s', (_name, opts, message) => {
    expect(() => new BrownianTree(opts as BrownianTreeOptions)).toThrow(InvalidArgumentError);
    expect(() => new BrownianTree(opts as BrownianTreeOptions)).toThrow(message);
  });

  it('rejects bad queries with messages that name the fix', () => {
    const tree = brownianTree(good);
    expect(() => tree.increment(0.5, 0.5)).toThrow(/needs s < u.*increment\(u, s\) and negate/);
    expect(() => tree.increment(0.6, 0.5)).toThrow(InvalidArgumentError);
    expect(() => tree.increment(-0.1, 0.5)).toThrow(/outside the tree's span \[0, 1\]/);
    expect(() => tree.increment(0.5, 1.2)).toThrow(/outside the tree's span/);
    expect(() => tree.increment(NaN, 0.5)).toThrow(/finite numbers/);
    expect(() => tree.incrementInto(0, 1, new Float64Array(2), new Float64Array(3))).toThrow(/length 3/);
  });

  it('accepts the scalar shape [] (one process) and reports its size', () => {
    const tree = brownianTree({ ...good, shape: [] });
    expect(tree.size).toBe(1);
    expect(tree.increment(0, 1).dW.length).toBe(1);
    expect(brownianTree({ ...good, shape: [64, 32] }).size).toBe(2048);
  });
});
