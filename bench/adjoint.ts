/**
 * Discrete adjoint vs plain tfjs autodiff through the same solver steps, for an MLP vector field
 * (batch 64, state width 32, hidden 64, tanh) solved by tsit5 on [0, 4] at rtol 1e-6 (50+ accepted steps).
 *
 * - forward: the custom op's forward solve (tape off) vs the same accepted steps unrolled with
 *   tfjs ops under the tape;
 * - backward: (gradient of a loss w.r.t. input and weights) − forward;
 * - peak memory: `tf.profile(...).peakBytes` above the start while computing the gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { ParametricField } from '../src';
import { discreteAdjointOp, odeSystem } from '../src/adjoint/discrete';
import { resolveOptions } from '../src/solvers/options';
import { getTableau } from '../src/solvers/registry';
import { rkStepTensor } from '../src/solvers/rk/stepper';
import { BenchOptions, fmt, measureInterleaved, printTable, useBackend } from './util';

const B = 64;
const D = 32;
const H = 64;
const SEED = 7;

const field: ParametricField = (_t, y, [w1, b1, w2, b2]) =>
  tf.tidy(() => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y as tf.Tensor2D, w1 as tf.Tensor2D), b1)), w2 as tf.Tensor2D), b2));

interface Row {
  method: string;
  steps: number;
  fwdMs: number;
  bwdMs: number;
  usPerNfeFwd: number;
  peakMB: number;
}

async function benchBackend(backend: 'cpu' | 'wasm', quick: boolean): Promise<Row[]> {
  await useBackend(backend);
  // Weights scaled so that the dynamics need 50+ accepted steps.
  const params = [
    tf.randomNormal([D, H], 0, 2 / Math.sqrt(D), 'float32', SEED),
    tf.randomNormal([H], 0, 0.5, 'float32', SEED + 1),
    tf.randomNormal([H, D], 0, 2 / Math.sqrt(H), 'float32', SEED + 2),
    tf.randomNormal([D], 0, 0.5, 'float32', SEED + 3),
  ];
  const x = tf.randomNormal([B, D], 0, 1, 'float32', SEED + 4);
  const opts = resolveOptions({ tspan: [0, 4], rtol: 1e-6, atol: 1e-7 });
  const { op, record } = discreteAdjointOp(odeSystem(field, opts), opts);
  const nOutState = B * D;
  const loss = (packed: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.slice(packed, 0, nOutState))) as tf.Scalar;
  // one solve to fix the accepted steps for the unrolled reference
  tf.dispose(op({ arg: undefined }, x, ...params));
  const stats = record.forward!;
  const tab = getTableau('tsit5');
  const tol = opts.controller;
  const unrolled = (z: tf.Tensor, ps: tf.Tensor[]): tf.Tensor => {
    let y = z;
    stats.dt.forEach((dt, j) => {
      y = rkStepTensor(tab, (t, s) => field(t, s, ps), stats.t[j], y, dt, tol).y1;
    });
    return y;
  };
  const customFwd = (): void => tf.dispose(op({ arg: undefined }, x, ...params));
  const customGrad = (): void => tf.dispose(tf.grads((...a: tf.Tensor[]) => loss(op({ arg: undefined }, a[0], ...a.slice(1))))([x, ...params]));
  const autoFwd = (): void => tf.tidy(() => void tf.sum(tf.square(unrolled(x, params))).dataSync());
  const autoGrad = (): void => tf.dispose(tf.grads((...a: tf.Tensor[]) => tf.sum(tf.square(unrolled(a[0], a.slice(1)))) as tf.Scalar)([x, ...params]));
  const o = { warmup: 1, warmupMs: quick ? 0 : 200, minTimeMs: quick ? 300 : 1500, minSamples: 3, maxSamples: 50 };
  const [cf, cg, af, ag] = measureInterleaved([customFwd, customGrad, autoFwd, autoGrad].map((fn) => ({ fn, opts: o })));
  const peak = async (fn: () => void): Promise<number> => {
    const before = tf.memory().numBytes;
    const info = await tf.profile(fn);
    return (info.peakBytes - before) / 2 ** 20;
  };
  const rows: Row[] = [
    {
      method: 'discrete adjoint',
      steps: stats.nAccepted,
      fwdMs: cf.medianMs,
      bwdMs: cg.medianMs - cf.medianMs,
      usPerNfeFwd: (cf.medianMs * 1000) / stats.nfe,
      peakMB: await peak(customGrad),
    },
    {
      method: 'tfjs autodiff (unrolled)',
      steps: stats.nAccepted,
      fwdMs: af.medianMs,
      bwdMs: ag.medianMs - af.medianMs,
      usPerNfeFwd: (af.medianMs * 1000) / (tab.stages * stats.nAccepted),
      peakMB: await peak(autoGrad),
    },
  ];
  tf.dispose([...params, x]);
  return rows;
}

export async function runAdjointBench(opts: BenchOptions): Promise<void> {
  for (const backend of opts.backends) {
    const rows = await benchBackend(backend, opts.quick);
    console.log(`\nadjoint: tsit5, MLP field batch ${B}, width ${D}, hidden ${H}, backend ${backend}, ${rows[0].steps} accepted steps`);
    printTable(
      ['method', 'fwd ms', 'bwd ms', 'bwd/fwd', 'fwd+bwd ms', 'µs/NFE fwd', 'peak MB (grad)'],
      rows.map((r) => [r.method, fmt(r.fwdMs), fmt(r.bwdMs), fmt(r.bwdMs / r.fwdMs, 2), fmt(r.fwdMs + r.bwdMs), fmt(r.usPerNfeFwd), fmt(r.peakMB, 2)]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    );
    const [c, a] = rows;
    console.log(
      `targets: bwd/fwd ≤ 3: ${c.bwdMs / c.fwdMs <= 3 ? 'met' : 'NOT met'} (${fmt(c.bwdMs / c.fwdMs, 2)}); ` +
        `peak memory ≤ 1/3 of autodiff: ${c.peakMB <= a.peakMB / 3 ? 'met' : 'NOT met'} (${fmt(c.peakMB / a.peakMB, 2)}); ` +
        `fwd+bwd no slower than autodiff: ${c.fwdMs + c.bwdMs <= a.fwdMs + a.bwdMs ? 'met' : 'NOT met'} (${fmt((c.fwdMs + c.bwdMs) / (a.fwdMs + a.bwdMs), 2)})`,
    );
  }
}
