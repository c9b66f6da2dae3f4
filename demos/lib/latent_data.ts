/**
 * A synthetic stand-in for Physionet 2012 with its shape: `channels` (37) observed at `nTimes` (49)
 * irregular times in [0, 1], most entries missing at random, values in [0, 1].
 *
 * Each series comes from low-dimensional nonlinear dynamics shared by all series, from its own random
 * initial state: a van der Pol oscillator (x, v) with μ = 1 making about 1.5 cycles on [0, 1] (its limit
 * cycle has amplitude 2; series start at radius 0.5–2.5), and a logistic trend s with rate 3 from
 * s0 ∈ [0.05, 0.95]. The channels are fixed random read-outs of the features
 * (x/2, v/2, s, x·s) through a sigmoid, plus Gaussian noise; every entry is then observed with
 * probability 1 − `missing`. All series share one irregular time grid (the union grid of a batch,
 * as a latent ODE solves on); a series' own irregular sampling is its mask.
 */
import { mulberry32 } from '../../src/noise/prng';

export interface LatentDataSettings {
  nSeries: number;
  channels: number;
  nTimes: number;
  /** Fraction of entries missing (at random). */
  missing: number;
  /** Standard deviation of the observation noise. */
  noise: number;
  seed: number;
}

export const LATENT_DATA_DEFAULTS: LatentDataSettings = { nSeries: 1000, channels: 37, nTimes: 49, missing: 0.85, noise: 0.03, seed: 1 };

/** A data set: row-major arrays over [series, time, channel]. */
export interface LatentData {
  /** The shared time grid (increasing, times[0] = 0, inside [0, 1]). */
  times: number[];
  channels: number;
  /** Noisy values; NaN where not observed. */
  values: Float32Array;
  /** 1 where observed, else 0. */
  mask: Float32Array;
  /** Noise-free values at every entry (for plots). */
  clean: Float32Array;
  nSeries: number;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** The irregular grid: 0 and nTimes − 1 sorted uniform draws on (0, 1], no two closer than 1e-3. */
export function irregularTimes(nTimes: number, rand: () => number): number[] {
  for (;;) {
    const ts = [0, ...Array.from({ length: nTimes - 1 }, () => 1 - rand())].sort((a, b) => a - b);
    if (ts.every((t, i) => i === 0 || t - ts[i - 1] >= 1e-3)) return ts;
  }
}

type State = [number, number, number];

/** The dynamics every series shares (a latent ODE's assumption); a series differs by its initial state. */
const DYNAMICS = { mu: 1, omega: 2 * Math.PI * 0.75, r: 1 };

/** The latent dynamics of one series: van der Pol (x, v) at angular speed ω, logistic trend s. */
function field(p: { mu: number; omega: number; r: number }, [x, v, s]: State): State {
  return [p.omega * v, p.omega * (p.mu * (1 - x * x) * v - x), p.r * s * (1 - s)];
}

/** RK4 from `y` over [t0, t1] in steps of at most 1/400. */
function rk4(p: { mu: number; omega: number; r: number }, y: State, t0: number, t1: number): State {
  const n = Math.max(1, Math.ceil((t1 - t0) * 400));
  const h = (t1 - t0) / n;
  let z = y;
  const add = (a: State, b: State, c: number): State => [a[0] + c * b[0], a[1] + c * b[1], a[2] + c * b[2]];
  for (let i = 0; i < n; i++) {
    const k1 = field(p, z);
    const k2 = field(p, add(z, k1, h / 2));
    const k3 = field(p, add(z, k2, h / 2));
    const k4 = field(p, add(z, k3, h));
    z = [0, 1, 2].map((j) => z[j] + (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j])) as State;
  }
  return z;
}

/** Generates the data set (deterministic from `seed`). */
export function generateLatentData(s: LatentDataSettings): LatentData {
  const rand = mulberry32(s.seed);
  const times = irregularTimes(s.nTimes, rand);
  const F = 4;
  // The read-out: channel c = sigmoid(W_c · features + b_c), the same for every series.
  const W = Array.from({ length: s.channels }, () => Array.from({ length: F }, () => 1.5 * gaussian(rand)));
  const b = Array.from({ length: s.channels }, () => 0.5 * gaussian(rand));
  const T = s.nTimes;
  const C = s.channels;
  const values = new Float32Array(s.nSeries * T * C);
  const mask = new Float32Array(s.nSeries * T * C);
  const clean = new Float32Array(s.nSeries * T * C);
  for (let n = 0; n < s.nSeries; n++) {
    const p = DYNAMICS;
    const angle = 2 * Math.PI * rand();
    const radius = 0.5 + 2 * rand();
    let y: State = [radius * Math.cos(angle), radius * Math.sin(angle), 0.05 + 0.9 * rand()];
    for (let i = 0; i < T; i++) {
      if (i > 0) y = rk4(p, y, times[i - 1], times[i]);
      const f = [y[0] / 2, y[1] / 2, y[2], y[0] * y[2]];
      for (let c = 0; c < C; c++) {
        let a = b[c];
        for (let k = 0; k < F; k++) a += W[c][k] * f[k];
        const v = 1 / (1 + Math.exp(-a));
        const at = (n * T + i) * C + c;
        clean[at] = v;
        const observed = rand() >= s.missing;
        mask[at] = observed ? 1 : 0;
        values[at] = observed ? v + s.noise * gaussian(rand) : NaN;
      }
    }
  }
  return { times, channels: C, values, mask, clean, nSeries: s.nSeries };
}

/** Series [from, to) of a data set. */
export function sliceSeries(d: LatentData, from: number, to: number): LatentData {
  const per = d.times.length * d.channels;
  return {
    times: d.times,
    channels: d.channels,
    values: d.values.slice(from * per, to * per),
    mask: d.mask.slice(from * per, to * per),
    clean: d.clean.slice(from * per, to * per),
    nSeries: to - from,
  };
}

/**
 * The recognition network's input, [series, time, 2·channels + 1]: the values (0 where missing),
 * the mask and Δt to the previous grid time (0 at the first).
 */
export function encoderInput(d: LatentData): Float32Array {
  const T = d.times.length;
  const C = d.channels;
  const W = 2 * C + 1;
  const out = new Float32Array(d.nSeries * T * W);
  for (let n = 0; n < d.nSeries; n++) {
    for (let i = 0; i < T; i++) {
      const src = (n * T + i) * C;
      const dst = (n * T + i) * W;
      for (let c = 0; c < C; c++) {
        out[dst + c] = d.mask[src + c] === 1 ? d.values[src + c] : 0;
        out[dst + C + c] = d.mask[src + c];
      }
      out[dst + 2 * C] = i === 0 ? 0 : d.times[i] - d.times[i - 1];
    }
  }
  return out;
}
