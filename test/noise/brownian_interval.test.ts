/**
 * The sequential Brownian sampler: the law of its increments and of its rejection bridges, independence,
 * additivity and Chen's relation, rejection consistency, normals drawn per attempted step, memory, queries back
 * in time, determinism and seeds, input checks.
 *
 * The N = 20000 elements of one state are independent samples. Bounds are 4.5 standard errors (two-sided
 * p ≈ 7e-6 per check), as in brownian.test.ts. Node values are float32: sums of pieces match their whole to
 * float32 rounding, 1e-6 relative to √h.
 */
import { BrownianInterval, brownianInterval, BrownianIntervalOptions } from '../../src/noise/brownian_interval';
import { InvalidArgumentError } from '../../src/solvers/core/errors';
import { adaptiveSchedule } from '../support/adaptive_schedule';
import { combineH, correlation, expectIncrementLaw, regress2, variance } from '../support/brownian_stats';

const N = 20000;
const K = 4.5;
const F32 = 1e-6;
const base: BrownianIntervalOptions = { seed: 2024, t0: 0, t1: 1, shape: [N] };

/** Largest |a − b| over dW and over H, relative to √h. */
function mismatch(a: { dW: Float64Array; H: Float64Array }, b: { dW: Float64Array; H: Float64Array }, h: number): number {
  let e = 0;
  for (let i = 0; i < a.dW.length; i++) e = Math.max(e, Math.abs(a.dW[i] - b.dW[i]), Math.abs(a.H[i] - b.H[i]));
  return e / Math.sqrt(h);
}

/** Whole of two adjacent pieces by Chen's relation. */
function joined(
  h1: number,
  p: { dW: Float64Array; H: Float64Array },
  h2: number,
  q: { dW: Float64Array; H: Float64Array },
): { dW: Float64Array; H: Float64Array } {
  const dW = p.dW.map((w, i) => w + q.dW[i]);
  const H = p.H.map((x, i) => combineH(h1, p.dW[i], x, h2, q.dW[i], q.H[i]));
  return { dW, H };
}

interface Solve {
  /** Attempted steps, and those of them that ended at t1 (an existing piece: no split). */
  attempts: number;
  attemptsToEnd: number;
  accepted: [number, number][];
  /** dW then H of each accepted step, as answered during the solve. */
  answers: Float64Array[];
}

/** Queries the attempts of a simulated adaptive solve (see adaptive_schedule.ts) on `path`. */
function adaptiveSolve(path: BrownianInterval, h0: number, seed: number): Solve {
  const schedule = adaptiveSchedule(path.t0, path.t1, h0, seed);
  const out: Solve = { attempts: schedule.attempts.length, attemptsToEnd: 0, accepted: [], answers: [] };
  schedule.attempts.forEach(([s, u], k) => {
    const inc = path.increment(s, u);
    if (u === path.t1) out.attemptsToEnd++;
    if (!schedule.accepted[k]) return;
    out.accepted.push([s, u]);
    out.answers.push(Float64Array.from([...inc.dW, ...inc.H]));
  });
  return out;
}

describe('BrownianInterval statistics', () => {
  // A forward solve's pattern: a step, its rejection, the retry, a step across the rejected remainder.
  const path = brownianInterval(base);
  const queries: [number, number][] = [
    [0, 0.3],
    [0, 0.1],
    [0.1, 0.25],
    [0.25, 0.6],
    [0.6, 0.6 + 1e-7],
    [0.6 + 1e-7, 1],
  ];
  const answers = queries.map(([s, u]) => path.increment(s, u));

  it.each(queries.map((q, k) => [...q, k]))('over [%p, %p]: mean 0, Var dW = h, Var H = h/12, corr(dW, H) = 0', (s, u, k) => {
    expectIncrementLaw(answers[k].dW, answers[k].H, u - s, K);
  });

  it('gives independent increments and Lévy areas over consecutive intervals (|corr| < 4.5/√n)', () => {
    for (let p = 1; p < queries.length; p++) {
      for (let q = p + 1; q < queries.length; q++) {
        for (const x of [answers[p].dW, answers[p].H]) {
          for (const y of [answers[q].dW, answers[q].H]) expect(Math.abs(correlation(x, y))).toBeLessThan(K / Math.sqrt(N));
        }
      }
    }
  });

  it('draws a rejected step exactly: given (W, H) over [t, t + h], the part at r = 0.3 has E[W] = rW + 6r(1−r)H, Var = h·r(1−r)(1 − 3r(1−r))', () => {
    const p = brownianInterval({ ...base, seed: 11 });
    const [t, h, r] = [0.2, 0.5, 0.3];
    const whole = p.increment(t, t + h);
    const part = p.increment(t, t + r * h);
    const q = 1 - r;
    const resid = h * r * q * (1 - 3 * r * q);
    const fit = regress2(part.dW, whole.dW, whole.H);
    expect(Math.abs(fit.b1 - r)).toBeLessThan(K * Math.sqrt(resid / (N * h)));
    expect(Math.abs(fit.b2 - 6 * r * q)).toBeLessThan(K * Math.sqrt(resid / ((N * h) / 12)));
    expect(Math.abs(fit.resid / resid - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    expect(Math.abs(variance(part.dW) / (r * h) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    expect(Math.abs(variance(part.H) / ((r * h) / 12) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
  });
});

describe('BrownianInterval consistency', () => {
  it('is rejection-consistent: [t, t+h], then [t, t+h/3] and [t+h/3, t+h] add up to the first (W by sum, H by Chen)', () => {
    const p = brownianInterval({ ...base, seed: 3, shape: [2000] });
    const [t, h] = [0.4, 0.09];
    const first = p.increment(t, t + h);
    const a = p.increment(t, t + h / 3);
    const b = p.increment(t + h / 3, t + h);
    expect(mismatch(joined(h / 3, a, t + h - (t + h / 3), b), first, h)).toBeLessThan(F32);
    // The rejected interval queried again: the same bits as the first time.
    const again = p.increment(t, t + h);
    expect(Array.from(again.dW)).toEqual(Array.from(first.dW));
    expect(Array.from(again.H)).toEqual(Array.from(first.H));
  });

  it.each([
    [0.2, 0.45, 0.7],
    [0.5 - 1e-4, 0.5, 0.5 + 3e-4],
    [0.3, 0.3 + 2e-9, 0.3 + 5e-9],
  ])('additivity and Chen: [%p, %p] and [%p] after their union, relative to √h', (a, b, c) => {
    const p = brownianInterval({ ...base, seed: 9, shape: [1000] });
    const whole = p.increment(a, c);
    const left = p.increment(a, b);
    const right = p.increment(b, c);
    expect(mismatch(joined(b - a, left, c - b, right), whole, c - a)).toBeLessThan(F32);
    // The other order: the union of two answered pieces is their Chen combination.
    const q = brownianInterval({ ...base, seed: 9, shape: [1000] });
    const l2 = q.increment(a, b);
    const r2 = q.increment(b, c);
    expect(mismatch(joined(b - a, l2, c - b, r2), q.increment(a, c), c - a)).toBeLessThan(1e-12);
  });

  it('sums the accepted steps of a simulated adaptive solve to the whole increment', () => {
    const n = 500;
    const p = brownianInterval({ ...base, seed: 5, shape: [n] });
    const { accepted } = adaptiveSolve(p, 1e-3, 1);
    let acc = p.increment(accepted[0][0], accepted[0][1]);
    for (let k = 1; k < accepted.length; k++) {
      const [s, u] = accepted[k];
      acc = joined(s - accepted[0][0], acc, u - s, p.increment(s, u));
    }
    // The future [t, t1] is re-rounded to float32 at each step: its rounding walks like √steps·6e-8.
    expect(accepted.length).toBeGreaterThan(100);
    expect(mismatch(acc, p.increment(0, 1), 1)).toBeLessThan(F32 * Math.sqrt(accepted.length));
  });
});

describe('BrownianInterval work and memory', () => {
  it('draws 2 normals per element per attempted step (one bridge), with ~10% rejections', () => {
    const n = 64;
    const p = brownianInterval({ ...base, shape: [n] });
    expect(p.normalsDrawn).toBe(2 * n); // the root
    const { attempts, attemptsToEnd, accepted } = adaptiveSolve(p, 1e-3, 2);
    expect(attempts - accepted.length).toBeGreaterThan(0.05 * attempts);
    expect(p.normalsDrawn - 2 * n).toBe(2 * n * (attempts - attemptsToEnd));
    // Replaying the accepted steps forward (an adjoint that re-queries) draws nothing while they are cached.
    const before = p.normalsDrawn;
    const [s, u] = accepted[accepted.length - 1];
    p.increment(s, u);
    expect(p.normalsDrawn).toBe(before);
  });

  it('holds at most 1 + cacheSize + 2 spare + ⌈N/checkpointEvery⌉ nodes: ≤ 64 MB at n = 163,840 for 1,200 steps', () => {
    const n = 8;
    const steps = 1200;
    const p = brownianInterval({ ...base, shape: [n] });
    let peak = 0;
    for (let k = 0; k < steps; k++) {
      p.increment(k / steps, (k + 1) / steps);
      peak = Math.max(peak, p.nodeBytes / (8 * n));
    }
    const bound = 1 + p.cacheSize + 2 + Math.ceil(steps / p.checkpointEvery);
    expect(peak).toBeLessThanOrEqual(bound);
    expect(peak * 8 * 163840).toBeLessThanOrEqual(64 * 2 ** 20);
    // Without checkpoints the memory does not grow with the number of steps.
    const flat = brownianInterval({ ...base, shape: [n], checkpointEvery: Infinity });
    for (let k = 0; k < steps; k++) flat.increment(k / steps, (k + 1) / steps);
    expect(flat.nodeBytes / (8 * n)).toBeLessThanOrEqual(1 + flat.cacheSize + 2);
  });

  it('answers queries back in time with the same bits, at a bounded cost per step', () => {
    const n = 16;
    const opts = { ...base, shape: [n], seed: 77 };
    const p = brownianInterval(opts);
    const { accepted, answers } = adaptiveSolve(p, 1e-3, 3);
    expect(accepted.length).toBeGreaterThan(200);
    const splits = p.splitCount;
    for (let k = accepted.length - 1; k >= 0; k--) {
      const [s, u] = accepted[k];
      const inc = p.increment(s, u);
      expect(Array.from([...inc.dW, ...inc.H])).toEqual(Array.from(answers[k]));
    }
    // Each cache miss recomputes at most checkpointEvery levels, and the cache then serves the next steps.
    const perStep = (p.splitCount - splits) / accepted.length;
    expect(perStep).toBeLessThan((2 * p.checkpointEvery) / p.cacheSize + 2);
  });
});

describe('BrownianInterval determinism and seeds', () => {
  const small: BrownianIntervalOptions = { seed: 31, t0: -1, t1: 2.5, shape: [4, 5] };
  const sequence: [number, number][] = [
    [-1, -0.5],
    [-1, -0.8],
    [-0.8, 0.1],
    [0.1, 2.5],
    [-0.9, 1.2],
  ];

  it('gives the same bits for the same seed and queries, whatever the cache settings', () => {
    const a = brownianInterval(small);
    const b = brownianInterval({ ...small, cacheSize: 4, checkpointEvery: Infinity });
    const c = brownianInterval({ ...small, checkpointEvery: 1 });
    for (const [s, u] of sequence) {
      const x = a.increment(s, u);
      for (const y of [b.increment(s, u), c.increment(s, u)]) {
        expect(Array.from(y.dW)).toEqual(Array.from(x.dW));
        expect(Array.from(y.H)).toEqual(Array.from(x.H));
      }
    }
  });

  it("gives element i the same path whatever the state's size: [4, 3] and [7, 3] agree on their first 12 elements", () => {
    const a = brownianInterval({ ...small, shape: [4, 3] });
    const b = brownianInterval({ ...small, shape: [7, 3] });
    for (const [s, u] of sequence) {
      const x = a.increment(s, u);
      const y = b.increment(s, u);
      expect(Array.from(y.dW.subarray(0, 12))).toEqual(Array.from(x.dW));
      expect(Array.from(y.H.subarray(0, 12))).toEqual(Array.from(x.H));
    }
  });

  it('gives different, uncorrelated paths for different seeds', () => {
    const a = brownianInterval({ ...base, seed: 1 }).increment(0, 0.3);
    const b = brownianInterval({ ...base, seed: 2 }).increment(0, 0.3);
    expect(Math.abs(correlation(a.dW, b.dW))).toBeLessThan(K / Math.sqrt(N));
    expect(Math.abs(correlation(a.H, b.H))).toBeLessThan(K / Math.sqrt(N));
  });

  it('writes the same values with incrementInto as with increment', () => {
    const dW = new Float64Array(20);
    const H = new Float64Array(20);
    brownianInterval(small).incrementInto(0.25, 0.5, dW, H);
    const ref = brownianInterval(small).increment(0.25, 0.5);
    expect(Array.from(dW)).toEqual(Array.from(ref.dW));
    expect(Array.from(H)).toEqual(Array.from(ref.H));
  });
});

describe('BrownianInterval input checks', () => {
  const good: BrownianIntervalOptions = { seed: 1, t0: 0, t1: 1, shape: [3] };
  const cases: [string, unknown, RegExp][] = [
    ['negative seed', { ...good, seed: -1 }, /'seed' must be an integer in \[0, 9007199254740991\]/],
    ['t1 ≤ t0', { ...good, t1: 0 }, /'t1' \(0\) must exceed 't0' \(0\)/],
    ['bad shape', { ...good, shape: [3, 0] }, /'shape' must be an array of positive integers/],
    ['unknown key', { ...good, tol: 1e-3 }, /Unknown BrownianInterval option 'tol'. Valid options: seed, t0, t1, shape, cacheSize, checkpointEvery/],
    ['cacheSize < 4', { ...good, cacheSize: 3 }, /'cacheSize' must be an integer ≥ 4, got 3; omit it for the default 16/],
    ['checkpointEvery 0', { ...good, checkpointEvery: 0 }, /'checkpointEvery' must be an integer ≥ 1 or Infinity/],
  ];
  it.each(cases)('rejects %s', (_name, opts, message) => {
    expect(() => new BrownianInterval(opts as BrownianIntervalOptions)).toThrow(InvalidArgumentError);
    expect(() => new BrownianInterval(opts as BrownianIntervalOptions)).toThrow(message);
  });

  it('rejects bad queries with messages that name the fix', () => {
    const p = brownianInterval(good);
    expect(() => p.increment(0.5, 0.5)).toThrow(/needs s < u.*increment\(u, s\) and negate/);
    expect(() => p.increment(-0.1, 0.5)).toThrow(/outside the sampler's span \[0, 1\]/);
    expect(() => p.increment(NaN, 0.5)).toThrow(/finite numbers/);
    expect(() => p.incrementInto(0, 1, new Float64Array(2), new Float64Array(3))).toThrow(/length 3/);
  });
});
