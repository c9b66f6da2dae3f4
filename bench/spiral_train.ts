/**
 * Training speed side by side with torchdiffeq on the problem of `../shared/peers/node_spiral.py`
 * (torchdiffeq's `ode_demo`): dy/dt = (y³)·A, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0], 1000 points
 * on [0, 25]; model f(y) = Linear(50→2)(tanh(Linear(2→50)(y³))), weights N(0, 0.1²) and biases 0
 * drawn from the peer's Mulberry32(seed) stream (the `param_fingerprint` is compared); batches of 20
 * windows of 10 points drawn with the same stream; loss mean |pred − y|; RMSprop(1e-3, ρ 0.99,
 * ε 1e-8); dopri5 at rtol 1e-3, atol 1e-6 in float32.
 *
 * Ours: a `neuralODE` layer with `saveat` = the 10 window times (dense output), trained with
 * `optimizer.minimize` on the layer's discrete adjoint. Measured: forward NFE and time on the peer's
 * timing batch (Mulberry32(seed + 1)), forward+backward time, the full-trajectory NFE, and training
 * ms per iteration from fresh weights. The peer runs alternately (ours, peer, ours, peer) when
 * PEER_TORCHDIFFEQ is set; ratios ours/peer are given on minima and medians.
 *
 * The data: the peer integrates in float64 with dopri5 at 1e-6/1e-9 and casts to float32; here a
 * float64 RK4 with 20 substeps per interval (error < 1e-9) does the same job, so batches agree to
 * float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { neuralODE, NeuralODE, power } from '../src';
import { denseWeights, fingerprint, Fingerprint, Linear, linearNormal, mulberry32, peerAvailable, runPeerScript, sampleWithoutReplacement } from './peer';
import { timeODEModel } from './layer_timing';
import { BackendName, BenchOptions, exactSamples, fmt, median, now, printTable, useBackend } from './util';

const SEED = 0;
const DATA_SIZE = 1000;
const BATCH_TIME = 10;
const BATCH_SIZE = 20;
const HIDDEN = 50;
const TOL = { rtol: 1e-3, atol: 1e-6 };

// ---------------------------------------------------------------------------------------------
// The problem
// ---------------------------------------------------------------------------------------------

interface SpiralData {
  /** float32 times, linspace(0, 25, 1000). */
  t: number[];
  /** float32 states, [1000][2]. */
  y: [number, number][];
}

function spiralRhs([a, b]: readonly number[]): [number, number] {
  const a3 = a * a * a;
  const b3 = b * b * b;
  return [-0.1 * a3 - 2 * b3, 2 * a3 - 0.1 * b3];
}

/** The true trajectory: float64 RK4 (20 substeps per output interval), then float32. */
export function spiralData(): SpiralData {
  const t64 = Array.from({ length: DATA_SIZE }, (_, i) => (25 * i) / (DATA_SIZE - 1));
  const ys: [number, number][] = [[2, 0]];
  let y = [2, 0];
  const sub = 20;
  for (let i = 1; i < DATA_SIZE; i++) {
    const h = (t64[i] - t64[i - 1]) / sub;
    for (let s = 0; s < sub; s++) {
      const k1 = spiralRhs(y);
      const k2 = spiralRhs([y[0] + (h / 2) * k1[0], y[1] + (h / 2) * k1[1]]);
      const k3 = spiralRhs([y[0] + (h / 2) * k2[0], y[1] + (h / 2) * k2[1]]);
      const k4 = spiralRhs([y[0] + h * k3[0], y[1] + h * k3[1]]);
      y = [0, 1].map((d) => y[d] + (h / 6) * (k1[d] + 2 * k2[d] + 2 * k3[d] + k4[d]));
    }
    ys.push([y[0], y[1]]);
  }
  return { t: t64.map(Math.fround), y: ys.map(([a, b]) => [Math.fround(a), Math.fround(b)]) };
}

/** `get_batch(rng)` of the peer: 20 window starts, y0 [20, 2], targets [20, 10, 2]. */
function getBatch(data: SpiralData, rng: () => number): { y0: tf.Tensor2D; y: tf.Tensor3D } {
  const starts = sampleWithoutReplacement(rng, DATA_SIZE - BATCH_TIME, BATCH_SIZE);
  const y0 = tf.tensor2d(
    starts.flatMap((s) => data.y[s]),
    [BATCH_SIZE, 2],
  );
  const y = tf.tensor3d(
    starts.flatMap((s) => Array.from({ length: BATCH_TIME }, (_, i) => data.y[s + i]).flat()),
    [BATCH_SIZE, BATCH_TIME, 2],
  );
  return { y0, y };
}

/** The peer's ODEFunc weights: Linear(2, 50) then Linear(50, 2), N(0, 0.1²), biases 0. */
export function spiralWeights(seed = SEED): Linear[] {
  const rng = mulberry32(seed);
  return [linearNormal(rng, 2, HIDDEN, 0.1), linearNormal(rng, HIDDEN, 2, 0.1)];
}

function spiralModel(lins: Linear[], saveat: number[]): { model: tfl.Sequential; ode: NeuralODE } {
  const field = [power({ exponent: 3 }), tfl.layers.dense({ units: HIDDEN, activation: 'tanh' }), tfl.layers.dense({ units: 2 })];
  const ode = neuralODE({
    inputShape: [2],
    solver: 'dopri5',
    ...TOL,
    tspan: [saveat[0], saveat[saveat.length - 1]],
    saveat,
    vectorField: field,
  });
  const model = tfl.sequential({ layers: [ode] });
  const ws = lins.flatMap(denseWeights);
  model.setWeights(ws);
  tf.dispose(ws);
  return { model, ode };
}

// ---------------------------------------------------------------------------------------------
// Our side
// ---------------------------------------------------------------------------------------------

interface OurRound {
  fwdMs: number[];
  fwdBwdMs: number[];
  trainMsPerIter: number;
}

interface OurStatic {
  nfeForward: number;
  nfeBackward: number;
  nfeFullTrajectory: number;
  firstLoss: number;
  finalLoss: number;
  fullTrajectoryL1: number;
  /** Bare f call on the timing batch, µs (no read-back of the result beyond one dataSync). */
  fUs: number;
}

const meanAbs = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar;

function ourRound(data: SpiralData, lins: Linear[], iters: number, samples: number, quick: boolean): { round: OurRound; stat: OurStatic } {
  const saveat = data.t.slice(0, BATCH_TIME);
  const { model, ode } = spiralModel(lins, saveat);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const tb = getBatch(data, mulberry32(SEED + 1));
  // timing batch: forward, forward+backward, bare f
  // exactly the peer's number of timed samples (its --repeats), after warm-up
  const timing = timeODEModel(model, ode, tb.y0, (out) => meanAbs(out, tb.y), exactSamples(samples, quick ? 0 : 200));

  // training from fresh weights (the peer also trains from its initial weights in every run)
  const opt = tf.train.rmsprop(1e-3, 0.99, 0, 1e-8);
  const rng = mulberry32(SEED);
  const losses: number[] = [];
  const t0 = now();
  for (let i = 0; i < iters; i++) {
    const b = getBatch(data, rng);
    const loss = opt.minimize(() => meanAbs(model.apply(b.y0, { training: true }) as tf.Tensor, b.y), true, vars)!;
    losses.push(loss.dataSync()[0]);
    tf.dispose([loss, b.y0, b.y]);
  }
  const trainMsPerIter = (now() - t0) / Math.max(1, iters);
  // full trajectory (the ode_demo test solve) with the trained weights
  const full = spiralModel(lins, data.t);
  full.model.setWeights(model.getWeights());
  const y0 = tf.tensor2d([data.y[0]], [1, 2]);
  const target = tf.tensor3d(data.y.flat(), [1, DATA_SIZE, 2]);
  const fullTrajectoryL1 = tf.tidy(() => meanAbs(full.model.predict(y0) as tf.Tensor, target).dataSync()[0]);
  const nfeFullTrajectory = full.ode.lastStats!.nfe;
  tf.dispose([y0, target, tb.y0, tb.y]);
  opt.dispose();
  model.dispose();
  full.model.dispose();
  return {
    round: { fwdMs: timing.fwdMs, fwdBwdMs: timing.fwdBwdMs, trainMsPerIter },
    stat: {
      nfeForward: timing.nfe,
      nfeBackward: timing.nfeBackward,
      nfeFullTrajectory,
      firstLoss: losses[0],
      finalLoss: losses[losses.length - 1],
      fullTrajectoryL1,
      fUs: timing.fUs,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------------------------------

interface PeerMeasure {
  forward: { nfe: number; ms: number; ms_min: number };
  backprop: { nfe_fwd: number; nfe_bwd: number; ms: number; ms_min: number };
  f_eval_us_grad: number;
  full_trajectory: { nfe: number };
}

interface PeerSpiral {
  runs: {
    param_fingerprint: Fingerprint;
    init: PeerMeasure;
    train: { ms_per_iter: number; first_batch_loss: number; final_batch_loss: number; full_trajectory_l1_loss: number; full_trajectory_nfe: number };
  }[];
  env: Record<string, unknown>;
}

function runPeer(iters: number, samples: number): PeerSpiral {
  return runPeerScript<PeerSpiral>('node_spiral.py', [
    String(iters),
    '--threads',
    '1',
    '--repeats',
    String(samples),
    '--seed',
    String(SEED),
    '--skip-trained-timing',
  ]);
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/** What the table shows of one side: NFE counts, timings (min and median over rounds) and losses. */
interface SideSummary {
  nfeForward: number;
  nfeBackward: number;
  nfeFullTrajectory: number;
  fwdMsMin: number;
  fwdMsMedian: number;
  fwdBwdMsMin: number;
  fwdBwdMsMedian: number;
  trainMsMin: number;
  trainMsMedian: number;
  firstLoss: number;
  finalLoss: number;
}

export interface SpiralTrainReport {
  backend: BackendName;
  ours: OurStatic & SideSummary;
  peer?: SideSummary;
}

const minOf = (xs: number[]): number => Math.min(...xs);

export async function runSpiralTrainBench(opts: BenchOptions): Promise<SpiralTrainReport[]> {
  const data = spiralData();
  const lins = spiralWeights();
  const iters = opts.quick ? 50 : 200;
  const rounds = opts.quick ? 1 : 2;
  const samples = opts.quick ? 3 : 7;
  console.log(
    `\nspiral NODE training (node_spiral.py's problem): dopri5 rtol ${TOL.rtol} atol ${TOL.atol}, batch ${BATCH_SIZE}×${BATCH_TIME} times, RMSprop 1e-3, ${iters} iterations per round, ` +
      `${rounds} round(s); fwd and fwd+bwd: ${samples} timed samples per round on each side (min: fastest; med: median of the per-round medians), ` +
      `train ms/iter: one ${iters}-iteration run per round on each side`,
  );
  console.log(`weights: Mulberry32(${SEED}) → param_fingerprint ${JSON.stringify(fingerprint(lins))}`);
  const withPeer = peerAvailable('PEER_TORCHDIFFEQ');
  const ours = new Map<BackendName, { rounds: OurRound[]; stat: OurStatic }>();
  const peers: PeerSpiral[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const backend of opts.backends) {
      await useBackend(backend);
      const { round, stat } = ourRound(data, lins, iters, samples, opts.quick);
      const entry = ours.get(backend) ?? { rounds: [], stat };
      entry.rounds.push(round);
      ours.set(backend, entry);
    }
    if (withPeer) peers.push(runPeer(iters, samples));
  }
  if (withPeer) {
    const pfp = peers[0].runs[0].param_fingerprint;
    const same = JSON.stringify(pfp) === JSON.stringify(fingerprint(lins));
    console.log(`torchdiffeq param_fingerprint ${JSON.stringify(pfp)}: ${same ? 'identical weights' : 'MISMATCH'}`);
  }
  const peer = withPeer
    ? {
        nfeForward: peers[0].runs[0].init.forward.nfe,
        nfeBackward: peers[0].runs[0].init.backprop.nfe_bwd,
        nfeFullTrajectory: peers[0].runs[0].train.full_trajectory_nfe,
        fwdMsMin: minOf(peers.map((p) => p.runs[0].init.forward.ms_min)),
        fwdMsMedian: median(peers.map((p) => p.runs[0].init.forward.ms)),
        fwdBwdMsMin: minOf(peers.map((p) => p.runs[0].init.backprop.ms_min)),
        fwdBwdMsMedian: median(peers.map((p) => p.runs[0].init.backprop.ms)),
        trainMsMin: minOf(peers.map((p) => p.runs[0].train.ms_per_iter)),
        trainMsMedian: median(peers.map((p) => p.runs[0].train.ms_per_iter)),
        firstLoss: peers[0].runs[0].train.first_batch_loss,
        finalLoss: peers[0].runs[0].train.final_batch_loss,
      }
    : undefined;
  const reports: SpiralTrainReport[] = [];
  for (const [backend, { rounds: rs, stat }] of ours) {
    reports.push({
      backend,
      ours: {
        ...stat,
        fwdMsMin: minOf(rs.flatMap((r) => r.fwdMs)),
        fwdMsMedian: median(rs.map((r) => median(r.fwdMs))),
        fwdBwdMsMin: minOf(rs.flatMap((r) => r.fwdBwdMs)),
        fwdBwdMsMedian: median(rs.map((r) => median(r.fwdBwdMs))),
        trainMsMin: minOf(rs.map((r) => r.trainMsPerIter)),
        trainMsMedian: median(rs.map((r) => r.trainMsPerIter)),
      },
      peer,
    });
  }
  const row = (side: string, x: SideSummary): string[] => [
    side,
    String(x.nfeForward),
    String(x.nfeBackward),
    String(x.nfeFullTrajectory),
    `${fmt(x.fwdMsMin, 2)}/${fmt(x.fwdMsMedian, 2)}`,
    `${fmt(x.fwdBwdMsMin, 2)}/${fmt(x.fwdBwdMsMedian, 2)}`,
    fmt((x.fwdBwdMsMedian - x.fwdMsMedian) / x.fwdMsMedian, 2),
    `${fmt(x.trainMsMin, 2)}/${fmt(x.trainMsMedian, 2)}`,
    `${fmt(x.firstLoss, 4)}→${fmt(x.finalLoss, 4)}`,
    `${rounds}×${samples}`,
  ];
  printTable(
    [
      'side',
      'fwd NFE',
      'bwd NFE',
      'full-traj NFE',
      'fwd ms (min/med)',
      'fwd+bwd ms (min/med)',
      'bwd/fwd',
      'train ms/iter (min/med)',
      'loss first→last',
      'samples',
    ],
    [...reports.map((r) => row(`ours ${r.backend}`, r.ours)), ...(peer ? [row('torchdiffeq', peer)] : [])],
    ['left'],
  );
  for (const r of reports) {
    const o = r.ours;
    console.log(
      `ours ${r.backend}: bare f ${fmt(o.fUs, 1)} µs; forward = ${fmt((o.nfeForward * o.fUs) / 1000, 2)} ms of f calls of ${fmt(o.fwdMsMedian, 2)} ms`,
    );
    if (peer) {
      const ratio = (a: number, b: number): string => fmt(a / b, 2);
      console.log(
        `ratios ours ${r.backend}/torchdiffeq (min, median): train ms/iter ${ratio(o.trainMsMin, peer.trainMsMin)}, ${ratio(o.trainMsMedian, peer.trainMsMedian)} ` +
          `(target ≤ 1.0 on wasm); fwd+bwd ${ratio(o.fwdBwdMsMin, peer.fwdBwdMsMin)}, ${ratio(o.fwdBwdMsMedian, peer.fwdBwdMsMedian)}; ` +
          `fwd ${ratio(o.fwdMsMin, peer.fwdMsMin)}, ${ratio(o.fwdMsMedian, peer.fwdMsMedian)}; forward NFE ${o.nfeForward} vs ${peer.nfeForward}`,
      );
    }
  }
  return reports;
}
