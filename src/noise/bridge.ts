/**
 * The Brownian bridge with time integral, on per-element arrays: the formulas every Brownian path of this package
 * builds on (derivation in brownian.ts's module comment).
 *
 * An interval [a, b] of length h carries, per element, ΔW = W(b) − W(a) and J = ∫_a^b (W(r) − W(a)) dr; the
 * space-time Lévy area is H = J/h − ΔW/2. Adjacent intervals combine exactly by Chen's relation
 * ΔW_ac = ΔW_ab + ΔW_bc, J_ac = J_ab + J_bc + (c − b)·ΔW_ab. Given (ΔW, J) over [a, b], the part over [a, a + r·h]
 * is Gaussian with mean and Cholesky factor given by {@link bridgeCoefficients}; the right part follows by Chen.
 *
 * Normals come interleaved: element i uses z[2i] (drives ΔW) and z[2i + 1] (drives J), so with
 * `CounterRNG.fillNormal` element i's draws depend on its index, not on the number of elements. Values may be
 * stored as Float64Array or Float32Array; arithmetic is always float64.
 */

/** Per-element storage of ΔW or J. */
export type Values = Float64Array | Float32Array;

/** Coefficients of the conditional law of the left part of an interval of length h split at fraction r. */
export interface BridgeCoefficients {
  /** Mean: ΔW_left = mww·ΔW + mwj·J, J_left = mjw·ΔW + mjj·J. */
  readonly mww: number;
  readonly mwj: number;
  readonly mjw: number;
  readonly mjj: number;
  /** Noise: ΔW_left += lw·Z1, J_left += ljw·Z1 + ljj·Z2. */
  readonly lw: number;
  readonly ljw: number;
  readonly ljj: number;
}

/** The bridge-with-Lévy-area coefficients at fraction r ∈ [0, 1], scaled to an interval of length h. */
export function bridgeCoefficients(r: number, h: number): BridgeCoefficients {
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

/** (ΔW, J) over a whole interval of length h from the normals z: ΔW = √h·Z1, J = h^{3/2}·(Z1/2 + Z2/√12). */
export function drawInterval(h: number, z: Float64Array, w: Values, j: Values): void {
  const sh = Math.sqrt(h);
  const h32 = h * sh;
  const c2 = h32 / Math.sqrt(12);
  for (let i = 0; i < w.length; i++) {
    const z1 = z[2 * i];
    w[i] = sh * z1;
    j[i] = 0.5 * h32 * z1 + c2 * z[2 * i + 1];
  }
}

/** (ΔW, J) of the left part, given the parent's (w, j), the coefficients of the split and the normals z. */
export function bridgeLeft(c: BridgeCoefficients, w: Values, j: Values, z: Float64Array, outW: Values, outJ: Values): void {
  const { mww, mwj, mjw, mjj, lw, ljw, ljj } = c;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i];
    const ji = j[i];
    const z1 = z[2 * i];
    outW[i] = mww * wi + mwj * ji + lw * z1;
    outJ[i] = mjw * wi + mjj * ji + ljw * z1 + ljj * z[2 * i + 1];
  }
}

/**
 * Splits the parent (w, j) into its left part (lW, lJ) and its right part (rW, rJ) of length `rightLength`; the
 * right part is the parent minus the left part by Chen's relation, computed from the left part as stored.
 */
export function bridgeSplit(
  c: BridgeCoefficients,
  rightLength: number,
  w: Values,
  j: Values,
  z: Float64Array,
  lW: Values,
  lJ: Values,
  rW: Values,
  rJ: Values,
): void {
  bridgeLeft(c, w, j, z, lW, lJ);
  for (let i = 0; i < w.length; i++) {
    const wl = lW[i];
    rW[i] = w[i] - wl;
    rJ[i] = j[i] - lJ[i] - rightLength * wl;
  }
}

/**
 * out ← A ⊕ B for A followed by B (B of length `bLen`): W = W_A + W_B, J = J_A + J_B + bLen·W_A (Chen's
 * relation). `out` may alias A or B.
 */
export function chen(aw: Values, aj: Values, bw: Values, bj: Values, bLen: number, outW: Values, outJ: Values): void {
  for (let i = 0; i < outW.length; i++) {
    const jSum = aj[i] + bj[i] + bLen * aw[i];
    outW[i] = aw[i] + bw[i];
    outJ[i] = jSum;
  }
}

/** dW ← w and H ← j/h − w/2 over an interval of length h. */
export function levyArea(w: Values, j: Values, h: number, dW: Float64Array, H: Float64Array): void {
  for (let i = 0; i < dW.length; i++) {
    const wi = w[i];
    dW[i] = wi;
    H[i] = j[i] / h - 0.5 * wi;
  }
}
