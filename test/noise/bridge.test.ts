/**
 * The bridge formulas on arrays: a split's pieces add up to the parent by Chen's relation (exactly in float64
 * up to rounding), the coefficients reduce to the midpoint values quoted in brownian.ts, and the whole-interval
 * draw has covariance Q(h) = [[h, h²/2], [h²/2, h³/3]].
 */
import { bridgeCoefficients, bridgeSplit, chen, drawInterval, levyArea } from '../../src/noise/bridge';
import { CounterRNG } from '../../src/noise/prng';

const N = 20000;
const K = 4.5;

describe('bridge formulas', () => {
  it('midpoint coefficients: ΔW_left = ΔW/2 + 3H/2 + (√h/4)·Z1 (as a mean on (ΔW, J): −1/4 and 3/(2h))', () => {
    const h = 0.8;
    const c = bridgeCoefficients(0.5, h);
    expect(c.mww).toBeCloseTo(-0.25, 15);
    expect(c.mwj).toBeCloseTo(3 / (2 * h), 14);
    expect(c.lw).toBeCloseTo(Math.sqrt(h) / 4, 15);
    expect(c.mjw).toBeCloseTo(-h / 8, 15);
    expect(c.mjj).toBeCloseTo(0.5, 15);
  });

  it('draws (ΔW, J) with covariance Q(h), and a split whose pieces recombine to the parent', () => {
    const h = 0.3;
    const rng = new CounterRNG(5);
    const z = new Float64Array(2 * N);
    rng.fillNormal(z, [1, 0, 0]);
    const w = new Float64Array(N);
    const j = new Float64Array(N);
    drawInterval(h, z, w, j);
    let sww = 0;
    let swj = 0;
    let sjj = 0;
    for (let i = 0; i < N; i++) {
      sww += w[i] * w[i];
      swj += w[i] * j[i];
      sjj += j[i] * j[i];
    }
    expect(Math.abs(sww / N / h - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    expect(Math.abs(sjj / N / (h ** 3 / 3) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    // corr(ΔW, J) = (h²/2)/√(h·h³/3) = √3/2
    expect(Math.abs(swj / Math.sqrt(sww * sjj) - Math.sqrt(3) / 2)).toBeLessThan(K / Math.sqrt(N));

    rng.fillNormal(z, [2, 0, 0]);
    const r = 0.37;
    const [lW, lJ, rW, rJ] = [new Float64Array(N), new Float64Array(N), new Float64Array(N), new Float64Array(N)];
    bridgeSplit(bridgeCoefficients(r, h), (1 - r) * h, w, j, z, lW, lJ, rW, rJ);
    const [cW, cJ] = [new Float64Array(N), new Float64Array(N)];
    chen(lW, lJ, rW, rJ, (1 - r) * h, cW, cJ);
    let err = 0;
    for (let i = 0; i < N; i++) err = Math.max(err, Math.abs(cW[i] - w[i]), Math.abs(cJ[i] - j[i]));
    expect(err).toBeLessThan(1e-15);
    // The left piece is a Brownian increment over r·h: Var ΔW = r·h, Var H = r·h/12.
    const [dW, H] = [new Float64Array(N), new Float64Array(N)];
    levyArea(lW, lJ, r * h, dW, H);
    let vw = 0;
    let vh = 0;
    for (let i = 0; i < N; i++) {
      vw += dW[i] * dW[i];
      vh += H[i] * H[i];
    }
    expect(Math.abs(vw / N / (r * h) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
    expect(Math.abs(vh / N / ((r * h) / 12) - 1)).toBeLessThan(K * Math.sqrt(2 / N));
  });
});
