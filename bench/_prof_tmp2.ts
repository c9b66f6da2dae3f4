import { measure } from './util';
const n = 2048;
const ks = Array.from({ length: 7 }, () => Float32Array.from({ length: n }, () => Math.random()));
const terms = ks.map((k, j) => [0.1 * (j + 1), k] as const);
function rms(): number {
  const acc = new Float64Array(n);
  for (const [c, d] of terms) for (let i = 0; i < n; i++) acc[i] += c * d[i];
  let s = 0;
  const r0 = ks[0], r1 = ks[1];
  for (let i = 0; i < n; i++) { const e = acc[i] / (1e-6 + Math.max(Math.abs(r0[i]), Math.abs(r1[i])) * 1e-3); s += e * e; }
  return Math.sqrt(s / n);
}
let sink = 0;
console.log('raw rms loop us', (measure(() => { sink += rms(); }, { warmup: 100, minTimeMs: 500, minSampleMs: 5 }).medianMs * 1000).toFixed(1), sink > 0);
