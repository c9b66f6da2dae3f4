/**
 * What the spiral demo in Node (`demos/spiral.ts`) and the browser page (`demos/browser/`) share:
 * default settings, the data's initial conditions, the model, the results table and the charts. It
 * uses tfjs only (no Node module, no DOM); the package's functions are passed in (the Node demo takes
 * them from src/, the page from the installed package), so both can import it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { neuralODE, power, SolverRegularizer } from '../../src';
import type { TopLevelSpec } from 'vega-lite';
import { chartGrid, epochChart, trajectoryChart } from './plots';

/** The spiral system's matrix: dy/dt = A·y³ (element-wise cube). */
export const SPIRAL_A = [
  [-0.1, 2],
  [-2, -0.1],
];

export interface SpiralSettings {
  epochs: number;
  lr: number;
  nTrain: number;
  nTest: number;
  /** Observation times per trajectory, evenly spaced on (0, T]. */
  nTimes: number;
  T: number;
  rtol: number;
  atol: number;
  hidden: number;
  seed: number;
  lambdaError: number;
  /** If set, the error weight is annealed exponentially from lambdaError to this over the epochs. */
  lambdaErrorFinal: number | undefined;
  lambdaStiffness: number;
  /** Initial conditions: radius in [rmin, rmax], angle in [-thetaMax, thetaMax]. */
  rmin: number;
  rmax: number;
  thetaMax: number;
}

export const SPIRAL_DEFAULTS: SpiralSettings = {
  epochs: 200,
  lr: 0.02,
  nTrain: 16,
  nTest: 8,
  nTimes: 10,
  T: 1.5,
  rtol: 1e-5,
  atol: 1e-6,
  hidden: 50,
  seed: 1,
  // 1 before saveat was interpolated: with free steps the accepted E_j sit near 1 and λ = 1 overpowers
  // the data loss (test loss ×25 at half the NFE); 0.1 keeps the fit (measured: 95% NFE, 96% test loss)
  lambdaError: 0.1,
  lambdaErrorFinal: undefined,
  lambdaStiffness: 0.01,
  rmin: 1.9,
  rmax: 2.1,
  thetaMax: 0.25,
};

/** Initial conditions near [2, 0]: radius in [rmin, rmax], angle in [-thetaMax, thetaMax]; deterministic from `seed`. */
export function initialConditions(n: number, seed: number, rmin: number, rmax: number, thetaMax: number): number[][] {
  return tf.tidy(() => {
    const r = tf.randomUniform([n], rmin, rmax, 'float32', seed).arraySync() as number[];
    const th = tf.randomUniform([n], -thetaMax, thetaMax, 'float32', seed + 1).arraySync() as number[];
    return r.map((ri, i) => [ri * Math.cos(th[i]), ri * Math.sin(th[i])]);
  });
}

/** `n` evenly spaced times on (0, T]. */
export function observationTimes(T: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (T * (i + 1)) / n);
}

/** Training and test initial conditions of a settings bundle (the same in Node and in the browser). */
export function spiralInitialConditions(s: SpiralSettings): { y0Train: number[][]; y0Test: number[][] } {
  return {
    y0Train: initialConditions(s.nTrain, 100 + s.seed, s.rmin, s.rmax, s.thetaMax),
    y0Test: initialConditions(s.nTest, 200 + s.seed, s.rmin, s.rmax, s.thetaMax),
  };
}

export interface SpiralRunResult {
  name: string;
  trainLoss: number;
  testLoss: number;
  predictionNFE: number;
  trainSeconds: number;
  predictSeconds: number;
  nfeHistory: number[];
  lossHistory: number[];
  /** Predicted test trajectories at the observation times, [nTest][nTimes][2]. */
  predicted: number[][][];
}

export const RESULT_HEADER = ['run', 'train loss', 'test loss', 'prediction NFE', 'train time (s)', 'predict time (ms)'];

/** One row of the results table, formatted. */
export function resultCells(r: SpiralRunResult): string[] {
  return [r.name, r.trainLoss.toFixed(5), r.testLoss.toFixed(5), r.predictionNFE.toFixed(0), r.trainSeconds.toFixed(1), (r.predictSeconds * 1000).toFixed(1)];
}

/** The results as a Markdown table (first column left-aligned, numbers right-aligned). */
export function resultsTable(rows: SpiralRunResult[]): string {
  const body = rows.map(resultCells);
  const widths = RESULT_HEADER.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(RESULT_HEADER), rule, ...body.map(line)].join('\n');
}

/** "error: prediction NFE 96% of vanilla, test loss 96% of vanilla" for each run besides vanilla. */
export function comparisonLines(rows: SpiralRunResult[]): string[] {
  const v = rows.find((r) => r.name === 'vanilla');
  if (!v) return [];
  return rows
    .filter((r) => r !== v)
    .map(
      (r) =>
        `${r.name}: prediction NFE ${((r.predictionNFE / v.predictionNFE) * 100).toFixed(0)}% of vanilla, ` +
        `test loss ${((r.testLoss / v.testLoss) * 100).toFixed(0)}% of vanilla`,
    );
}

/**
 * One phase-plane panel per run: the first `nShow` held-out trajectories, true (from `truth`, on a
 * fine grid, without the initial point) and learned (at the observation times), both from y0.
 */
export function trajectoryPanels(
  results: SpiralRunResult[],
  y0Test: number[][],
  truth: number[][][],
  opts: { nShow?: number; columns?: number; width?: number; height?: number } = {},
): TopLevelSpec {
  const nShow = Math.min(opts.nShow ?? 3, y0Test.length, truth.length);
  const panels = results.map((r) =>
    trajectoryChart(
      truth.slice(0, nShow).map((tr, i) => [y0Test[i], ...tr]),
      r.predicted.slice(0, nShow).map((pr, i) => [y0Test[i], ...pr]),
      {
        title: `${r.name}: held-out trajectories (prediction NFE ${r.predictionNFE.toFixed(0)})`,
        learnedLabel: `learned (at the ${r.predicted[0]?.length ?? 0} observation times)`,
        width: opts.width,
        height: opts.height,
      },
    ),
  );
  return chartGrid(panels, opts.columns ?? 2);
}

export function nfeChart(results: SpiralRunResult[], size: { width?: number; height?: number } = {}): TopLevelSpec {
  return epochChart(
    results.map((r) => ({ name: r.name, values: r.nfeHistory })),
    { title: 'Forward NFE per training step', xLabel: 'epoch', yLabel: 'NFE', ...size },
  );
}

export function lossChart(results: SpiralRunResult[], size: { width?: number; height?: number } = {}): TopLevelSpec {
  return epochChart(
    results.map((r) => ({ name: r.name, values: r.lossHistory })),
    { title: 'Training loss (data + penalty)', xLabel: 'epoch', yLabel: 'loss', logY: true, ...size },
  );
}

/** The package functions the spiral model is built from. */
export interface SpiralModelApi {
  neuralODE: typeof neuralODE;
  power: typeof power;
}

/** The spiral NODE: y ↦ W2·tanh(W1·y³ + b1) + b2, solved over [0, T] and output at `ts`. */
export function buildSpiralModel(api: SpiralModelApi, s: SpiralSettings, ts: number[], regularizers: SolverRegularizer[]): tfl.Sequential {
  return tfl.sequential({
    layers: [
      api.neuralODE({
        inputShape: [2],
        tspan: [0, s.T],
        saveat: ts,
        rtol: s.rtol,
        atol: s.atol,
        regularizers,
        vectorField: [
          api.power({ exponent: 3 }),
          tfl.layers.dense({ units: s.hidden, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed }) }),
          tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed + 1 }) }),
        ],
      }),
    ],
  });
}
