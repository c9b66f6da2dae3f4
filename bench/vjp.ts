/**
 * Cost of the vector-field VJPs of the discrete adjoint's backward pass, on `wasm` and `cpu`:
 *
 * 1. the wasm matMul defect: Xᵀ·D and D·Wᵀ (X 512×785, D 512×100, W 785×100) with transpose flags
 *    vs `matMulT` (explicit transpose on wasm, flags passed elsewhere);
 * 2. µs per plain f call, per autodiff VJP (`autodiffFieldVjp`: value + pullback) and per hand VJP
 *    (`denseFieldVjp`), for batch 64 × state 32, hidden 64 (tanh), and for the MNIST field of the
 *    paper: batch 512 × 784, Dense 785→100 tanh, Dense 101→784, time dependent;
 * 3. one whole tsit5 step reverse (cotangents of y1 and E): `rkStepReverse` with the hand VJP vs
 *    tfjs autodiff through `rkStepTensor` (what `discrete.ts` does per step).
 *
 * Samples of the compared variants are interleaved so they see the same machine load. Short runs:
 * `npx tsx bench/vjp.ts [--backend wasm|cpu[,..]]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { autodiffFieldVjp } from '../src/adjoint/field_vjp';
import { denseFieldVjp } from '../src/adjoint/dense_vjp';
import { matMulT } from '../src/adjoint/matmul';
import { rkStepReverse } from '../src/adjoint/rk_reverse';
import { vjp } from '../src/adjoint/vjp';
import { LayerStack } from '../src/layers/vector_field';
import { getTableau } from '../src/solvers/registry';
import { rkStepTensor } from '../src/solvers/rk/stepper';
import { BackendName, fmt, measureInterleaved, MeasureOptions, parseArgs, printTable, useBackend } from './util';

interface Config {
  name: string;
  batch: number;
  state: number;
  hidden: number;
  timeDependent: boolean;
  /** Timing options: the MNIST field is slow on cpu, so it gets few samples. */
  opts: MeasureOptions;
}

const CONFIGS: Config[] = [
  { name: '64×32, hidden 64', batch: 64, state: 32, hidden: 64, timeDependent: false, opts: { warmupMs: 100, minTimeMs: 300, minSamples: 5 } },
  { name: '512×784, hidden 100, t', batch: 512, state: 784, hidden: 100, timeDependent: true, opts: { warmup: 1, warmupMs: 0, minTimeMs: 200, minSamples: 3 } },
];

const us = (ms: number): string => fmt(ms * 1000, 0);

function run(fn: () => tf.TensorContainer): () => void {
  return () => {
    // cpu and wasm run kernels synchronously: the work is done when the ops return.
    tf.dispose(tf.tidy(fn) as tf.Tensor | tf.Tensor[]);
  };
}

function matMulTable(backend: BackendName): string[][] {
  const x = tf.randomNormal([512, 785], 0, 1, 'float32', 1);
  const d = tf.randomNormal([512, 100], 0, 1, 'float32', 2);
  const w = tf.randomNormal([785, 100], 0, 1, 'float32', 3);
  const opts: MeasureOptions = backend === 'cpu' ? { warmup: 1, warmupMs: 0, minTimeMs: 200, minSamples: 3 } : { minTimeMs: 300, minSamples: 5 };
  const [aFlag, aT, bFlag, bT] = measureInterleaved([
    { fn: run(() => tf.matMul(x, d, true, false)), opts },
    { fn: run(() => matMulT(x, d, true, false)), opts },
    { fn: run(() => tf.matMul(d, w, false, true)), opts },
    { fn: run(() => matMulT(d, w, false, true)), opts },
  ]);
  tf.dispose([x, d, w]);
  return [
    [backend, 'Xᵀ·D  (785×512 · 512×100)', us(aFlag.medianMs), us(aT.medianMs), fmt(aFlag.medianMs / aT.medianMs, 2)],
    [backend, 'D·Wᵀ  (512×100 · 100×785)', us(bFlag.medianMs), us(bT.medianMs), fmt(bFlag.medianMs / bT.medianMs, 2)],
  ];
}

function makeStack(c: Config): LayerStack {
  const stack = new LayerStack([tfl.layers.dense({ units: c.hidden, activation: 'tanh' }), tfl.layers.dense({ units: c.state })], c.timeDependent, undefined);
  stack.build([c.state]);
  stack.weights.forEach((w, i) => {
    const shape = w.shape as number[];
    const v = tf.randomNormal(shape, 0, 1 / Math.sqrt(shape[0]), 'float32', 10 + i);
    w.write(v);
    v.dispose();
  });
  return stack;
}

function fieldRows(backend: BackendName, c: Config): { vjpRow: string[]; stepRow: string[] } {
  const stack = makeStack(c);
  const params = stack.trainableWeights.map((w) => w.read());
  const f = (t: number, y: tf.Tensor): tf.Tensor => stack.call(t, y);
  const hand = denseFieldVjp(stack);
  if (hand === null) throw new Error('denseFieldVjp refused a Dense stack');
  const auto = autodiffFieldVjp(f, params);
  const y = tf.randomNormal([c.batch, c.state], 0, 1, 'float32', 1);
  const ct = tf.randomNormal([c.batch, c.state], 0, 1, 'float32', 2);
  const t = 0.3;

  const [plain, autoVjp, handVjp] = measureInterleaved([
    { fn: run(() => f(t, y)), opts: c.opts },
    {
      fn: run(() => {
        const e = auto(t, y);
        const r = e.pullback(ct);
        return [e.value, r.dy, ...r.dParams];
      }),
      opts: c.opts,
    },
    {
      fn: run(() => {
        const e = hand(t, y);
        const r = e.pullback(ct);
        return [e.value, r.dy, ...r.dParams];
      }),
      opts: c.opts,
    },
  ]);

  // One tsit5 step reverse with cotangents of y1 and E.
  const tab = getTableau('tsit5');
  const tol = { atol: 1e-6, rtol: 1e-3 };
  const dt = 0.05;
  const dE = 0.5;
  const stepOpts: MeasureOptions = { ...c.opts, minSamples: Math.min(c.opts.minSamples ?? 5, 3) };
  const [stepAuto, stepHand] = measureInterleaved([
    {
      fn: run(() =>
        vjp(() => {
          const r = rkStepTensor(tab, f, t, y, dt, tol, { error: true });
          return tf.add(tf.sum(tf.mul(r.y1, ct)), tf.mul(r.error as tf.Scalar, dE)) as tf.Scalar;
        }, [y, ...params]),
      ),
      opts: stepOpts,
    },
    {
      fn: run(() => {
        const r = rkStepReverse(tab, hand, t, y, dt, tol, { y1: ct, error: dE });
        return [r.dy, ...r.dParams];
      }),
      opts: stepOpts,
    },
  ]);
  tf.dispose([y, ct]);
  stack.weights.forEach((w) => w.dispose());

  const p = plain.medianMs;
  return {
    vjpRow: [
      backend,
      c.name,
      us(p),
      us(autoVjp.medianMs),
      fmt(autoVjp.medianMs / p, 2),
      us(handVjp.medianMs),
      fmt(handVjp.medianMs / p, 2),
      fmt(autoVjp.medianMs / handVjp.medianMs, 2),
    ],
    stepRow: [backend, c.name, fmt(stepAuto.medianMs, 2), fmt(stepHand.medianMs, 2), fmt(stepAuto.medianMs / stepHand.medianMs, 2)],
  };
}

async function main(): Promise<void> {
  const { backends } = parseArgs(process.argv.slice(2));
  const mm: string[][] = [];
  const vjpRows: string[][] = [];
  const stepRows: string[][] = [];
  for (const backend of backends) {
    await useBackend(backend);
    mm.push(...matMulTable(backend));
    for (const c of CONFIGS) {
      const { vjpRow, stepRow } = fieldRows(backend, c);
      vjpRows.push(vjpRow);
      stepRows.push(stepRow);
    }
  }
  console.log('\nmatMul with a transposed operand (µs, median)');
  printTable(['backend', 'product', 'tf.matMul flags', 'matMulT', 'flags / matMulT'], mm, ['left', 'left']);
  console.log('\nVector-field VJP (µs per call, median; ratios to a plain f call)');
  printTable(['backend', 'field', 'f', 'autodiff VJP', '×f', 'hand VJP', '×f', 'autodiff / hand'], vjpRows, ['left', 'left']);
  console.log('\nOne tsit5 step reverse, cotangents of y1 and E (ms, median)');
  printTable(['backend', 'field', 'autodiff rkStepTensor', 'rkStepReverse (hand)', 'speed-up'], stepRows, ['left', 'left']);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
