/**
 * The spiral demo: fit the spiral ODE dy/dt = A·y³ (A = [[-0.1, 2], [-2, -0.1]]) with a NeuralODE
 * four ways on the same data and seed (vanilla, error-regularized, stiffness-regularized, both) and
 * compare loss, prediction NFE and wall time. Writes plots and results.json to the output folder.
 *
 *   npm run demo                       # default settings (a few minutes on 2 cores)
 *   npm run demo -- --epochs 400       # longer training
 *   npm run demo -- --backend cpu --out my-output --runs vanilla,error
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as path from 'path';
import { anneal, countNFE, errorEstimate, neuralODE, nfeLogger, power, SolverRegularizer, stiffness } from '../src';
import { numberArg, parseArgs } from './lib/args';
import { chooseBackend } from './lib/backend';
import { ProgressBar } from './lib/progress';
import { spiralTrajectories } from './lib/spiral_system';
import { gridOfPlots, linePlot, Series, writeFileEnsuringDir } from './lib/svg_plot';

interface Settings {
  epochs: number;
  lr: number;
  nTrain: number;
  nTest: number;
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
  rmin: number;
  rmax: number;
  thetaMax: number;
  runs: string[];
  out: string;
}

/** Initial conditions near [2, 0]: radius in [rmin, rmax], angle in [-thetaMax, thetaMax]; deterministic from `seed`. */
function initialConditions(n: number, seed: number, rmin: number, rmax: number, thetaMax: number): number[][] {
  return tf.tidy(() => {
    const r = tf.randomUniform([n], rmin, rmax, 'float32', seed).arraySync() as number[];
    const th = tf.randomUniform([n], -thetaMax, thetaMax, 'float32', seed + 1).arraySync() as number[];
    return r.map((ri, i) => [ri * Math.cos(th[i]), ri * Math.sin(th[i])]);
  });
}

function buildModel(s: Settings, ts: number[], regularizers: SolverRegularizer[]): tfl.Sequential {
  return tfl.sequential({
    layers: [
      neuralODE({
        inputShape: [2],
        tspan: [0, s.T],
        saveat: ts,
        rtol: s.rtol,
        atol: s.atol,
        regularizers,
        vectorField: [
          power({ exponent: 3 }),
          tfl.layers.dense({ units: s.hidden, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed }) }),
          tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed + 1 }) }),
        ],
      }),
    ],
  });
}

interface RunResult {
  name: string;
  trainLoss: number;
  testLoss: number;
  predictionNFE: number;
  trainSeconds: number;
  predictSeconds: number;
  nfeHistory: number[];
  lossHistory: number[];
  predicted: number[][][];
}

function mse(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(model.predict(x) as tf.Tensor, y))).dataSync()[0]);
}

async function run(name: string, regularizers: SolverRegularizer[], s: Settings, data: { xTr: tf.Tensor; yTr: tf.Tensor; xTe: tf.Tensor; yTe: tf.Tensor; ts: number[] }): Promise<RunResult> {
  const model = buildModel(s, data.ts, regularizers);
  model.compile({ optimizer: tf.train.adam(s.lr), loss: 'meanSquaredError' });
  const bar = new ProgressBar(name.padEnd(10), s.epochs);
  const nfe = nfeLogger();
  const schedules = regularizers
    .filter((r) => r.shortName === 'errorEstimate' && s.lambdaErrorFinal !== undefined)
    .map((r) => anneal(r, { type: 'exponential', from: s.lambdaError, to: s.lambdaErrorFinal!, epochs: s.epochs }));
  const t0 = performance.now();
  const h = await model.fit(data.xTr, data.yTr, {
    epochs: s.epochs,
    batchSize: s.nTrain,
    shuffle: false,
    verbose: 0,
    callbacks: [nfe, ...schedules, new tfl.CustomCallback({ onEpochEnd: async (_e, logs) => bar.tick({ loss: logs?.loss ?? NaN, nfe: logs?.nfe ?? NaN }) })],
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  bar.done();
  const { nfePerCall } = countNFE(model, () => tf.dispose(model.predict(data.xTe) as tf.Tensor));
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const p0 = performance.now();
    const p = model.predict(data.xTe) as tf.Tensor;
    p.dataSync();
    times.push((performance.now() - p0) / 1000);
    p.dispose();
  }
  times.sort((a, b) => a - b);
  const predicted = tf.tidy(() => (model.predict(data.xTe) as tf.Tensor).arraySync() as number[][][]);
  const result: RunResult = {
    name,
    trainLoss: mse(model, data.xTr, data.yTr),
    testLoss: mse(model, data.xTe, data.yTe),
    predictionNFE: nfePerCall,
    trainSeconds,
    predictSeconds: times[2],
    nfeHistory: nfe.history.slice(),
    lossHistory: (h.history.loss as number[]).slice(),
    predicted,
  };
  model.dispose();
  return result;
}

function table(rows: RunResult[]): string {
  const head = ['run', 'train loss', 'test loss', 'prediction NFE', 'train time (s)', 'predict time (ms)'];
  const body = rows.map((r) => [r.name, r.trainLoss.toFixed(5), r.testLoss.toFixed(5), r.predictionNFE.toFixed(0), r.trainSeconds.toFixed(1), (r.predictSeconds * 1000).toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...body.map(line)].join('\n');
}

function plots(results: RunResult[], y0Test: number[][], ts: number[], s: Settings): void {
  const nShow = Math.min(3, y0Test.length);
  // The true trajectories on a fine grid; the learned ones at the observation times.
  const fine = Array.from({ length: 150 }, (_, i) => (s.T * (i + 1)) / 150);
  const truth = tf.tidy(() => spiralTrajectories(y0Test.slice(0, nShow), fine).arraySync() as number[][][]);
  const panels = results.map((r) => {
    const series: Series[] = [];
    for (let i = 0; i < nShow; i++) {
      const tr = [y0Test[i], ...truth[i]];
      const pr = [y0Test[i], ...r.predicted[i]];
      series.push({ name: i === 0 ? 'true' : '', x: tr.map((p) => p[0]), y: tr.map((p) => p[1]), color: '#444444', dashed: true });
      series.push({ name: i === 0 ? `learned (at the ${ts.length} observation times)` : '', x: pr.map((p) => p[0]), y: pr.map((p) => p[1]), color: '#d62728', markers: true });
    }
    return linePlot(series, {
      title: `${r.name}: held-out trajectories (prediction NFE ${r.predictionNFE.toFixed(0)})`,
      xLabel: 'y1',
      yLabel: 'y2',
      equalAspect: true,
    });
  });
  writeFileEnsuringDir(path.join(s.out, 'trajectories.svg'), gridOfPlots(panels, 2));
  const epochs = results[0].nfeHistory.map((_, i) => i + 1);
  writeFileEnsuringDir(
    path.join(s.out, 'nfe.svg'),
    linePlot(results.map((r) => ({ name: r.name, x: epochs, y: r.nfeHistory })), { title: 'Forward NFE per training step', xLabel: 'epoch', yLabel: 'NFE' }),
  );
  writeFileEnsuringDir(
    path.join(s.out, 'loss.svg'),
    linePlot(results.map((r) => ({ name: r.name, x: epochs, y: r.lossHistory })), { title: 'Training loss (data + penalty)', xLabel: 'epoch', yLabel: 'loss', logY: true }),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log('Options: --epochs N --lr X --lambda-error X [--lambda-error-final Y (anneal X→Y)] --lambda-stiffness X --rtol X --atol X --runs vanilla,error,stiffness,both --backend wasm|cpu|tensorflow --out DIR --seed N');
    return;
  }
  const backend = await chooseBackend(args.backend as string | undefined);
  const s: Settings = {
    epochs: numberArg(args, 'epochs', 200),
    lr: numberArg(args, 'lr', 0.02),
    nTrain: numberArg(args, 'train', 16),
    nTest: numberArg(args, 'test', 8),
    nTimes: numberArg(args, 'times', 10),
    T: numberArg(args, 'T', 1.5),
    rtol: numberArg(args, 'rtol', 1e-5),
    atol: numberArg(args, 'atol', 1e-6),
    hidden: numberArg(args, 'hidden', 50),
    seed: numberArg(args, 'seed', 1),
    lambdaError: numberArg(args, 'lambda-error', 1),
    lambdaErrorFinal: args['lambda-error-final'] === undefined ? undefined : numberArg(args, 'lambda-error-final', 0),
    lambdaStiffness: numberArg(args, 'lambda-stiffness', 0.01),
    rmin: numberArg(args, 'rmin', 1.9),
    rmax: numberArg(args, 'rmax', 2.1),
    thetaMax: numberArg(args, 'theta', 0.25),
    runs: String(args.runs ?? 'vanilla,error,stiffness,both').split(','),
    out: String(args.out ?? 'demo-output'),
  };
  console.log(`tfjs-neural-de spiral demo: backend ${backend}, ${s.epochs} epochs, ${s.nTrain} train / ${s.nTest} test trajectories, tsit5 rtol=${s.rtol} atol=${s.atol}`);
  const ts = Array.from({ length: s.nTimes }, (_, i) => (s.T * (i + 1)) / s.nTimes);
  const y0Train = initialConditions(s.nTrain, 100 + s.seed, s.rmin, s.rmax, s.thetaMax);
  const y0Test = initialConditions(s.nTest, 200 + s.seed, s.rmin, s.rmax, s.thetaMax);
  const data = { xTr: tf.tensor2d(y0Train), yTr: spiralTrajectories(y0Train, ts), xTe: tf.tensor2d(y0Test), yTe: spiralTrajectories(y0Test, ts), ts };
  const all: Record<string, () => SolverRegularizer[]> = {
    vanilla: () => [],
    error: () => [errorEstimate({ weight: s.lambdaError })],
    stiffness: () => [stiffness({ weight: s.lambdaStiffness })],
    both: () => [errorEstimate({ weight: s.lambdaError }), stiffness({ weight: s.lambdaStiffness })],
  };
  const results: RunResult[] = [];
  for (const name of s.runs) {
    if (!all[name]) throw new Error(`Unknown run '${name}'; choose from ${Object.keys(all).join(', ')}.`);
    results.push(await run(name, all[name](), s, data));
  }
  console.log('\n' + table(results));
  const v = results.find((r) => r.name === 'vanilla');
  if (v) {
    for (const r of results.filter((x) => x !== v)) {
      console.log(
        `${r.name}: prediction NFE ${((r.predictionNFE / v.predictionNFE) * 100).toFixed(0)}% of vanilla, test loss ${((r.testLoss / v.testLoss) * 100).toFixed(0)}% of vanilla`,
      );
    }
  }
  plots(results, y0Test, ts, s);
  writeFileEnsuringDir(path.join(s.out, 'results.json'), JSON.stringify({ settings: s, backend, results: results.map(({ predicted, ...r }) => r) }, null, 2));
  console.log(`\nPlots and results.json written to ${path.resolve(s.out)}`);
  tf.dispose([data.xTr, data.yTr, data.xTe, data.yTe]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
