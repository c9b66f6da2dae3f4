/**
 * ODE work-precision side by side with torchdiffeq (`--section ode-wp`): error at t1 against a float64
 * reference versus forward wall time and NFE, over tolerances rtol = atol = 1e-3 … 1e-7.
 *
 * Problem: the MLP field of `../shared/peers/node_mlp_throughput.py`, f(y) = Linear(64→dim)(tanh(Linear(dim→64)(y))),
 * weights then y0 ~ N(0, 1) from Mulberry32(seed) (the `param_fingerprint` is compared), t ∈ [0, t1], float32 on
 * both sides. Reference: the same weights and y0 (float32 values) integrated in float64 with classical RK4 at
 * a fixed step (its own error is printed, from the same solve at half the steps). Error: max |y(t1) − y_ref(t1)|
 * over the batch.
 *
 * Ours: a `neuralODE` layer with the Dense field (`model.predict`), tsit5, dopri5 and bosh3, plus dopri5 started
 * at torchdiffeq's initial step (`dt0`, a public option) to separate the initial step from the controller. The
 * peer (`bench/peer_ode_wp.py`, torchdiffeq dopri5 and bosh3, 1 thread) runs alternately with ours, round by
 * round, with the same number of timed samples per configuration on both sides; it returns every sample, so
 * minima and medians are over the same counts. Reported: the work-precision table, our time and NFE at the
 * peer's error (log-log interpolation along the peer's curve), and both sides' step-size sequences.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { getTableau, neuralODE, NeuralODE, PIController, SolverName } from '../src';
import { denseWeights, fingerprint, Fingerprint, Linear, linearUniform, mulberry32, normal, peerAvailable, runPeerScript } from './peer';
import { atError, BackendName, BenchOptions, exactSamples, fmt, measureInterleaved, median, printTable, useBackend } from './util';

const SEED = 0;
const HIDDEN = 64;
const TOLS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8];
const QUICK_TOLS = [1e-3, 1e-5, 1e-7, 1e-8];
const REFERENCE_STEPS = 1000;

interface Problem {
  batch: number;
  dim: number;
  t1: number;
}

const PROBLEM: Problem = { batch: 64, dim: 32, t1: 10 };

// ---------------------------------------------------------------------------------------------
// The problem and its float64 reference
// ---------------------------------------------------------------------------------------------

interface Setup {
  lins: Linear[];
  /** y0, float32-rounded, row-major batch × dim. */
  y0: number[];
}

function setup(p: Problem): Setup {
  const rng = mulberry32(SEED);
  const lins = [linearUniform(rng, p.dim, HIDDEN), linearUniform(rng, HIDDEN, p.dim)];
  const y0 = Array.from({ length: p.batch * p.dim }, () => Math.fround(normal(rng)));
  return { lins, y0 };
}

/** y·Wᵀ + b for a PyTorch-layout Linear, float64, row-major. */
function linear64(l: Linear, y: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows * l.outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < l.outF; o++) {
      let s = l.bias[o];
      const wo = o * l.inF;
      const yr = r * l.inF;
      for (let i = 0; i < l.inF; i++) s += y[yr + i] * l.weight[wo + i];
      out[r * l.outF + o] = s;
    }
  }
  return out;
}

function field64(lins: Linear[], y: Float64Array, rows: number): Float64Array {
  const h = linear64(lins[0], y, rows);
  for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]);
  return linear64(lins[1], h, rows);
}

/** Classical RK4 in float64 with `steps` equal steps on [0, t1]. */
function rk4Reference(s: Setup, p: Problem, steps: number): Float64Array {
  let y = Float64Array.from(s.y0);
  const h = p.t1 / steps;
  const axpy = (a: Float64Array, c: number, b: Float64Array): Float64Array => a.map((v, i) => v + c * b[i]);
  for (let n = 0; n < steps; n++) {
    const k1 = field64(s.lins, y, p.batch);
    const k2 = field64(s.lins, axpy(y, h / 2, k1), p.batch);
    const k3 = field64(s.lins, axpy(y, h / 2, k2), p.batch);
    const k4 = field64(s.lins, axpy(y, h, k3), p.batch);
    y = y.map((v, i) => v + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  }
  return y;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

// ---------------------------------------------------------------------------------------------
// Our side
// ---------------------------------------------------------------------------------------------

interface Variant {
  label: string;
  solver: SolverName;
  /** Start at the peer's first step (dopri5 only). */
  peerDt0?: boolean;
}

const OUR_VARIANTS: Variant[] = [
  { label: 'tsit5', solver: 'tsit5' },
  { label: 'dopri5', solver: 'dopri5' },
  { label: 'bosh3', solver: 'bosh3' },
  { label: "dopri5, dt0 = peer's", solver: 'dopri5', peerDt0: true },
];

/** One solve's record, either side. */
interface SolveRecord {
  side: 'ours' | 'torchdiffeq';
  method: string;
  tol: number;
  nfe: number;
  accepted: number[];
  rejected: number;
  firstStep: number;
  errMax: number;
  ms: number[];
  /** Scaled error estimates of the accepted steps (ours only). */
  estimates?: number[];
}

interface OurCase {
  record: SolveRecord;
  run: () => void;
  dispose: () => void;
}

function ourCase(s: Setup, p: Problem, ref: Float64Array, v: Variant, tol: number, dt0: number | undefined): OurCase {
  const ode = neuralODE({
    inputShape: [p.dim],
    solver: v.solver,
    rtol: tol,
    atol: tol,
    tspan: [0, p.t1],
    ...(dt0 !== undefined ? { dt0 } : {}),
    vectorField: [tfl.layers.dense({ units: HIDDEN, activation: 'tanh' }), tfl.layers.dense({ units: p.dim })],
  }) as NeuralODE;
  const model = tfl.sequential({ layers: [ode] });
  const ws = s.lins.flatMap(denseWeights);
  model.setWeights(ws);
  tf.dispose(ws);
  const x = tf.tensor2d(s.y0, [p.batch, p.dim]);
  const run = (): void => tf.tidy(() => void (model.predict(x, { batchSize: p.batch }) as tf.Tensor).dataSync());
  const yT = tf.tidy(() => (model.predict(x, { batchSize: p.batch }) as tf.Tensor).dataSync());
  const st = ode.lastStats!;
  const record: SolveRecord = {
    side: 'ours',
    method: v.label,
    tol,
    nfe: st.nfe,
    accepted: st.dt.map(Math.abs),
    rejected: st.nRejected,
    firstStep: Math.abs(st.dtInitial),
    errMax: maxAbsDiff(yT, ref),
    ms: [],
    estimates: st.errorEstimate.slice(),
  };
  return {
    record,
    run,
    dispose: () => {
      model.dispose();
      x.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------------------------------

interface PeerRow {
  method: string;
  tol: number;
  nfe: number;
  accepted: number[];
  rejected: number[];
  first_step: number;
  err_max: number;
  ms: number[];
}

interface PeerResult {
  rows: PeerRow[];
  param_fingerprint: Fingerprint;
  env: { [k: string]: unknown };
}

function runPeer(p: Problem, tols: number[], samples: number, refFile: string, methods = 'dopri5,bosh3'): PeerResult {
  return runPeerScript<PeerResult>(path.join(__dirname, 'peer_ode_wp.py'), [
    '--threads',
    '1',
    '--batch',
    String(p.batch),
    '--dim',
    String(p.dim),
    '--hidden',
    String(HIDDEN),
    '--t1',
    String(p.t1),
    '--seed',
    String(SEED),
    '--methods',
    methods,
    '--tols',
    tols.join(','),
    '--repeats',
    String(samples),
    '--reference',
    refFile,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const e = (x: number): string => (Number.isFinite(x) ? x.toExponential(1) : String(x));

/** The first accepted steps, then a summary of the rest: where the sequences of the two sides differ. */
function stepsText(r: SolveRecord): string {
  const head = 6;
  const d = r.accepted;
  const p = (x: number): string => x.toPrecision(2);
  const rest = d.slice(head, -1);
  const tail = d.length > head ? ` … ${rest.length > 0 ? `${rest.length} more (median ${p(median(rest))}), ` : ''}last ${p(d[d.length - 1])}` : '';
  const rej = r.rejected > 0 ? `; ${r.rejected} rejected` : '';
  const est = r.estimates ? `; E of the first steps ${r.estimates.slice(0, 4).map(p).join(' ')}` : '';
  return `${d.slice(0, head).map(p).join(' ')}${tail}${rej}${est}`;
}

/** Median scaled error of the accepted steps between the first and the last (see the table's legend). */
function medianE(r: SolveRecord): string {
  if (r.estimates) return r.estimates.length > 2 ? median(r.estimates.slice(1, -1)).toPrecision(2) : '—';
  const order = r.method === 'bosh3' ? 3 : 5;
  const implied: number[] = [];
  for (let i = 1; i + 1 < r.accepted.length; i++) {
    const q = r.accepted[i + 1] / r.accepted[i];
    if (q < 9.99) implied.push(Math.pow(0.9 / q, order));
  }
  return implied.length > 0 ? `${median(implied).toPrecision(2)} (implied)` : '—';
}

export async function runOdeWpBench(opts: BenchOptions): Promise<void> {
  const p = PROBLEM;
  const tols = opts.quick ? QUICK_TOLS : TOLS;
  const rounds = opts.quick ? 1 : 3;
  const samples = opts.quick ? 3 : 5;
  const s = setup(p);
  const fp = fingerprint(s.lins);
  console.log(
    `\nODE work-precision (node_mlp_throughput.py's field): batch ${p.batch} × dim ${p.dim}, hidden ${HIDDEN} tanh, t ∈ [0, ${p.t1}], rtol = atol = tol, float32`,
  );
  console.log(`weights: Mulberry32(${SEED}) → param_fingerprint ${JSON.stringify(fp)}`);
  const ref = rk4Reference(s, p, REFERENCE_STEPS);
  const half = rk4Reference(s, p, REFERENCE_STEPS / 2);
  console.log(
    `reference: float64 RK4, ${REFERENCE_STEPS} equal steps; max |RK4(${REFERENCE_STEPS}) − RK4(${REFERENCE_STEPS / 2})| = ${e(maxAbsDiff(ref, half))} ` +
      `(the reference's own error ≈ 1/15 of that); max |y_ref(t1)| = ${fmt(Math.max(...ref.map(Math.abs)), 3)}`,
  );
  const withPeer = peerAvailable('PEER_TORCHDIFFEQ');
  const refFile = path.join(os.tmpdir(), `ode_wp_ref_${process.pid}.f64`);
  fs.writeFileSync(refFile, Buffer.from(new Float64Array(ref).buffer));
  try {
    // a probe run of the peer's dopri5 (timings unused) gives its first steps for our dt0 variant
    const probe = withPeer ? runPeer(p, tols, 1, refFile, 'dopri5') : undefined;
    const peerFirst = (tol: number): number | undefined => probe?.rows.find((r) => r.tol === tol)?.first_step;
    for (const backend of opts.backends as BackendName[]) {
      await useBackend(backend);
      const cases: OurCase[] = [];
      for (const v of OUR_VARIANTS) {
        if (v.peerDt0 && !probe) continue;
        for (const tol of tols) cases.push(ourCase(s, p, ref, v, tol, v.peerDt0 ? peerFirst(tol) : undefined));
      }
      const peerRuns: PeerResult[] = [];
      for (let r = 0; r < rounds; r++) {
        // round-robin over all our cases, so that load bursts on the shared machine spread over them
        const ms = measureInterleaved(cases.map((c) => ({ fn: c.run, opts: exactSamples(samples) })));
        cases.forEach((c, i) => c.record.ms.push(...ms[i].samplesMs));
        if (withPeer) peerRuns.push(runPeer(p, tols, samples, refFile));
      }
      report(backend, cases, peerRuns, samples, fp);
      for (const c of cases) c.dispose();
    }
  } finally {
    fs.rmSync(refFile, { force: true });
  }
}

function report(backend: BackendName, cases: OurCase[], peerRuns: PeerResult[], samples: number, fp: Fingerprint): void {
  const recs: SolveRecord[] = cases.map((c) => c.record);
  if (peerRuns.length > 0) {
    const pfp = peerRuns[0].param_fingerprint;
    console.log(`torchdiffeq param_fingerprint: ${JSON.stringify(pfp) === JSON.stringify(fp) ? 'identical weights' : `MISMATCH ${JSON.stringify(pfp)}`}`);
    for (const row of peerRuns[0].rows) {
      recs.push({
        side: 'torchdiffeq',
        method: row.method,
        tol: row.tol,
        nfe: row.nfe,
        accepted: row.accepted,
        rejected: row.rejected.length,
        firstStep: row.first_step,
        errMax: row.err_max,
        ms: peerRuns.flatMap((r) => r.rows.find((x) => x.method === row.method && x.tol === row.tol)!.ms),
      });
    }
  }
  const n = (r: SolveRecord): string => `${r.ms.length / samples}×${samples}`;
  console.log(
    `\nwork-precision, ${backend} (ours) vs torchdiffeq (1 thread): forward solve ms, min and median over the samples shown (rounds × samples per round; ours and the peer alternate round by round)`,
  );
  printTable(
    ['side', 'method', 'tol', 'NFE', 'steps acc+rej', 'first step', 'max error at t1', 'ms min/med', 'samples'],
    recs.map((r) => [
      r.side,
      r.method,
      e(r.tol),
      String(r.nfe),
      `${r.accepted.length}+${r.rejected}`,
      e(r.firstStep),
      e(r.errMax),
      `${fmt(Math.min(...r.ms), 2)}/${fmt(median(r.ms), 2)}`,
      n(r),
    ]),
    ['left', 'left'],
  );
  // at equal error: our time and NFE over the peer's, interpolated along the peer's curve at our error
  const pairs: [string, string][] = [
    ['dopri5', 'dopri5'],
    ['tsit5', 'dopri5'],
    ['bosh3', 'bosh3'],
    ["dopri5, dt0 = peer's", 'dopri5'],
  ];
  const rows: string[][] = [];
  for (const [ourM, peerM] of pairs) {
    const peerCurve = recs.filter((r) => r.side === 'torchdiffeq' && r.method === peerM);
    if (peerCurve.length === 0) continue;
    for (const o of recs.filter((r) => r.side === 'ours' && r.method === ourM)) {
      const tMed = atError(
        peerCurve.map((r) => ({ err: r.errMax, y: median(r.ms) })),
        o.errMax,
      );
      const tMin = atError(
        peerCurve.map((r) => ({ err: r.errMax, y: Math.min(...r.ms) })),
        o.errMax,
      );
      const nfe = atError(
        peerCurve.map((r) => ({ err: r.errMax, y: r.nfe })),
        o.errMax,
      );
      const inRange = Number.isFinite(nfe);
      rows.push([
        `${ourM} vs ${peerM}`,
        e(o.tol),
        e(o.errMax),
        `${o.nfe} / ${inRange ? fmt(nfe, 1) : '—'}`,
        inRange ? fmt(o.nfe / nfe, 2) : '—',
        inRange ? `${fmt(Math.min(...o.ms) / tMin, 2)} / ${fmt(median(o.ms) / tMed, 2)}` : '—',
        inRange ? fmt(median(o.ms) / o.nfe / (tMed / nfe), 2) : '—',
      ]);
    }
  }
  if (rows.length > 0) {
    console.log(`\nat equal error (the peer's NFE and time interpolated log-log along its curve at our error; — where our error is outside the peer's range)`);
    printTable(['ours vs peer', 'our tol', 'error', 'NFE ours / peer', 'NFE ratio', 'time ratio min / med', 'per-NFE ratio (med)'], rows, ['left']);
  }
  const span = PROBLEM.t1;
  const ramp = (d: number[]): number => {
    let t = 0;
    for (let i = 0; i < d.length; i++) if ((t += d[i]) >= span / 10) return i + 1;
    return d.length;
  };
  const seqRows = recs
    .filter((r) => r.method === 'dopri5' || r.method === 'bosh3' || r.method === 'tsit5')
    .sort((a, b) => a.method.localeCompare(b.method) || b.tol - a.tol || a.side.localeCompare(b.side))
    .map((r) => {
      const d = r.accepted;
      return [
        r.method,
        e(r.tol),
        r.side,
        `${d.length}+${r.rejected}`,
        String(r.nfe),
        d.length > 1 ? fmt(d[1] / d[0], 1) : '—',
        String(ramp(d)),
        d.length > 2 ? d[d.length - 1].toPrecision(2) : '—',
        d.length > 2 ? median(d.slice(1, -1)).toPrecision(2) : '—',
        fmt(d.reduce((a, b) => a + b, 0) - span, 3),
        medianE(r),
      ];
    });
  console.log(
    `\nstep-size sequences: growth after the first step, accepted steps to cover the first tenth of [0, ${span}], the last step, the median of the others, overshoot past t1`,
  );
  printTable(['method', 'tol', 'side', 'steps acc+rej', 'NFE', 'dt2/dt1', `steps to t=${span / 10}`, 'last dt', 'median dt', 'Σdt − t1', 'median E'], seqRows, [
    'left',
    'left',
    'left',
  ]);
  // where each controller settles when the error is steady (E = qold): the PI's q = E^(β1−β2)/safety = 1
  const pi = new PIController(getTableau('dopri5').controller);
  const settle = (m: SolverName): string => {
    const c = getTableau(m).controller;
    return `${m} ${Math.pow(pi.safety, 1 / (c.beta1 - c.beta2)).toPrecision(2)} (β1 ${fmt(c.beta1, 3)}, β2 ${fmt(c.beta2, 3)})`;
  };
  console.log(
    `\nsteady-state E the controllers aim at: ours (PI, safety ${pi.safety}, qmax ${pi.qmax}, qoldinit ${pi.qoldinit}): ${(['tsit5', 'dopri5', 'bosh3'] as SolverName[]).map(settle).join(', ')}; ` +
      `torchdiffeq (I, safety 0.9, exponent 1/order, growth cap 10): 0.9^5 = ${Math.pow(0.9, 5).toPrecision(2)} (dopri5), 0.9^3 = ${Math.pow(0.9, 3).toPrecision(2)} (bosh3)`,
  );
  console.log(
    `\naccepted step sizes in order (the first one is the initial-step heuristic's choice); ours lands its last step on t1, torchdiffeq steps past t1 and interpolates`,
  );
  for (const tol of [...new Set(recs.map((r) => r.tol))]) {
    for (const r of recs.filter((x) => x.tol === tol && (x.method === 'dopri5' || x.method === 'bosh3' || x.method === 'tsit5'))) {
      console.log(`${e(tol)} ${r.side.padEnd(11)} ${r.method.padEnd(6)} first ${r.firstStep.toPrecision(2)}: ${stepsText(r)}`);
    }
  }
}
