/**
 * The latent ODE demo: the paper's Physionet experiment on a synthetic stand-in of the same shape
 * (37 channels, 49 irregular times in [0, 1], ~85% of entries missing; `lib/latent_data.ts`),
 * interpolating the observed entries of held-out series. Trains the latent ODE of `lib/latent_model.ts`
 * three ways on the same data and seed (vanilla, error-regularized, stiffness-regularized) with
 * `model.fit`, and compares masked MSE, prediction NFE and wall time. Writes plots and results.json.
 *
 *   npm run demo:latent                 # default preset (under 20 minutes on a busy 2-core machine, wasm)
 *   npm run demo:latent -- --quick      # about a minute
 *   npm run demo:latent -- --runs vanilla,error --epochs 40 --out my-output
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { anneal, countNFE, errorEstimate, gaussianSample, neuralODE, nfeLogger, SolverRegularizer, stiffness } from '../src';
import { num, startDemo, parseRuns } from './lib/cli';
import { encoderInput, generateLatentData, LatentData, sliceSeries } from './lib/latent_data';
import { buildLatentODE, klAnnealing, maskedGaussianNLL, maskedMSE } from './lib/latent_model';
import { chartGrid, epochChart, lineChart, LinePoint } from './lib/plots';
import { TrainingProgress } from './lib/progress_bar';
import { writeFileEnsuringDir, writeSvg } from './lib/render_svg';

export const RUN_NAMES = ['vanilla', 'error', 'stiffness'] as const;

export interface Settings {
  quick: boolean;
  /** Series in the data set (80% train, 20% test). */
  series: number;
  channels: number;
  times: number;
  missing: number;
  noise: number;
  latent: number;
  gruUnits: number;
  hidden: number;
  epochs: number;
  batchSize: number;
  lr: number;
  rtol: number;
  atol: number;
  /** σ of the Gaussian likelihood. */
  obsStd: number;
  /** Epochs before the KL weight starts rising (λ_KL = max(0, 1 − 0.99^(epoch − klWait))). */
  klWait: number;
  initialLogVar: number;
  /** λ_E, annealed exponentially to lambdaErrorFinal over the epochs. */
  lambdaError: number;
  lambdaErrorFinal: number;
  /** The error penalty's saturation (null: the paper's linear E·|dt|). */
  saturation: number | null;
  /** λ_S (constant), with the authors' latent-ODE variant: max over steps of S_j / 3.5068, no dt factor. */
  lambdaStiffness: number;
  seed: number;
  runs: string[];
  out: string;
}

export const DEFAULTS: Settings = {
  quick: false,
  series: 750,
  channels: 37,
  times: 49,
  missing: 0.85,
  noise: 0.03,
  latent: 20,
  gruUnits: 40,
  hidden: 50,
  epochs: 20,
  batchSize: 50,
  lr: 0.01,
  rtol: 1e-3,
  atol: 1e-4,
  obsStd: 0.01,
  klWait: 10,
  initialLogVar: -5,
  lambdaError: 1000,
  lambdaErrorFinal: 100,
  saturation: null,
  lambdaStiffness: 10,
  seed: 1,
  runs: [...RUN_NAMES],
  out: 'demo-output/latent',
};

/** `--quick`: a smoke run of about a minute (same model, far less data and training). */
export const QUICK: Partial<Settings> = { series: 100, epochs: 3, batchSize: 40, klWait: 1 };

/** One run's measurements (the objects of results.json's `runs`). */
export interface RunResult {
  run: string;
  /** Masked MSE over the observed entries of the training and test series (z0 = posterior mean). */
  trainMSE: number;
  testMSE: number;
  /** Forward NFE per predicted batch of the test set. */
  predictionNFE: number;
  trainSeconds: number;
  /** Median wall time of predicting one batch of `batchSize` test series. */
  predictSecondsPerBatch: number;
  /** Per epoch: training loss (likelihood + KL + penalty) and forward NFE per training batch. */
  lossHistory: number[];
  nfeHistory: number[];
}

/** The paper's Physionet table (Pal et al. 2021, Table 3; loss is masked MSE), for the side-by-side. */
export const PAPER_PHYSIONET = [
  { run: 'vanilla', trainMSE: 3.48e-3, testMSE: 3.55e-3, nfe: 733, trainHours: 1.75, predictSeconds: 0.53 },
  { run: 'error', trainMSE: 3.51e-3, testMSE: 3.57e-3, nfe: 287, trainHours: 0.94, predictSeconds: 0.21 },
  { run: 'stiffness', trainMSE: 3.52e-3, testMSE: 3.58e-3, nfe: 273, trainHours: 0.87, predictSeconds: 0.2 },
];

interface Tensors {
  enc: tf.Tensor3D;
  times: tf.Tensor2D;
  values: tf.Tensor3D;
}

function tensorsOf(d: LatentData): Tensors {
  const T = d.times.length;
  const C = d.channels;
  return {
    enc: tf.tensor3d(encoderInput(d), [d.nSeries, T, 2 * C + 1]),
    times: tf.tidy(() => tf.tile(tf.tensor2d([d.times]), [d.nSeries, 1]) as tf.Tensor2D),
    values: tf.tensor3d(d.values, [d.nSeries, T, C]),
  };
}

function regularizersFor(name: string, s: Settings): SolverRegularizer[] {
  if (name === 'error') return [errorEstimate({ weight: s.lambdaError, saturation: s.saturation })];
  if (name === 'stiffness') return [stiffness({ weight: s.lambdaStiffness, aggregation: 'max', dtFactor: false, stabilityScaled: true })];
  return [];
}

/** Predictions for all series of `x`, in batches, as one flat array. */
function predictAll(model: tfl.LayersModel, x: Tensors, batchSize: number): Float32Array {
  return tf.tidy(() => (model.predict([x.enc, x.times], { batchSize }) as tf.Tensor).dataSync() as Float32Array);
}

async function run(
  name: string,
  s: Settings,
  train: { data: LatentData; x: Tensors },
  test: { data: LatentData; x: Tensors },
): Promise<{ result: RunResult; model: tfl.LayersModel }> {
  const regularizers = regularizersFor(name, s);
  const { model, sampler } = buildLatentODE({ neuralODE, gaussianSample }, { ...s, channels: s.channels }, regularizers);
  model.compile({ optimizer: tf.train.adam(s.lr), loss: maskedGaussianNLL(s.obsStd) });
  const bar = new TrainingProgress(name.padEnd(10), s.epochs);
  const nfe = nfeLogger();
  const schedules = regularizers
    .filter((r) => r.shortName === 'errorEstimate')
    .map((r) => anneal(r, { type: 'exponential', from: s.lambdaError, to: s.lambdaErrorFinal, epochs: s.epochs }));
  const t0 = performance.now();
  const h = await model.fit([train.x.enc, train.x.times], train.x.values, {
    epochs: s.epochs,
    batchSize: s.batchSize,
    shuffle: true,
    verbose: 0,
    callbacks: [
      nfe,
      klAnnealing(sampler, s.klWait),
      ...schedules,
      new tfl.CustomCallback({ onEpochEnd: async (_e, logs) => bar.tick({ loss: logs?.loss ?? NaN, nfe: logs?.nfe ?? NaN }) }),
    ],
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  bar.done();
  // the optimizer's slots are not the model's: model.dispose() leaves them
  model.optimizer.dispose();
  const trainPred = predictAll(model, train.x, s.batchSize);
  const { result: testPred, nfePerCall } = countNFE(model, () => predictAll(model, test.x, s.batchSize));
  // one batch of test series, timed five times (median)
  const n = Math.min(s.batchSize, test.data.nSeries);
  const batch = { enc: tf.slice(test.x.enc, 0, n), times: tf.slice(test.x.times, 0, n) };
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const p0 = performance.now();
    const p = model.predict([batch.enc, batch.times]) as tf.Tensor;
    p.dataSync();
    times.push((performance.now() - p0) / 1000);
    p.dispose();
  }
  tf.dispose([batch.enc, batch.times]);
  times.sort((a, b) => a - b);
  const result: RunResult = {
    run: name,
    trainMSE: maskedMSE(trainPred, train.data.values),
    testMSE: maskedMSE(testPred, test.data.values),
    predictionNFE: nfePerCall,
    trainSeconds,
    predictSecondsPerBatch: times[2],
    lossHistory: (h.history.loss as number[]).slice(),
    nfeHistory: nfe.history.slice(),
  };
  return { result, model };
}

const HEADER = ['run', 'train MSE (×1e-3)', 'test MSE (×1e-3)', 'prediction NFE', 'train time (s)', 'predict (s/batch)'];

/** The results as a Markdown table. */
export function resultsTable(rows: RunResult[]): string {
  const body = rows.map((r) => [
    r.run,
    (r.trainMSE * 1e3).toFixed(2),
    (r.testMSE * 1e3).toFixed(2),
    r.predictionNFE.toFixed(0),
    r.trainSeconds.toFixed(0),
    r.predictSecondsPerBatch.toFixed(3),
  ]);
  return markdownTable(HEADER, body);
}

/** The paper's Physionet rows in the same columns (train time in hours on their GPU). */
export function paperTable(): string {
  const body = PAPER_PHYSIONET.map((r) => [
    r.run,
    (r.trainMSE * 1e3).toFixed(2),
    (r.testMSE * 1e3).toFixed(2),
    String(r.nfe),
    `${r.trainHours} h`,
    r.predictSeconds.toFixed(2),
  ]);
  return markdownTable(['paper (Physionet)', ...HEADER.slice(1)], body);
}

function markdownTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(head), rule, ...body.map(line)].join('\n');
}

/** The target: error-regularized NFE ≤ 0.5 × vanilla's at test MSE ≤ 1.1 × vanilla's (paper: 0.39× at 1.006×). */
export function comparisonLines(rows: RunResult[]): string[] {
  const v = rows.find((r) => r.run === 'vanilla');
  if (!v) return [];
  return rows
    .filter((r) => r !== v)
    .map((r) => {
      const nfe = r.predictionNFE / v.predictionNFE;
      const mse = r.testMSE / v.testMSE;
      const paper = PAPER_PHYSIONET.find((p) => p.run === r.run)!;
      const target = r.run === 'error' ? ` (target ≤ 0.5× at ≤ 1.1×: ${nfe <= 0.5 && mse <= 1.1 ? 'met' : 'not met'})` : '';
      return (
        `${r.run}: prediction NFE ${nfe.toFixed(2)}× vanilla's at test MSE ${mse.toFixed(3)}×, training time ${(r.trainSeconds / v.trainSeconds).toFixed(2)}×` +
        `${target}; paper: ${(paper.nfe / PAPER_PHYSIONET[0].nfe).toFixed(2)}× at ${(paper.testMSE / PAPER_PHYSIONET[0].testMSE).toFixed(3)}×`
      );
    });
}

/** Test series: observed points and each run's interpolation on a fine grid, a few channels each. */
async function plots(s: Settings, results: RunResult[], models: tfl.LayersModel[], test: { data: LatentData; x: Tensors }): Promise<void> {
  const nShow = Math.min(3, test.data.nSeries);
  const channelsShown = [0, 1];
  const fine = Array.from({ length: 101 }, (_, i) => i / 100);
  const T = test.data.times.length;
  const C = test.data.channels;
  const curves = models.map((m) =>
    tf.tidy(() => {
      const enc = tf.slice(test.x.enc, 0, nShow);
      const grid = tf.tile(tf.tensor2d([fine]), [nShow, 1]);
      return (m.predict([enc, grid]) as tf.Tensor).arraySync() as number[][][];
    }),
  );
  const charts = [];
  for (let i = 0; i < nShow; i++) {
    for (const c of channelsShown) {
      const points: LinePoint[] = [];
      for (let k = 0; k < T; k++) {
        const v = test.data.values[(i * T + k) * C + c];
        if (!Number.isNaN(v)) points.push({ x: test.data.times[k], y: v, series: 'observed', style: 'observed', line: 'observed' });
        points.push({ x: test.data.times[k], y: test.data.clean[(i * T + k) * C + c], series: 'noise-free', style: 'truth', line: 'truth' });
      }
      results.forEach((r, j) => fine.forEach((t, k) => points.push({ x: t, y: curves[j][i][k][c], series: r.run, line: r.run })));
      charts.push(
        lineChart(points, {
          title: `test series ${i + 1}, channel ${c + 1}`,
          xLabel: 't',
          yLabel: 'value',
          width: 300,
          height: 200,
          markers: ['observed'],
          dashed: ['truth'],
        }),
      );
    }
  }
  await writeSvg(
    path.join(s.out, 'interpolation.svg'),
    chartGrid(charts, channelsShown.length, 'Held-out series: observed entries and each model’s interpolation'),
  );
  await writeSvg(
    path.join(s.out, 'nfe.svg'),
    epochChart(
      results.map((r) => ({ name: r.run, values: r.nfeHistory })),
      { title: 'Forward NFE per training batch', xLabel: 'epoch', yLabel: 'NFE' },
    ),
  );
  await writeSvg(
    path.join(s.out, 'loss.svg'),
    epochChart(
      results.map((r) => ({ name: r.run, values: r.lossHistory })),
      { title: 'Training loss (NLL + KL + penalty)', xLabel: 'epoch', yLabel: 'loss', logY: true },
    ),
  );
}

const HELP = `Usage: npm run demo:latent -- [options]
  --quick                         a smoke run of about a minute
  --runs vanilla,error,stiffness  --epochs N --batch N --lr X --seed N
  --series N --missing X --noise X   data: series (80:20 split), fraction missing, noise σ
  --rtol X --atol X
  --lambda-error X --lambda-error-final Y   λ_E annealed exponentially X → Y over the epochs
  --saturation X|none             the error penalty's saturation (none: the paper's linear penalty; default none)
  --lambda-stiffness X
  --backend wasm|cpu|tensorflow --out DIR`;

/** Settings from command-line arguments (node:util parseArgs; unknown options are errors). */
export function settingsFromArgs(argv: string[]): { settings: Settings; backend: string | undefined; help: boolean } {
  const str = { type: 'string' } as const;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      quick: { type: 'boolean' },
      runs: str,
      backend: str,
      out: str,
      epochs: str,
      batch: str,
      lr: str,
      seed: str,
      series: str,
      missing: str,
      noise: str,
      rtol: str,
      atol: str,
      'lambda-error': str,
      'lambda-error-final': str,
      saturation: str,
      'lambda-stiffness': str,
    },
  });
  const base: Settings = { ...DEFAULTS, ...(values.quick ? QUICK : {}), quick: !!values.quick };
  const opt = (key: keyof typeof values, fallback: number): number => {
    const v = values[key];
    return typeof v === 'string' ? num(v, key) : fallback;
  };
  const runs = parseRuns(values.runs, RUN_NAMES);
  const settings: Settings = {
    ...base,
    epochs: opt('epochs', base.epochs),
    batchSize: opt('batch', base.batchSize),
    lr: opt('lr', base.lr),
    seed: opt('seed', base.seed),
    series: opt('series', base.series),
    missing: opt('missing', base.missing),
    noise: opt('noise', base.noise),
    rtol: opt('rtol', base.rtol),
    atol: opt('atol', base.atol),
    lambdaError: opt('lambda-error', base.lambdaError),
    lambdaErrorFinal: opt('lambda-error-final', base.lambdaErrorFinal),
    saturation: values.saturation === undefined || values.saturation === 'none' ? base.saturation : num(values.saturation, 'saturation'),
    lambdaStiffness: opt('lambda-stiffness', base.lambdaStiffness),
    runs,
    out: values.out ?? base.out,
  };
  if (!(settings.missing >= 0 && settings.missing < 1)) throw new Error(`--missing must be in [0, 1), got ${settings.missing}.`);
  if (!Number.isInteger(settings.series) || settings.series < 5) throw new Error(`--series must be an integer ≥ 5, got ${settings.series}.`);
  return { settings, backend: values.backend, help: !!values.help };
}

/** Runs the demo with settings `s` on the current backend: trains, prints the tables, writes plots and results.json. */
export async function runLatentDemo(s: Settings, backend: string): Promise<RunResult[]> {
  const load = os.loadavg()[0];
  console.log(
    `tfjs-neural-de latent ODE demo: backend ${backend}, ${s.series} series (80:20), ${s.channels} channels × ${s.times} times, ${Math.round(s.missing * 100)}% missing; ` +
      `${s.epochs} epochs of batch ${s.batchSize}, tsit5 rtol=${s.rtol} atol=${s.atol}${s.quick ? ' (quick)' : ''}; load average ${load.toFixed(1)} on ${os.cpus().length} cores`,
  );
  const all = generateLatentData({ nSeries: s.series, channels: s.channels, nTimes: s.times, missing: s.missing, noise: s.noise, seed: s.seed });
  const nTrain = Math.round(0.8 * s.series);
  const trainData = sliceSeries(all, 0, nTrain);
  const testData = sliceSeries(all, nTrain, s.series);
  const train = { data: trainData, x: tensorsOf(trainData) };
  const test = { data: testData, x: tensorsOf(testData) };
  const results: RunResult[] = [];
  const models: tfl.LayersModel[] = [];
  for (const name of s.runs) {
    const { result, model } = await run(name, s, train, test);
    results.push(result);
    models.push(model);
  }
  console.log('\n' + resultsTable(results) + '\n\n' + paperTable() + '\n');
  for (const line of comparisonLines(results)) console.log(line);
  await plots(s, results, models, test);
  models.forEach((m) => m.dispose());
  writeFileEnsuringDir(
    path.join(s.out, 'results.json'),
    JSON.stringify(
      { settings: s, backend, machine: { cores: os.cpus().length, loadAverageAtStart: load, loadAverageAtEnd: os.loadavg()[0] }, runs: results },
      null,
      2,
    ),
  );
  console.log(`\nPlots and results.json written to ${path.resolve(s.out)}`);
  tf.dispose([train.x.enc, train.x.times, train.x.values, test.x.enc, test.x.times, test.x.values]);
  return results;
}

async function main(): Promise<void> {
  const started = await startDemo(settingsFromArgs, HELP);
  if (!started) return;
  await runLatentDemo(started.settings, started.backend);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
