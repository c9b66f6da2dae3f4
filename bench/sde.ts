/**
 * Neural SDE, side by side with torchsde on the problem of `../shared/peers/sde_spiral.py`:
 * Itô SDE with diagonal noise, state 2, batch 64, drift f2(tanh(f1(y))), diffusion
 * sigmoid(g2(tanh(g1(y)))) (hidden 32), y0 = [2, 0] for every path, t ∈ [0, 1], loss mean(y(1)²).
 * The weights are rebuilt bit for bit from the peer's Mulberry32 stream (PyTorch-style uniform init;
 * `param_fingerprint` is compared with the peer's).
 *
 * Variants: fixed-step Euler–Maruyama dt 0.01 (torchsde: euler dt 0.01) and the adaptive method at
 * rtol = atol = 1e-3 (ours: SOSRI; torchsde: adaptive srk). For each: forward (NeuralSDE layer,
 * inference call), forward+backward (gradient of the loss w.r.t. all weights through the discrete
 * adjoint), the same accepted steps unrolled under tfjs autodiff, peak memory of the gradient, and
 * where the forward time goes (Brownian queries, bare drift/diffusion calls, the rest of the step).
 *
 * The peer runs when PEER_TORCHSDE is set (see ../shared/peers/README.md; PYTHON defaults to
 * /usr/bin/python3), alternating with ours: ours, peer, ours, peer (2 rounds; 1 with --quick), with the same
 * number of timed samples per round on both sides (5, 3 with --quick; 1 for solves of over 1000 NFE).
 * Ratios ours/torchsde are reported on the min (fastest run of all rounds on each side) and on the
 * median (median of the per-round medians).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BrownianTree, neuralSDE, NeuralSDE, sosri } from '../src';
import { eulerMaruyamaStep } from '../src/solvers/sri/euler_maruyama';
import { sriStep } from '../src/solvers/sri/step';
import { stepNoise } from '../src/solvers/sri/stepper';
import { denseWeights, fingerprint, Fingerprint, Linear, linearUniform, mulberry32, peerAvailable, runPeerScript } from './peer';
import { BackendName, BenchOptions, exactSamples, fmt, measure, measureInterleaved, median, printTable, useBackend } from './util';

const BATCH = 64;
const DIM = 2;
const HIDDEN = 32;
const SEED = 0;

/** f1, f2, g1, g2 in the peer's order (`for lin in (self.f1, self.f2, self.g1, self.g2)`). */
export function peerWeights(seed = SEED): Linear[] {
  const rng = mulberry32(seed);
  return [linearUniform(rng, DIM, HIDDEN), linearUniform(rng, HIDDEN, DIM), linearUniform(rng, DIM, HIDDEN), linearUniform(rng, HIDDEN, DIM)];
}

// ---------------------------------------------------------------------------------------------
// Our side
// ---------------------------------------------------------------------------------------------

interface Variant {
  name: string;
  peer: string;
  label: string;
  peerLabel: string;
  options: { solver: 'sosri' | 'euler_maruyama'; dt0?: number; rtol?: number; atol?: number };
}

const VARIANTS: Variant[] = [
  { name: 'euler', peer: 'euler_fixed', label: 'Euler–Maruyama dt 0.01', peerLabel: 'euler dt 0.01', options: { solver: 'euler_maruyama', dt0: 0.01 } },
  {
    name: 'adaptive',
    peer: 'srk_adaptive',
    label: 'SOSRI rtol=atol=1e-3',
    peerLabel: 'adaptive srk rtol=atol=1e-3',
    options: { solver: 'sosri', rtol: 1e-3, atol: 1e-3 },
  },
];

interface OurRound {
  fwdMs: number[];
  fwdBwdMs: number[];
  autoFwdBwdMs: number[];
}

interface OurStatic {
  nfe: number;
  nfeDiffusion: number;
  nfeBackward: number;
  accepted: number;
  rejected: number;
  loss: number;
  gradNorm: number;
  peakMB: number;
  autoPeakMB: number;
  fUs: number;
  gUs: number;
  brownianMs: number;
  noiseTensorsMs: number;
}

interface OurCase {
  variant: Variant;
  layer: NeuralSDE;
  fwd: () => void;
  fwdBwd: () => void;
  autoFwdBwd: () => void;
  stat: OurStatic;
  rounds: OurRound[];
  dispose: () => void;
}

function buildLayer(v: Variant, lins: Linear[]): NeuralSDE {
  const layer = neuralSDE({
    tspan: [0, 1],
    seed: SEED,
    ...v.options,
    drift: [tfl.layers.dense({ units: HIDDEN, activation: 'tanh' }), tfl.layers.dense({ units: DIM })],
    diffusion: [tfl.layers.dense({ units: HIDDEN, activation: 'tanh' }), tfl.layers.dense({ units: DIM, activation: 'sigmoid' })],
  });
  layer.build([BATCH, DIM]);
  const ws = lins.flatMap(denseWeights);
  layer.setWeights(ws);
  tf.dispose(ws);
  return layer;
}

async function prepareCase(v: Variant, lins: Linear[]): Promise<OurCase> {
  const layer = buildLayer(v, lins);
  const x = tf.tidy(() => tf.tile(tf.tensor2d([[2, 0]]), [BATCH, 1]));
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const lossOf = (y: tf.Tensor): tf.Scalar => tf.mean(tf.square(y)) as tf.Scalar;
  const fwd = (): void => tf.tidy(() => void (layer.apply(x) as tf.Tensor).dataSync());
  // A training step as fit takes it (a training call records its increments for the reverse pass), on the
  // same path every time (the first training call's).
  const grads = (): { value: tf.Scalar; grads: tf.NamedTensorMap } => {
    layer.trainingCalls = 0;
    return tf.variableGrads(() => lossOf(layer.apply(x, { training: true }) as tf.Tensor), vars);
  };
  const fwdBwd = (): void => {
    const g = grads();
    tf.dispose([g.value, ...Object.values(g.grads)]);
  };

  // One solve: the accepted steps and the path, for the unrolled reference and the time breakdown.
  const g0 = grads();
  const loss = g0.value.dataSync()[0];
  const gradNorm = Math.sqrt(Object.values(g0.grads).reduce((s, gr) => s + tf.tidy(() => tf.sum(tf.square(gr)).dataSync()[0]), 0));
  tf.dispose([g0.value, ...Object.values(g0.grads)]);
  const s = layer.lastStats!;
  const steps = s.t.map((t, j) => [t, s.dt[j]] as const);
  const tree = (): BrownianTree => new BrownianTree({ seed: layer.lastPathSeed, t0: 0, t1: 1, shape: [BATCH, DIM] });
  const sri = v.options.solver === 'sosri';
  const [w1, b1, w2, b2, v1, c1, v2, c2] = vars;
  const f = (_t: number, y: tf.Tensor): tf.Tensor =>
    tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y as tf.Tensor2D, w1 as tf.Tensor2D), b1)), w2 as tf.Tensor2D), b2);
  const g = (_t: number, y: tf.Tensor): tf.Tensor =>
    tf.sigmoid(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y as tf.Tensor2D, v1 as tf.Tensor2D), c1)), v2 as tf.Tensor2D), c2));
  const unrolled = (y0: tf.Tensor): tf.Tensor => {
    const path = tree();
    let y = y0;
    for (const [t, dt] of steps) {
      const { dW, dZ } = stepNoise(path, t, dt, y.shape, sri);
      y = sri ? sriStep(sosri, f, g, t, y, dt, dW, dZ!, { rtol: 1e-3, atol: 1e-3 }).y1 : eulerMaruyamaStep(f, g, t, y, dt, dW).y1;
    }
    return y;
  };
  const autoFwdBwd = (): void => {
    const r = tf.variableGrads(() => lossOf(unrolled(x)), vars);
    tf.dispose([r.value, ...Object.values(r.grads)]);
  };

  const peak = async (fn: () => void): Promise<number> => peakMB(fn);
  // Where the forward time goes: a bare drift / diffusion call; the Brownian queries of one solve
  // on a fresh tree (as each call builds one), with and without making the noise tensors.
  const fCall = measure(() => tf.tidy(() => void f(0, x).dataSync()), { minTimeMs: 150, minSampleMs: 5 });
  const gCall = measure(() => tf.tidy(() => void g(0, x).dataSync()), { minTimeMs: 150, minSampleMs: 5 });
  const queries = measure(
    () => {
      const p = tree();
      for (const [t, dt] of steps) p.increment(t, t + dt);
    },
    { minTimeMs: 150 },
  );
  const noise = measure(
    () => {
      const p = tree();
      for (const [t, dt] of steps) {
        const n = stepNoise(p, t, dt, [BATCH, DIM], sri);
        tf.dispose([n.dW, n.dZ ?? []].flat());
      }
    },
    { minTimeMs: 150 },
  );
  const stat: OurStatic = {
    nfe: s.nfe,
    nfeDiffusion: s.nfeDiffusion,
    nfeBackward: s.nfeBackward,
    accepted: s.nAccepted,
    rejected: s.nRejected,
    loss,
    gradNorm,
    peakMB: await peak(fwdBwd),
    autoPeakMB: await peak(autoFwdBwd),
    fUs: fCall.medianMs * 1000,
    gUs: gCall.medianMs * 1000,
    brownianMs: queries.medianMs,
    noiseTensorsMs: noise.medianMs,
  };
  return {
    variant: v,
    layer,
    fwd,
    fwdBwd,
    autoFwdBwd,
    stat,
    rounds: [],
    dispose: () => {
      x.dispose();
      // Called directly (no symbolic node), tfjs refuses layer.dispose(): free the weights themselves.
      for (const w of layer.weights) w.dispose();
    },
  };
}

/**
 * Peak bytes above the start (MB) while `fn` runs, from the engine's per-kernel memory snapshots: what
 * `tf.profile` records, read without its `Math.max(...kernels)`, which overflows the call stack for the
 * 10^5+ kernels of an unrolled adaptive solve.
 */
function peakMB(fn: () => void): number {
  const state = (tf.engine() as unknown as { state: { profiling: boolean; numBytes: number; activeProfile: { kernels: { totalBytesSnapshot: number }[] } } })
    .state;
  const before = state.numBytes;
  state.activeProfile.kernels = [];
  state.profiling = true;
  try {
    fn();
  } finally {
    state.profiling = false;
  }
  let peak = before;
  for (const k of state.activeProfile.kernels) peak = Math.max(peak, k.totalBytesSnapshot);
  state.activeProfile.kernels = [];
  return (peak - before) / 2 ** 20;
}

/** Timed samples per round of a case, the same on the peer's side: one for solves of over 1000 NFE (seconds each). */
function samplesOf(c: OurCase, quick: boolean): number {
  return c.stat.nfe > 1000 ? 1 : quick ? 3 : 5;
}

function timeRound(c: OurCase, quick: boolean): void {
  const n = samplesOf(c, quick);
  // the heavy solve's warm-up would cost as much as its sample: none there (the peer warms up once per measurement)
  const o = exactSamples(n, 0, n === 1 ? 0 : 1);
  const [a, b, d] = measureInterleaved([c.fwd, c.fwdBwd, c.autoFwdBwd].map((fn) => ({ fn, opts: o })));
  c.rounds.push({ fwdMs: a.samplesMs, fwdBwdMs: b.samplesMs, autoFwdBwdMs: d.samplesMs });
}

// ---------------------------------------------------------------------------------------------
// The peer
// ---------------------------------------------------------------------------------------------

interface PeerRow {
  variant: string;
  nfe_f: number;
  nfe_g: number;
  fwd_ms: number;
  fwd_ms_min: number;
  fwd_bwd_backprop_ms?: number;
  fwd_bwd_backprop_ms_min?: number;
  fwd_bwd_adjoint_ms?: number;
  fwd_bwd_adjoint_ms_min?: number;
  backprop_nfe?: { fwd_f: number; bwd_f: number };
  adjoint_nfe?: { fwd_f: number; bwd_f: number };
  backprop_loss?: number;
  param_fingerprint: Fingerprint;
}

interface PeerResult {
  rows: PeerRow[];
  env: Record<string, unknown>;
}

/** One peer run per sample count, so that each variant gets as many timed samples as ours (`samples`: peer variant → count). */
function runPeer(samples: Map<string, number>): PeerResult {
  const byCount = new Map<number, string[]>();
  for (const [v, n] of samples) byCount.set(n, [...(byCount.get(n) ?? []), v]);
  const runs = [...byCount].map(([n, vs]) =>
    runPeerScript<PeerResult>('sde_spiral.py', ['--threads', '1', '--variants', vs.join(','), '--repeats', String(n), '--seed', String(SEED)]),
  );
  return { rows: runs.flatMap((r) => r.rows), env: runs[0].env };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const minOf = (xs: number[]): number => Math.min(...xs);

export interface SdeBenchReport {
  backend: BackendName;
  variant: string;
  ours: OurStatic & { fwdMsMin: number; fwdMsMedian: number; fwdBwdMsMin: number; fwdBwdMsMedian: number; autoFwdBwdMsMedian: number };
  peer?: {
    nfe: number;
    fwdMsMin: number;
    fwdMsMedian: number;
    fwdBwdMsMin: number;
    fwdBwdMsMedian: number;
    adjointFwdBwdMsMedian?: number;
    backwardNfe?: number;
  };
}

export async function runSdeBench(opts: BenchOptions): Promise<SdeBenchReport[]> {
  const lins = peerWeights();
  const fp = fingerprint(lins);
  console.log(`\nneural SDE (sde_spiral.py's problem): batch ${BATCH}, state ${DIM}, hidden ${HIDDEN}, t ∈ [0, 1], loss mean(y(1)²)`);
  console.log(`weights: Mulberry32(${SEED}) → param_fingerprint ${JSON.stringify(fp)}`);
  const withPeer = peerAvailable('PEER_TORCHSDE');
  const rounds = opts.quick ? 1 : 2;
  const cases = new Map<BackendName, OurCase[]>();
  const peerRuns: PeerResult[] = [];
  for (const backend of opts.backends) {
    await useBackend(backend);
    const list: OurCase[] = [];
    for (const v of VARIANTS) list.push(await prepareCase(v, lins));
    cases.set(backend, list);
  }
  for (let r = 0; r < rounds; r++) {
    for (const backend of opts.backends) {
      await useBackend(backend);
      for (const c of cases.get(backend)!) timeRound(c, opts.quick);
    }
    if (withPeer) {
      const first = cases.get(opts.backends[0])!;
      peerRuns.push(runPeer(new Map(first.map((c) => [c.variant.peer, samplesOf(c, opts.quick)]))));
    }
  }
  if (peerRuns.length > 0) {
    const pfp = peerRuns[0].rows[0].param_fingerprint;
    const same = pfp.n_params === fp.n_params && pfp.sum === fp.sum && pfp.sum_abs === fp.sum_abs && pfp.first.every((v, i) => v === fp.first[i]);
    console.log(`torchsde param_fingerprint ${JSON.stringify(pfp)}: ${same ? 'identical weights' : 'MISMATCH'}`);
    const env = peerRuns[0].env;
    console.log(`peer: torch ${String(env.torch)}, torchsde ${String(env.torchsde)}, 1 thread; ${peerRuns.length} run(s) alternating with ours`);
  }

  const reports: SdeBenchReport[] = [];
  for (const backend of opts.backends) {
    await useBackend(backend);
    const list = cases.get(backend)!;
    console.log(`\nbackend ${backend} (${rounds} round(s); ms: median of per-round medians, min: fastest sample of all rounds)`);
    const rows: string[][] = [];
    const ratioRows: string[][] = [];
    const breakdown: string[][] = [];
    for (const c of list) {
      const all = (k: keyof OurRound): number[] => c.rounds.flatMap((r) => r[k]);
      const med = (k: keyof OurRound): number => median(c.rounds.map((r) => median(r[k])));
      const s = c.stat;
      const ours = {
        ...s,
        fwdMsMin: minOf(all('fwdMs')),
        fwdMsMedian: med('fwdMs'),
        fwdBwdMsMin: minOf(all('fwdBwdMs')),
        fwdBwdMsMedian: med('fwdBwdMs'),
        autoFwdBwdMsMedian: med('autoFwdBwdMs'),
      };
      const report: SdeBenchReport = { backend, variant: c.variant.name, ours };
      const bwd = ours.fwdBwdMsMedian - ours.fwdMsMedian;
      rows.push([
        `ours: ${c.variant.label}`,
        `${s.nfe}`,
        `${s.accepted}+${s.rejected}`,
        fmt(ours.fwdMsMedian),
        fmt(ours.fwdMsMin),
        fmt((ours.fwdMsMedian * 1000) / s.nfe),
        fmt(ours.fwdBwdMsMedian),
        fmt(ours.fwdBwdMsMin),
        fmt(bwd / ours.fwdMsMedian, 2),
        fmt(ours.autoFwdBwdMsMedian),
        fmt(s.peakMB, 2),
        fmt(s.autoPeakMB, 2),
        `${c.rounds.length}×${samplesOf(c, opts.quick)}`,
      ]);
      const prs = peerRuns.map((p) => p.rows.find((row) => row.variant === c.variant.peer)!).filter((x) => x);
      if (prs.length > 0) {
        const p0 = prs[0];
        const peer = {
          nfe: p0.nfe_f,
          fwdMsMin: minOf(prs.map((p) => p.fwd_ms_min)),
          fwdMsMedian: median(prs.map((p) => p.fwd_ms)),
          fwdBwdMsMin: minOf(prs.map((p) => p.fwd_bwd_backprop_ms_min ?? NaN)),
          fwdBwdMsMedian: median(prs.map((p) => p.fwd_bwd_backprop_ms ?? NaN)),
          adjointFwdBwdMsMedian: prs[0].fwd_bwd_adjoint_ms === undefined ? undefined : median(prs.map((p) => p.fwd_bwd_adjoint_ms ?? NaN)),
          backwardNfe: p0.backprop_nfe?.bwd_f,
        };
        report.peer = peer;
        rows.push([
          `torchsde: ${c.variant.peerLabel}`,
          `${peer.nfe}`,
          '',
          fmt(peer.fwdMsMedian),
          fmt(peer.fwdMsMin),
          fmt((peer.fwdMsMedian * 1000) / peer.nfe),
          fmt(peer.fwdBwdMsMedian),
          fmt(peer.fwdBwdMsMin),
          fmt((peer.fwdBwdMsMedian - peer.fwdMsMedian) / peer.fwdMsMedian, 2),
          peer.adjointFwdBwdMsMedian === undefined ? '' : `adj ${fmt(peer.adjointFwdBwdMsMedian)}`,
          '',
          '',
          `${prs.length}×${samplesOf(c, opts.quick)}`,
        ]);
        ratioRows.push([
          c.variant.name,
          fmt(ours.fwdMsMin / peer.fwdMsMin, 2),
          fmt(ours.fwdMsMedian / peer.fwdMsMedian, 2),
          fmt(ours.fwdBwdMsMin / peer.fwdBwdMsMin, 2),
          fmt(ours.fwdBwdMsMedian / peer.fwdBwdMsMedian, 2),
          fmt((ours.fwdMsMedian / s.nfe / (peer.fwdMsMedian / peer.nfe)) as number, 2),
        ]);
      }
      const fMs = (s.nfe * s.fUs) / 1000;
      const gMs = (s.nfeDiffusion * s.gUs) / 1000;
      const rest = ours.fwdMsMedian - fMs - gMs - s.noiseTensorsMs;
      const share = (x: number): string => `${fmt(x)} (${fmt((100 * x) / ours.fwdMsMedian, 0)}%)`;
      breakdown.push([
        c.variant.name,
        fmt(ours.fwdMsMedian),
        share(s.brownianMs),
        share(s.noiseTensorsMs),
        share(fMs),
        share(gMs),
        share(rest),
        `${s.nfeBackward}`,
        fmt(s.fUs),
        fmt(s.gUs),
      ]);
      reports.push(report);
    }
    printTable(
      ['solver', 'NFE f', 'steps', 'fwd ms', 'min', 'µs/NFE', 'fwd+bwd ms', 'min', 'bwd/fwd', 'autodiff fwd+bwd', 'peak MB', 'autodiff MB', 'samples'],
      rows,
      ['left'],
    );
    if (ratioRows.length > 0) {
      console.log(`\nours/torchsde (${backend}; torchsde fwd+bwd = backprop through sdeint, its fastest gradient here; target ≤ 0.5)`);
      printTable(['variant', 'fwd min', 'fwd median', 'fwd+bwd min', 'fwd+bwd median', 'µs/NFE'], ratioRows, ['left']);
    }
    console.log(
      `\nwhere our forward time goes (${backend}, ms per solve; bare f / g calls × NFE, the rest is the step's own kernels, read-backs and the loop)`,
    );
    printTable(
      ['variant', 'fwd ms', 'Brownian queries', 'queries + noise tensors', 'drift f', 'diffusion g', 'rest', 'bwd NFE f', 'µs f call', 'µs g call'],
      breakdown,
      ['left'],
    );
    for (const c of list) c.dispose();
  }
  return reports;
}
