/**
 * Fused loops for the host arithmetic: `out = base + Σ c_j·d_j` over typed arrays, processing up
 * to four terms per pass (a pass per term is ~2x slower in V8; one loop over all terms with an
 * inner loop is ~3x slower).
 */
type Arr = Float32Array | Float64Array;

function addGroup(out: Arr, prev: Arr | null, cs: readonly number[], ds: readonly Float32Array[], j: number, k: number): void {
  const n = out.length;
  const c0 = cs[j];
  const d0 = ds[j];
  if (k === 1) {
    if (prev) for (let i = 0; i < n; i++) out[i] = prev[i] + c0 * d0[i];
    else for (let i = 0; i < n; i++) out[i] = c0 * d0[i];
    return;
  }
  const c1 = cs[j + 1];
  const d1 = ds[j + 1];
  if (k === 2) {
    if (prev) for (let i = 0; i < n; i++) out[i] = prev[i] + c0 * d0[i] + c1 * d1[i];
    else for (let i = 0; i < n; i++) out[i] = c0 * d0[i] + c1 * d1[i];
    return;
  }
  const c2 = cs[j + 2];
  const d2 = ds[j + 2];
  if (k === 3) {
    if (prev) for (let i = 0; i < n; i++) out[i] = prev[i] + c0 * d0[i] + c1 * d1[i] + c2 * d2[i];
    else for (let i = 0; i < n; i++) out[i] = c0 * d0[i] + c1 * d1[i] + c2 * d2[i];
    return;
  }
  const c3 = cs[j + 3];
  const d3 = ds[j + 3];
  if (prev) for (let i = 0; i < n; i++) out[i] = prev[i] + c0 * d0[i] + c1 * d1[i] + c2 * d2[i] + c3 * d3[i];
  else for (let i = 0; i < n; i++) out[i] = c0 * d0[i] + c1 * d1[i] + c2 * d2[i] + c3 * d3[i];
}

const f32 = Math.fround;

/** out = Σ_{j<k} fround(c_j·d_j) summed left to right in float32 (continuing from `out` when `more`). */
function sumGroupF32(out: Float32Array, more: boolean, cs: readonly number[], ds: readonly Float32Array[], j: number, k: number): void {
  const n = out.length;
  const c0 = f32(cs[j]);
  const d0 = ds[j];
  if (k === 1) {
    if (more) for (let i = 0; i < n; i++) out[i] = out[i] + f32(c0 * d0[i]);
    else for (let i = 0; i < n; i++) out[i] = c0 * d0[i];
    return;
  }
  const c1 = f32(cs[j + 1]);
  const d1 = ds[j + 1];
  if (k === 2) {
    if (more) for (let i = 0; i < n; i++) out[i] = f32(out[i] + f32(c0 * d0[i])) + f32(c1 * d1[i]);
    else for (let i = 0; i < n; i++) out[i] = f32(c0 * d0[i]) + f32(c1 * d1[i]);
    return;
  }
  const c2 = f32(cs[j + 2]);
  const d2 = ds[j + 2];
  if (k === 3) {
    if (more) for (let i = 0; i < n; i++) out[i] = f32(f32(out[i] + f32(c0 * d0[i])) + f32(c1 * d1[i])) + f32(c2 * d2[i]);
    else for (let i = 0; i < n; i++) out[i] = f32(f32(c0 * d0[i]) + f32(c1 * d1[i])) + f32(c2 * d2[i]);
    return;
  }
  const c3 = f32(cs[j + 3]);
  const d3 = ds[j + 3];
  if (more) for (let i = 0; i < n; i++) out[i] = f32(f32(f32(out[i] + f32(c0 * d0[i])) + f32(c1 * d1[i])) + f32(c2 * d2[i])) + f32(c3 * d3[i]);
  else for (let i = 0; i < n; i++) out[i] = f32(f32(f32(c0 * d0[i]) + f32(c1 * d1[i])) + f32(c2 * d2[i])) + f32(c3 * d3[i]);
}

/**
 * out = base + Σ_j c_j·d_j in float32 with every operation rounded as tfjs's float32 kernels round it, in the
 * order of `combineTensor`'s ops: each product fround(c_j)·d_j, their sum left to right (`addN`), then the base
 * (`add`). So a step on the host gives the same bits as its tensor replay (each float32 operation done in float64
 * and rounded once is the correctly rounded float32 result). `out` must not alias `base` or any `ds[j]`.
 */
export function linearCombinationF32(out: Float32Array, base: Float32Array, cs: readonly number[], ds: readonly Float32Array[]): void {
  const m = ds.length;
  if (m === 0) {
    out.set(base);
    return;
  }
  for (let j = 0; j < m; j += 4) sumGroupF32(out, j > 0, cs, ds, j, Math.min(4, m - j));
  for (let i = 0; i < out.length; i++) out[i] = base[i] + out[i];
}

/** out = (base ?? 0) + Σ_j cs[j]·ds[j] accumulated in float64 per group of four terms. `out` may alias `base`. */
export function linearCombination(out: Arr, base: Arr | null, cs: readonly number[], ds: readonly Float32Array[]): void {
  const m = ds.length;
  if (m === 0) {
    if (base) out.set(base);
    else out.fill(0);
    return;
  }
  let prev: Arr | null = base;
  for (let j = 0; j < m; j += 4) {
    addGroup(out, prev, cs, ds, j, Math.min(4, m - j));
    prev = out;
  }
}

/** sqrt(mean((v / (atol + max(|r0|, |r1|)·rtol))²)). */
export function scaledRms(v: Arr, r0: Float32Array, r1: Float32Array, atol: number, rtol: number): number {
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = r0[i] < 0 ? -r0[i] : r0[i];
    const b = r1[i] < 0 ? -r1[i] : r1[i];
    const e = v[i] / (atol + (a > b ? a : b) * rtol);
    s += e * e;
  }
  return Math.sqrt(s / n);
}

/** sqrt(mean(v²)). */
export function plainRms(v: Arr): number {
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i] * v[i];
  return Math.sqrt(s / n);
}
