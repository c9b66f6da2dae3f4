/**
 * Philox4x32-10 and the normals drawn from it: known answers, moments and the normal CDF (with bounds from
 * standard errors), determinism, stream independence, and the seed check.
 */
import { CounterRNG, isValidSeed, philox4x32 } from '../../src/noise/prng';
import { InvalidArgumentError } from '../../src/solvers/core/errors';
import { PHILOX_KAT } from '../support/philox_kat';

/** Standard normal CDF via erfc (Abramowitz & Stegun 7.1.26; absolute error < 1.5e-7, far below the KS bound). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-z * z);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

function moments(a: Float64Array): { mean: number; variance: number; fourth: number } {
  let mean = 0;
  for (const x of a) mean += x;
  mean /= a.length;
  let variance = 0;
  let fourth = 0;
  for (const x of a) {
    const d = (x - mean) ** 2;
    variance += d;
    fourth += d * d;
  }
  return { mean, variance: variance / a.length, fourth: fourth / a.length };
}

describe('philox4x32', () => {
  it('matches the Random123 known-answer vectors for Philox4x32-10', () => {
    for (const { counter, key, out } of PHILOX_KAT) expect(philox4x32(counter, key)).toEqual(out);
  });
});

describe('CounterRNG', () => {
  const n = 200000;

  it('draws standard normals: moments within 4 standard errors and a Kolmogorov–Smirnov test', () => {
    const z = new Float64Array(n);
    new CounterRNG(12345).fillNormal(z, [7, 0, 0]);
    const { mean, variance, fourth } = moments(z);
    // SE(mean) = 1/√n, SE(var) = √(2/n), SE(4th moment) = √((105 − 9)/n).
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(fourth - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
    const sorted = Float64Array.from(z).sort();
    let ks = 0;
    for (let i = 0; i < n; i++) {
      const f = normalCdf(sorted[i]);
      ks = Math.max(ks, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
    }
    // Critical value of the KS statistic at α = 0.001 is 1.95/√n.
    expect(ks).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('draws the tails of the normal law: P(|Z| > 2), P(|Z| > 3) and P(|Z| > 3.654) (the ziggurat tail) within 4.5 standard errors', () => {
    const z = new Float64Array(n);
    new CounterRNG(4321).fillNormal(z, [8, 0, 0]);
    for (const [c, p] of [
      [2, 0.04550026389635842],
      [3, 0.0026997960632601866],
      [3.6541528853610088, 0.0002580324876539013],
    ]) {
      const count = z.reduce((a, x) => a + (Math.abs(x) > c ? 1 : 0), 0);
      expect(Math.abs(count / n - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const u = new Float64Array(n);
    new CounterRNG(99).fillUniform(u, [1, 2, 3]);
    const { mean, variance } = moments(u);
    expect(u.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(0);
    expect(u.reduce((a, b) => Math.max(a, b))).toBeLessThan(1);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    // Var of (u − 1/2)² is 1/80 − 1/144 = 1/180.
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(4 * Math.sqrt(1 / 180 / n));
  });

  it('is a pure function of (seed, stream, index): same bits for any array length and any call order', () => {
    const rng = new CounterRNG(2 ** 40 + 3);
    const long = new Float64Array(1001);
    rng.fillNormal(long, [5, 6, 7]);
    new CounterRNG(1).fillNormal(new Float64Array(50), [5, 6, 7]);
    const short = new Float64Array(333);
    new CounterRNG(2 ** 40 + 3).fillNormal(short, [5, 6, 7]);
    expect(Array.from(short)).toEqual(Array.from(long.subarray(0, 333)));
  });

  it('draws any range [from, to) of a stream as the same bits as the whole stream', () => {
    const rng = new CounterRNG(77);
    const whole = new Float64Array(23);
    rng.fillNormal(whole, [1, 2, 3]);
    for (const [from, to] of [
      [0, 23],
      [1, 2],
      [3, 9],
      [6, 7],
      [5, 23],
    ]) {
      const part = new Float64Array(to - from);
      rng.fillNormalRange(part, from, to, [1, 2, 3]);
      expect(Array.from(part)).toEqual(Array.from(whole.subarray(from, to)));
    }
  });

  it('gives uncorrelated draws for different streams and different seeds (|corr| < 4/√n)', () => {
    const m = 50000;
    const draw = (seed: number, stream: [number, number, number]): Float64Array => {
      const z = new Float64Array(m);
      new CounterRNG(seed).fillNormal(z, stream);
      return z;
    };
    const base = draw(0, [0, 0, 0]);
    // Neighbouring streams, neighbouring seeds, and a seed differing only in its high key word (2^32).
    for (const other of [draw(0, [1, 0, 0]), draw(0, [0, 1, 0]), draw(0, [0, 0, 1]), draw(1, [0, 0, 0]), draw(2 ** 32, [0, 0, 0])]) {
      let c = 0;
      for (let i = 0; i < m; i++) c += base[i] * other[i];
      expect(Math.abs(c / m)).toBeLessThan(4 / Math.sqrt(m));
    }
  });

  it('rejects seeds that are not integers in [0, 2^53 − 1]', () => {
    for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53]) {
      expect(isValidSeed(bad)).toBe(false);
      expect(() => new CounterRNG(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => new CounterRNG(-1)).toThrow(/integer in \[0, 2\^53 − 1\]/);
    expect(isValidSeed(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('reports its speed (ns per normal) for 2^16 normals', () => {
    const rng = new CounterRNG(3);
    const z = new Float64Array(1 << 16);
    for (let w = 0; w < 5; w++) rng.fillNormal(z, [w, 0, 0]);
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const start = process.hrtime.bigint();
      rng.fillNormal(z, [rep, 1, 0]);
      best = Math.min(best, Number(process.hrtime.bigint() - start) / z.length);
    }
    console.log(`CounterRNG.fillNormal: ${best.toFixed(1)} ns per normal (best of 5, 2^16 normals)`);
    expect(best).toBeGreaterThan(0);
  });
});
