/** Sample statistics for the Brownian path tests: elements of one state are independent samples (means are 0). */

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

export function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return s / a.length;
}

export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += (a[i] - ma) * (b[i] - mb);
  return c / a.length / Math.sqrt(variance(a) * variance(b));
}

/** Least squares y ≈ β1·x1 + β2·x2 (no intercept: all means are 0); returns β and the residual variance. */
export function regress2(y: Float64Array, x1: Float64Array, x2: Float64Array): { b1: number; b2: number; resid: number } {
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let s1y = 0;
  let s2y = 0;
  for (let i = 0; i < y.length; i++) {
    s11 += x1[i] * x1[i];
    s12 += x1[i] * x2[i];
    s22 += x2[i] * x2[i];
    s1y += x1[i] * y[i];
    s2y += x2[i] * y[i];
  }
  const det = s11 * s22 - s12 * s12;
  const b1 = (s22 * s1y - s12 * s2y) / det;
  const b2 = (s11 * s2y - s12 * s1y) / det;
  let r = 0;
  for (let i = 0; i < y.length; i++) r += (y[i] - b1 * x1[i] - b2 * x2[i]) ** 2;
  return { b1, b2, resid: r / y.length };
}

/** The space-time Lévy area of [a, c] from the halves [a, b], [b, c] (Chen's relation, see brownian.ts). */
export function combineH(h1: number, w1: number, H1: number, h2: number, w2: number, H2: number): number {
  const h = h1 + h2;
  return (h1 * H1 + h2 * H2) / h + (h2 * w1 - h1 * w2) / (2 * h);
}

/**
 * Checks the law of one increment over an interval of length h from its n independent elements: mean 0,
 * Var dW = h, Var H = h/12 and corr(dW, H) = 0, each within k standard errors.
 */
export function expectIncrementLaw(dW: Float64Array, H: Float64Array, h: number, k: number): void {
  const n = dW.length;
  expect(Math.abs(mean(dW))).toBeLessThan(k * Math.sqrt(h / n));
  expect(Math.abs(mean(H))).toBeLessThan(k * Math.sqrt(h / 12 / n));
  expect(Math.abs(variance(dW) / h - 1)).toBeLessThan(k * Math.sqrt(2 / n));
  expect(Math.abs(variance(H) / (h / 12) - 1)).toBeLessThan(k * Math.sqrt(2 / n));
  expect(Math.abs(correlation(dW, H))).toBeLessThan(k / Math.sqrt(n));
}
