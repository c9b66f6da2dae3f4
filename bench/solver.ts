/**
 * Solver overhead benchmark: the cost of one vector-field evaluation inside `solve` (Tsit5 on
 * [0, 1], default tolerances) against the cost of calling the same vector field on its own.
 *
 * The vector field is an MLP f(t, y) = tanh(y·W1 + b1)·W2 + b2 with hidden width 64. The bare call
 * reads its result back with `dataSync()` because the solver reads every stage value back too, so
 * the ratio measures the solver's own per-NFE overhead (state arithmetic, error norms, bookkeeping).
 */
import * as tf from '@tensorflow/tfjs-core';
import { solve } from '../src';
import type { VectorField } from '../src';
import { BackendName, BenchOptions, fmt, measureInterleaved, printTable, useBackend } from './util';

const HIDDEN = 64;
const BATCHES = [1, 64, 512];
const WIDTHS = [2, 32, 128];
const QUICK = { batch: 64, width: 32 };
const TARGET = { ratio: 1.25, batch: 64, width: 32, backend: 'wasm' as BackendName };
const SEED = 1234;

interface Mlp {
  f: VectorField;
  dispose(): void;
}

/** The MLP vector field; weights ~ N(0, 1/fan_in), seeded, created once per (backend, width). */
function makeMlp(width: number): Mlp {
  const params = tf.tidy(() => ({
    W1: tf.randomNormal([width, HIDDEN], 0, 1 / Math.sqrt(width), 'float32', SEED),
    b1: tf.randomNormal([HIDDEN], 0, 1 / Math.sqrt(width), 'float32', SEED + 1),
    W2: tf.randomNormal([HIDDEN, width], 0, 1 / Math.sqrt(HIDDEN), 'float32', SEED + 2),
    b2: tf.randomNormal([width], 0, 1 / Math.sqrt(HIDDEN), 'float32', SEED + 3),
  }));
  const { W1, b1, W2, b2 } = params;
  const f: VectorField = (_t, y) => tf.tidy(() => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(y as tf.Tensor2D, W1), b1)), W2), b2));
  return { f, dispose: () => Object.values(params).forEach((p) => p.dispose()) };
}

interface Row {
  batch: number;
  width: number;
  nfe: number;
  usPerNfeSolve: number;
  usPerCallBare: number;
  ratio: number;
  leaked: number;
}

interface Effort {
  /** Warm-up time of the solve (ms): the first configuration on a backend also warms up the JIT. */
  warmupMs: number;
  /** Measured time per side (ms). */
  minTimeMs: number;
}

function benchConfig(f: VectorField, batch: number, width: number, effort: Effort): Row {
  const y0 = tf.randomNormal([batch, width], 0, 1, 'float32', SEED + 10) as tf.Tensor2D;
  const before = tf.memory().numTensors;
  let nfe = -1;
  const solveOnce = (): void => {
    const r = solve(f, y0, { solver: 'tsit5', tspan: [0, 1] });
    r.ys.forEach((y) => y.dispose());
    if (nfe !== -1 && r.stats.nfe !== nfe) throw new Error(`nfe changed between runs: ${nfe} → ${r.stats.nfe}`);
    nfe = r.stats.nfe;
  };
  const bareOnce = (): void => {
    const out = f(0, y0);
    out.dataSync();
    out.dispose();
  };
  // One solve takes milliseconds: one solve per sample. A bare call can take a few µs: group calls
  // so each sample lasts ≥ 2 ms. Samples alternate between the two so both see the same load.
  const [s, b] = measureInterleaved([
    { fn: solveOnce, opts: { warmup: 2, warmupMs: effort.warmupMs, minTimeMs: effort.minTimeMs, minSamples: 5, maxSamples: 500 } },
    { fn: bareOnce, opts: { warmup: 5, warmupMs: 100, minTimeMs: effort.minTimeMs, minSamples: 5, maxSamples: 1000, minSampleMs: 2 } },
  ]);
  const leaked = tf.memory().numTensors - before;
  y0.dispose();
  const usPerNfeSolve = (s.medianMs * 1000) / nfe;
  const usPerCallBare = b.medianMs * 1000;
  return { batch, width, nfe, usPerNfeSolve, usPerCallBare, ratio: usPerNfeSolve / usPerCallBare, leaked };
}

export interface SolverBenchResult {
  /** Ratio at the target configuration, if it was measured. */
  targetRatio?: number;
  targetMet?: boolean;
}

export async function runSolverBench(opts: BenchOptions): Promise<SolverBenchResult> {
  const configs = opts.quick ? [QUICK] : BATCHES.flatMap((batch) => WIDTHS.map((width) => ({ batch, width })));
  const result: SolverBenchResult = {};
  for (const backend of opts.backends) {
    await useBackend(backend);
    console.log(`\nsolver: tsit5 on [0, 1], MLP field (hidden ${HIDDEN}), backend ${tf.getBackend()}`);
    const rows: Row[] = [];
    for (const width of [...new Set(configs.map((c) => c.width))]) {
      const mlp = makeMlp(width);
      try {
        for (const { batch } of configs.filter((c) => c.width === width)) {
          const effort: Effort = {
            // The first configuration on a backend includes JIT warm-up of the solver (~1 s).
            warmupMs: rows.length === 0 ? 1000 : 200,
            // The headline configuration gets a longer measurement.
            minTimeMs: batch === TARGET.batch && width === TARGET.width ? 1000 : 300,
          };
          rows.push(benchConfig(mlp.f, batch, width, effort));
        }
      } finally {
        mlp.dispose();
      }
    }
    rows.sort((a, b) => a.batch - b.batch || a.width - b.width);
    printTable(
      ['batch', 'width', 'nfe', 'µs/NFE solve', 'µs/call bare f', 'ratio'],
      rows.map((r) => [String(r.batch), String(r.width), String(r.nfe), fmt(r.usPerNfeSolve), fmt(r.usPerCallBare), fmt(r.ratio, 2)]),
    );
    for (const r of rows) {
      if (r.leaked !== 0) console.log(`WARNING: batch ${r.batch}, width ${r.width}: ${r.leaked} tensor(s) leaked`);
    }
    if (backend === TARGET.backend) {
      const t = rows.find((r) => r.batch === TARGET.batch && r.width === TARGET.width);
      if (t) {
        result.targetRatio = t.ratio;
        result.targetMet = t.ratio <= TARGET.ratio;
      }
    }
  }
  const verdict =
    result.targetRatio === undefined
      ? `not measured (run with --backend ${TARGET.backend})`
      : `${result.targetMet ? 'MET' : 'NOT MET'} (ratio ${fmt(result.targetRatio, 2)})`;
  console.log(`\ntarget: ratio ≤ ${TARGET.ratio} at batch ${TARGET.batch}, width ${TARGET.width} on ${TARGET.backend}: ${verdict}`);
  return result;
}
