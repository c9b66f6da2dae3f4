/**
 * Solver throughput side by side with torchdiffeq on the problem of
 * `../shared/peers/node_mlp_throughput.py`: f(y) = Linear(64→dim)(tanh(Linear(dim→64)(y))),
 * PyTorch-default uniform weights then y0 ~ N(0, 1) (batch × dim), all from a fresh
 * Mulberry32(seed) per configuration (the `param_fingerprint` is compared); dopri5 at
 * rtol = atol = 1e-5 on t ∈ [0, 1]; loss mean(y(1)²) for the backward pass.
 *
 * Ours: a `neuralODE` layer (discrete adjoint with the hand-written dense VJP). Measured: forward
 * NFE, forward ms, forward+backward ms (gradient w.r.t. all weights), and the bare f call. The
 * peer (backprop through the solver, 1 thread) runs alternately with ours when PEER_TORCHDIFFEQ is
 * set; ratios ours/peer on minima and medians. `--quick`: the headline 64 × 32 only.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { neuralODE, NeuralODE } from '../src';
import { denseWeights, fingerprint, Fingerprint, linearUniform, mulberry32, normal, peerAvailable, runPeerScript } from './peer';
import { timeODEModel } from './layer_timing';
import { BackendName, BenchOptions, fmt, median, printTable, useBackend } from './util';

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

function ours({ batch, dim }: Config, quick: boolean): OurRow {
  const rng = mulberry32(SEED);
  const lins = [linearUniform(rng, dim, HIDDEN), linearUniform(rng, HIDDEN, dim)];
  const y0 = tf.tensor2d(
    Array.from({ length: batch * dim }, () => normal(rng)),
    [batch, dim],
  );
  const field = [tfl.layers.dense({ units: HIDDEN, activation: 'tanh' }), tfl.layers.dense({ units: dim })];
  const ode = neuralODE({ inputShape: [dim], solver: 'dopri5', rtol: TOL, atol: TOL, tspan: [0, 1], vectorField: field }) as NeuralODE;
  const model = tfl.sequential({ layers: [ode] });
  const ws = lins.flatMap(denseWeights);
  model.setWeights(ws);
  tf.dispose(ws);
  const o = { warmup: 1, warmupMs: quick ? 0 : 100, minTimeMs: quick ? 300 : 800, minSamples: 5, maxSamples: 100 };
  const timing = timeODEModel(model, ode, y0, (out) => tf.mean(tf.square(out)) as tf.Scalar, o);
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

function peer(configs: Config[], quick: boolean): PeerRow[] {
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
    quick ? '3' : '5',
    '--no-adjoint',
    '--seed',
    String(SEED),
  ]);
  return r.rows;
}

export async function runMlpGridBench(opts: BenchOptions): Promise<void> {
  const configs = opts.quick ? [HEADLINE] : GRID;
  const rounds = opts.quick ? 1 : 2;
  const withPeer = peerAvailable('PEER_TORCHDIFFEQ');
  console.log(`\nMLP throughput (node_mlp_throughput.py's problem): dopri5 rtol = atol = ${TOL}, t ∈ [0, 1], hidden ${HIDDEN} tanh, ${rounds} round(s)`);
  const ourRuns = new Map<string, OurRow[]>();
  const peerRuns: PeerRow[][] = [];
  for (let r = 0; r < rounds; r++) {
    for (const backend of opts.backends) {
      await useBackend(backend);
      for (const c of configs) {
        const key = `${backend} ${c.batch}×${c.dim}`;
        ourRuns.set(key, [...(ourRuns.get(key) ?? []), ours(c, opts.quick)]);
      }
    }
    if (withPeer) peerRuns.push(peer(configs, opts.quick));
  }
  const peerOf = (c: Config): PeerRow[] => peerRuns.map((rows) => rows.find((p) => p.batch === c.batch && p.dim === c.dim)!).filter(Boolean);
  const rows: string[][] = [];
  for (const backend of opts.backends as BackendName[]) {
    for (const c of configs) {
      const runs = ourRuns.get(`${backend} ${c.batch}×${c.dim}`)!;
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
        `${o.nfe}${ps.length ? ` / ${ps[0].nfe_fwd}` : ''}`,
        fmt(o.fUs, 1) + (ps.length ? ` / ${fmt(ps[0].f_eval_us, 1)}` : ''),
        `${fmt(fwdMin, 2)}/${fmt(fwdMed, 2)}`,
        `${fmt(fbMin, 2)}/${fmt(fbMed, 2)}`,
        fmt((fbMed - fwdMed) / fwdMed, 2),
        ps.length ? `${fmt(pfMin, 2)}/${fmt(pfMed, 2)}` : '—',
        ps.length ? `${fmt(fbMin / pfMin, 2)} / ${fmt(fbMed / pfMed, 2)}` : '—',
        same === undefined ? '—' : same ? 'same' : 'MISMATCH',
      ]);
    }
  }
  printTable(
    [
      'backend',
      'batch×dim',
      'fwd NFE ours/peer',
      'bare f µs ours/peer',
      'fwd ms min/med',
      'fwd+bwd ms min/med',
      'bwd/fwd',
      'peer backprop ms min/med',
      'ratio min / med',
      'weights',
    ],
    rows,
    ['left', 'left'],
  );
  console.log('target: 64×32 forward+backward / torchdiffeq backprop ≤ 1.5 on wasm');
}
