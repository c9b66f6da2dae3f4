/**
 * Solver throughput side by side with torchdiffeq on the problem of
 * `../shared/peers/node_mlp_throughput.py`: f(y) = Linear(64→dim)(tanh(Linear(dim→64)(y))),
 * PyTorch-default uniform weights then y0 ~ N(0, 1) (batch × dim), all from a fresh
 * Mulberry32(seed) per configuration (the `param_fingerprint` is compared); dopri5 at
 * rtol = atol = 1e-5 on t ∈ [0, 1]; loss mean(y(1)²) for the backward pass.
 *
 * Ours, two ways of writing the field: a `neuralODE` layer of built-in Dense layers (discrete adjoint
 * with the hand-written dense VJP), and the same MLP written with tf ops (matMul, add, tf.tanh) through
 * `discreteAdjoint`, whose reverse pass differentiates the field with tfjs's autodiff. Measured: forward
 * NFE, forward ms, forward+backward ms (gradient w.r.t. all weights), and the bare f call. The peer
 * (backprop through the solver, 1 thread) runs alternately with ours when PEER_TORCHDIFFEQ is set, with
 * the same number of timed samples per round on both sides (the peer's `--repeats`); ratios ours/peer
 * on minima and medians. `--quick`: the headline 64 × 32 only.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { discreteAdjoint, neuralODE, NeuralODE } from '../src';
import { denseWeights, fingerprint, Fingerprint, linearUniform, mulberry32, normal, peerAvailable, runPeerScript } from './peer';
import { timeODEModel } from './layer_timing';
import { BackendName, BenchOptions, exactSamples, fmt, measureInterleaved, median, printTable, useBackend } from './util';

const HIDDEN = 64;
const SEED = 0;
const TOL = 1e-5;

interface Config {
  batch: number;
  dim: number;
}

const GRID: Config[] = [1, 64, 512].flatMap((batch) => [2, 32, 128].map((dim) => ({ batch, dim })));
const HEADLINE: Config = { batch: 64, dim: 32 };

interface OurRow {
  nfe: number;
  nfeBackward: number;
  fwdMs: number[];
  fwdBwdMs: number[];
  fUs: number;
  fp: Fingerprint;
}

type FieldKind = 'dense' | 'tf-ops';
const FIELD_LABEL: { [k in FieldKind]: string } = { dense: 'Dense layers', 'tf-ops': 'tf ops' };

function problem({ batch, dim }: Config): { lins: ReturnType<typeof linearUniform>[]; y0: tf.Tensor2D } {
  const rng = mulberry32(SEED);
  const lins = [linearUniform(rng, dim, HIDDEN), linearUniform(rng, HIDDEN, dim)];
  const y0 = tf.tensor2d(
    Array.from({ length: batch * dim }, () => normal(rng)),
    [batch, dim],
  );
  return { lins, y0 };
}

function ours(c: Config, kind: FieldKind, samples: number, quick: boolean): OurRow {
  return kind === 'dense' ? oursDense(c, samples, quick) : oursTfOps(c, samples, quick);
}

/** The MLP written with tf ops, through `discreteAdjoint` (autodiff of the field in the reverse pass). */
function oursTfOps(c: Config, samples: number, quick: boolean): OurRow {
  const { lins, y0 } = problem(c);
  const vars = lins.flatMap(denseWeights).map((w) => {
    const v = tf.variable(w);
    w.dispose();
    return v;
  });
  const field = (_t: number, y: tf.Tensor, [w1, b1, w2, b2]: readonly tf.Tensor[]): tf.Tensor =>
    tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y, w1), b1)), w2), b2);
  const { op, record } = discreteAdjoint(field, { solver: 'dopri5', rtol: TOL, atol: TOL, tspan: [0, 1] });
  const fwd = (): void => tf.tidy(() => void op(y0, ...vars).dataSync());
  const fwdBwd = (): void => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(op(y0, ...vars))) as tf.Scalar, vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  fwd();
  const nfe = record.forward!.nfe;
  fwdBwd();
  const nfeBackward = record.nfeBackward;
  const [mf, mfb] = measureInterleaved([fwd, fwdBwd].map((fn) => ({ fn, opts: exactSamples(samples, quick ? 0 : 100) })));
  const bare = (): void => tf.tidy(() => void field(0, y0, vars).dataSync());
  const fUs = measureInterleaved([{ fn: bare, opts: { minTimeMs: 150, minSampleMs: 5 } }])[0].medianMs * 1000;
  tf.dispose([...vars, y0]);
  return { nfe, nfeBackward, fwdMs: mf.samplesMs, fwdBwdMs: mfb.samplesMs, fUs, fp: fingerprint(lins) };
}

function oursDense({ batch, dim }: Config, samples: number, quick: boolean): OurRow {
  const { lins, y0 } = problem({ batch, dim });
  const field = [tfl.layers.dense({ units: HIDDEN, activation: 'tanh' }), tfl.layers.dense({ units: dim })];
  const ode = neuralODE({ inputShape: [dim], solver: 'dopri5', rtol: TOL, atol: TOL, tspan: [0, 1], vectorField: field }) as NeuralODE;
  const model = tfl.sequential({ layers: [ode] });
  const ws = lins.flatMap(denseWeights);
  model.setWeights(ws);
  tf.dispose(ws);
  const timing = timeODEModel(model, ode, y0, (out) => tf.mean(tf.square(out)) as tf.Scalar, exactSamples(samples, quick ? 0 : 100));
  model.dispose();
  y0.dispose();
  return { ...timing, fp: fingerprint(lins) };
}

interface PeerRow {
  batch: number;
  dim: number;
  nfe_fwd: number;
  fwd_ms: number;
  fwd_ms_min: number;
  fwd_bwd_backprop_ms: number;
  fwd_bwd_backprop_ms_min: number;
  nfe_bwd_backprop: number;
  f_eval_us: number;
  param_fingerprint: Fingerprint;
}

function peer(configs: Config[], samples: number): PeerRow[] {
  const batches = [...new Set(configs.map((c) => c.batch))].join(',');
  const dims = [...new Set(configs.map((c) => c.dim))].join(',');
  const r = runPeerScript<{ rows: PeerRow[] }>('node_mlp_throughput.py', [
    '--threads',
    '1',
    '--batches',
    batches,
    '--dims',
    dims,
    '--repeats',
    String(samples),
    '--no-adjoint',
    '--seed',
    String(SEED),
  ]);
  return r.rows;
}

export async function runMlpGridBench(opts: BenchOptions): Promise<void> {
  const configs = opts.quick ? [HEADLINE] : GRID;
  const rounds = opts.quick ? 1 : 2;
  const samples = opts.quick ? 3 : 5;
  const kinds: FieldKind[] = ['dense', 'tf-ops'];
  const withPeer = peerAvailable('PEER_TORCHDIFFEQ');
  console.log(
    `\nMLP throughput (node_mlp_throughput.py's problem): dopri5 rtol = atol = ${TOL}, t ∈ [0, 1], hidden ${HIDDEN} tanh; ` +
      `${rounds} round(s) × ${samples} timed samples per side, ours and the peer alternating round by round`,
  );
  const ourRuns = new Map<string, OurRow[]>();
  const peerRuns: PeerRow[][] = [];
  for (let r = 0; r < rounds; r++) {
    for (const backend of opts.backends) {
      await useBackend(backend);
      for (const c of configs) {
        for (const kind of kinds) {
          const key = `${backend} ${c.batch}×${c.dim} ${kind}`;
          ourRuns.set(key, [...(ourRuns.get(key) ?? []), ours(c, kind, samples, opts.quick)]);
        }
      }
    }
    if (withPeer) peerRuns.push(peer(configs, samples));
  }
  const peerOf = (c: Config): PeerRow[] => peerRuns.map((rows) => rows.find((p) => p.batch === c.batch && p.dim === c.dim)!).filter(Boolean);
  const rows: string[][] = [];
  for (const backend of opts.backends as BackendName[]) {
    for (const c of configs) {
      for (const kind of kinds) {
        const runs = ourRuns.get(`${backend} ${c.batch}×${c.dim} ${kind}`)!;
        const o = runs[0];
        const fwdMin = Math.min(...runs.flatMap((x) => x.fwdMs));
        const fwdMed = median(runs.map((x) => median(x.fwdMs)));
        const fbMin = Math.min(...runs.flatMap((x) => x.fwdBwdMs));
        const fbMed = median(runs.map((x) => median(x.fwdBwdMs)));
        const ps = peerOf(c);
        const pfMin = ps.length ? Math.min(...ps.map((p) => p.fwd_bwd_backprop_ms_min)) : NaN;
        const pfMed = ps.length ? median(ps.map((p) => p.fwd_bwd_backprop_ms)) : NaN;
        const same = ps.length ? JSON.stringify(ps[0].param_fingerprint) === JSON.stringify(o.fp) : undefined;
        rows.push([
          backend,
          `${c.batch}×${c.dim}`,
          FIELD_LABEL[kind],
          `${o.nfe}${ps.length ? ` / ${ps[0].nfe_fwd}` : ''}`,
          fmt(o.fUs, 1) + (ps.length ? ` / ${fmt(ps[0].f_eval_us, 1)}` : ''),
          `${fmt(fwdMin, 2)}/${fmt(fwdMed, 2)}`,
          `${fmt(fbMin, 2)}/${fmt(fbMed, 2)}`,
          fmt((fbMed - fwdMed) / fwdMed, 2),
          ps.length ? `${fmt(pfMin, 2)}/${fmt(pfMed, 2)}` : '—',
          ps.length ? `${fmt(fbMin / pfMin, 2)} / ${fmt(fbMed / pfMed, 2)}` : '—',
          `${runs.length}×${samples}${ps.length ? ` / ${ps.length}×${samples}` : ''}`,
          same === undefined ? '—' : same ? 'same' : 'MISMATCH',
        ]);
      }
    }
  }
  printTable(
    [
      'backend',
      'batch×dim',
      'field',
      'fwd NFE ours/peer',
      'bare f µs ours/peer',
      'fwd ms min/med',
      'fwd+bwd ms min/med',
      'bwd/fwd',
      'peer backprop ms min/med',
      'ratio min / med',
      'samples ours/peer',
      'weights',
    ],
    rows,
    ['left', 'left', 'left'],
  );
  console.log('ms: min = fastest sample, med = median of the per-round medians (both sides alike)');
  console.log('targets (wasm, median): 64×32 forward+backward / torchdiffeq backprop ≤ 1.2 with Dense layers, ≤ 1.5 with tf ops');
}
