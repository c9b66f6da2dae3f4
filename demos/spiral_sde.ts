/**
 * The spiral SDE demo (the paper's neural SDE toy, sde.md §4): fit the Itô SDE
 *   du = [−αu1³ + βu2³, −βu1³ − αu2³] dt + γ·u ⊙ dW,   α = 0.1, β = 2, γ = 0.2,   u0 = [2, 0],
 * observed through its mean and variance at 30 times in [0, 1], with a NeuralSDE (drift
 * x³ → Dense(2→50, tanh) → Dense(50→2), diffusion Dense(2→2), SOSRI at rtol = atol = 0.3), trained
 * vanilla and with the error-estimate regularizer (λ = 0.2, sum aggregation), same data, seed and
 * initial weights. Each step samples `paths` paths as one batched state (u0 tiled; every element has its
 * own Wiener process) and the loss is MSE(mean) + MSE(variance) over the 30 times. Prints a table (loss,
 * forward NFE, train and predict time) and writes results.json and mean ± std band plots.
 *
 *   npm run demo:sde                 # defaults: about 4 minutes on an idle 2-core machine (wasm), up to 3× that with the other core busy
 *   npm run demo:sde -- --quick      # well under 2 minutes
 *   npm run demo:sde -- --iters 250 --paths 100 --runs vanilla,error --backend wasm --out demo-output/sde
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { errorEstimate, neuralSDE, NeuralSDE, power, solveSDE, SolverRegularizer } from '../src';
import { epochChart } from './lib/plots';
import { TrainingProgress } from './lib/progress_bar';
import { writeFileEnsuringDir, writeSvg } from './lib/render_svg';
import { MomentSeries, momentBands } from './lib/sde_plots';
import { num, startDemo, parseRuns } from './lib/cli';

/** This demo's λ_E was tuned, and its README table measured, with the paper's linear penalty E·|dt| (no saturation). */
const LINEAR = null;

export const RUN_NAMES = ['vanilla', 'error'] as const;

export interface Settings {
  iters: number;
  lr: number;
  /** Sampled paths per training step (one batched state). */
  paths: number;
  /** Paths for the final loss of each model (inference path, fixed seed). */
  evalPaths: number;
  /** Paths of the true SDE for the data's mean and variance. */
  dataPaths: number;
  /** rtol = atol of the data solve (SOSRI). */
  dataTol: number;
  nTimes: number;
  tol: number;
  hidden: number;
  lambdaError: number;
  seed: number;
  runs: string[];
  out: string;
  quick: boolean;
}

const DEFAULTS: Settings = {
  iters: 100,
  lr: 0.03,
  paths: 100,
  evalPaths: 1000,
  dataPaths: 1000,
  dataTol: 1e-2,
  nTimes: 30,
  tol: 0.3,
  hidden: 50,
  lambdaError: 0.2,
  seed: 1,
  runs: [...RUN_NAMES],
  out: path.join('demo-output', 'sde'),
  quick: false,
};

const QUICK: Partial<Settings> = { iters: 12, paths: 100, evalPaths: 300, dataPaths: 300, dataTol: 3e-2 };

const ALPHA = 0.1;
const BETA = 2;
const GAMMA = 0.2;
const U0 = [2, 0];

/** The true drift [−αu1³ + βu2³, −βu1³ − αu2³] on a [paths, 2] state. */
function trueDrift(_t: number, u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = tf.mul(tf.mul(u, u), u) as tf.Tensor2D;
    const A = tf.tensor2d([
      [-ALPHA, -BETA],
      [BETA, -ALPHA],
    ]); // c @ A = [−α c1 + β c2, −β c1 − α c2]
    return tf.matMul(c, A);
  });
}

function trueDiffusion(_t: number, u: tf.Tensor): tf.Tensor {
  return tf.mul(u, GAMMA);
}

/** Mean and variance over the path axis of states [paths, times, 2] → [times, 2] each. */
function moments(y: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor } {
  return tf.moments(y, 0);
}

function toMomentSeries(name: string, ts: number[], mean: tf.Tensor, variance: tf.Tensor): MomentSeries {
  const m = mean.arraySync() as number[][];
  const v = variance.arraySync() as number[][];
  return { name, ts, mean: m, std: v.map((r) => r.map((x) => Math.sqrt(Math.max(0, x)))) };
}

function buildModel(s: Settings, ts: number[], regularizers: SolverRegularizer[]): { model: tfl.Sequential; layer: NeuralSDE } {
  const layer = neuralSDE({
    inputShape: [2],
    tspan: [0, 1],
    saveat: ts,
    solver: 'sosri',
    rtol: s.tol,
    atol: s.tol,
    seed: s.seed,
    regularizers,
    drift: [
      power({ exponent: 3 }),
      tfl.layers.dense({ units: s.hidden, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed }) }),
      tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed + 1 }) }),
    ],
    diffusion: [tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: s.seed + 2 }) })],
  });
  return { model: tfl.sequential({ layers: [layer] }), layer };
}

interface RunResult {
  name: string;
  /** MSE(mean) + MSE(variance) against the data, on evalPaths inference paths. */
  loss: number;
  lossMean: number;
  lossVariance: number;
  /** Drift evaluations of one inference solve (paths × 2 state). */
  predictionNFE: number;
  predictionSteps: number;
  trainSeconds: number;
  /** Median of 5 inference calls on `paths` paths. */
  predictSeconds: number;
  /** Per iteration: training loss (data part), forward NFE, regularization term. */
  lossHistory: number[];
  nfeHistory: number[];
  regHistory: number[];
  series: MomentSeries;
}

function dataLoss(y: tf.Tensor, mu: tf.Tensor, v: tf.Tensor): { total: tf.Scalar; mean: tf.Scalar; variance: tf.Scalar } {
  const { mean, variance } = moments(y);
  const lm = tf.mean(tf.square(tf.sub(mean, mu))) as tf.Scalar;
  const lv = tf.mean(tf.square(tf.sub(variance, v))) as tf.Scalar;
  return { total: tf.add(lm, lv), mean: lm, variance: lv };
}

async function run(name: string, regularizers: SolverRegularizer[], s: Settings, data: { ts: number[]; mu: tf.Tensor; v: tf.Tensor }): Promise<RunResult> {
  const { model, layer } = buildModel(s, data.ts, regularizers);
  const opt = tf.train.adam(s.lr);
  const x = tf.tile(tf.tensor2d([U0]), [s.paths, 1]);
  const bar = new TrainingProgress(name.padEnd(8), s.iters);
  const lossHistory: number[] = [];
  const nfeHistory: number[] = [];
  const regHistory: number[] = [];
  const t0 = performance.now();
  for (let it = 0; it < s.iters; it++) {
    let lossValue = NaN;
    let regValue = 0;
    const cost = opt.minimize(() => {
      const y = model.apply(x, { training: true }) as tf.Tensor;
      const l = dataLoss(y, data.mu, data.v).total;
      lossValue = l.dataSync()[0];
      const reg = model.calculateLosses();
      if (reg.length === 0) return l;
      const r = tf.addN(reg) as tf.Scalar;
      regValue = r.dataSync()[0];
      return tf.add(l, r) as tf.Scalar;
    }, true);
    cost?.dispose();
    const nfe = layer.lastStats!.nfe;
    lossHistory.push(lossValue);
    nfeHistory.push(nfe);
    regHistory.push(regValue);
    bar.tick({ loss: lossValue, nfe, ...(regularizers.length > 0 ? { reg: regValue } : {}) });
    await tf.nextFrame();
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  bar.done();

  // Inference (fixed seed: the same path every call): NFE and time on `paths` paths, loss on evalPaths.
  const times: number[] = [];
  let predictionNFE = 0;
  let predictionSteps = 0;
  for (let i = 0; i < 5; i++) {
    const p0 = performance.now();
    const p = model.predict(x) as tf.Tensor;
    p.dataSync();
    times.push((performance.now() - p0) / 1000);
    p.dispose();
    predictionNFE = layer.lastStats!.nfe;
    predictionSteps = layer.lastStats!.nAccepted + layer.lastStats!.nRejected;
  }
  times.sort((a, b) => a - b);
  const xe = tf.tile(tf.tensor2d([U0]), [s.evalPaths, 1]);
  let evalOut: { loss: number; lm: number; lv: number; series: MomentSeries } | undefined;
  tf.tidy(() => {
    const y = model.predict(xe) as tf.Tensor;
    const l = dataLoss(y, data.mu, data.v);
    const m = moments(y);
    evalOut = {
      loss: l.total.dataSync()[0],
      lm: l.mean.dataSync()[0],
      lv: l.variance.dataSync()[0],
      series: toMomentSeries(`model: ${name}`, data.ts, m.mean, m.variance),
    };
  });
  if (!evalOut) throw new Error('evaluation did not run');
  tf.dispose([x, xe]);
  model.dispose();
  opt.dispose();
  return {
    name,
    loss: evalOut.loss,
    lossMean: evalOut.lm,
    lossVariance: evalOut.lv,
    predictionNFE,
    predictionSteps,
    trainSeconds,
    predictSeconds: times[2],
    lossHistory,
    nfeHistory,
    regHistory,
    series: evalOut.series,
  };
}

/** The results as a Markdown table (the demo prints it; README and RESULTS include it via `npm run readme`). */
export function resultsTable(results: RunResult[]): string {
  const header = ['model', 'loss (MSE mean + var)', 'pred. NFE', 'train s', 'pred. s', 'mean train NFE (last 10)'];
  const rows = results.map((r) => [
    r.name,
    r.loss.toPrecision(4),
    String(r.predictionNFE),
    r.trainSeconds.toFixed(1),
    r.predictSeconds.toFixed(3),
    (r.nfeHistory.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, r.nfeHistory.length)).toFixed(1),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, j) => c.padEnd(widths[j])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/** The regularized run against vanilla, one line (empty when either run is missing). */
export function comparisonLines(results: Pick<RunResult, 'name' | 'predictionNFE' | 'loss' | 'trainSeconds' | 'predictSeconds'>[]): string[] {
  const van = results.find((r) => r.name === 'vanilla');
  const err = results.find((r) => r.name === 'error');
  if (!van || !err) return [];
  const pct = (a: number, b: number): string => `${(((b - a) / a) * 100).toFixed(1)}%`;
  return [
    `error-regularized vs vanilla: prediction NFE ${van.predictionNFE} → ${err.predictionNFE} (${pct(van.predictionNFE, err.predictionNFE)}), ` +
      `loss ${van.loss.toPrecision(3)} → ${err.loss.toPrecision(3)}, train time ${pct(van.trainSeconds, err.trainSeconds)}, predict time ${pct(van.predictSeconds, err.predictSeconds)} (paper: 528.7 → 502 NFE)`,
  ];
}

const HELP = `Usage: npm run demo:sde -- [options]
  --quick                      short run (well under 2 minutes)
  --iters N --lr X --seed N    training iterations (Adam), learning rate, seed (weights and paths)
  --paths N                    sampled paths per training step (≥ 100 in the paper)
  --eval-paths N               paths for each model's final loss
  --data-paths N --data-tol X  paths and rtol = atol of the true SDE's SOSRI solve
  --tol X                      rtol = atol of the model's SOSRI solve (0.3 in the paper)
  --lambda-error X             λ of the error-estimate regularizer (sum aggregation)
  --hidden N --times N
  --runs vanilla,error --backend wasm|cpu|tensorflow --out DIR`;

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
      iters: str,
      lr: str,
      paths: str,
      'eval-paths': str,
      'data-paths': str,
      'data-tol': str,
      times: str,
      tol: str,
      hidden: str,
      'lambda-error': str,
      seed: str,
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
    iters: opt('iters', base.iters),
    lr: opt('lr', base.lr),
    paths: opt('paths', base.paths),
    evalPaths: opt('eval-paths', base.evalPaths),
    dataPaths: opt('data-paths', base.dataPaths),
    dataTol: opt('data-tol', base.dataTol),
    nTimes: opt('times', base.nTimes),
    tol: opt('tol', base.tol),
    hidden: opt('hidden', base.hidden),
    lambdaError: opt('lambda-error', base.lambdaError),
    seed: opt('seed', base.seed),
    runs,
    out: values.out ?? base.out,
  };
  return { settings, backend: values.backend, help: !!values.help };
}

async function main(): Promise<void> {
  const started = await startDemo(settingsFromArgs, HELP);
  if (!started) return;
  const { settings: s, backend } = started;
  console.log(
    `tfjs-neural-de spiral SDE demo: backend ${backend}, ${s.iters} iterations × ${s.paths} paths, SOSRI rtol=atol=${s.tol}, λ_E=${s.lambdaError} (sum)${s.quick ? ' (quick)' : ''}`,
  );
  // 30 uniform times in [0, 1] (t = 0 included: mean u0, variance 0).
  const ts = Array.from({ length: s.nTimes }, (_, i) => i / (s.nTimes - 1));
  const d0 = performance.now();
  const y0 = tf.tile(tf.tensor2d([U0]), [s.dataPaths, 1]);
  const sol = solveSDE(trueDrift, trueDiffusion, y0, { saveat: ts, solver: 'sosri', rtol: s.dataTol, atol: s.dataTol, seed: 12345 + s.seed, maxSteps: 100000 });
  const stacked = tf.stack(sol.ys, 1);
  const { mean: mu, variance: v } = moments(stacked);
  const dataSeries = toMomentSeries('data (true SDE)', ts, mu, v);
  const dataSeconds = (performance.now() - d0) / 1000;
  console.log(
    `data: ${s.dataPaths} paths of the true SDE, SOSRI rtol=atol=${s.dataTol}: ${sol.stats.nAccepted} steps, ${dataSeconds.toFixed(1)} s; mean u(1) = [${dataSeries.mean[s.nTimes - 1].map((x) => x.toFixed(3))}], std = [${dataSeries.std[s.nTimes - 1].map((x) => x.toFixed(3))}]`,
  );
  tf.dispose([y0, stacked, ...sol.ys]);
  const all: Record<string, () => SolverRegularizer[]> = {
    vanilla: () => [],
    error: () => [errorEstimate({ weight: s.lambdaError, aggregation: 'sum', saturation: LINEAR })],
  };
  const results: RunResult[] = [];
  for (const name of s.runs) results.push(await run(name, all[name](), s, { ts, mu, v }));
  console.log('\n' + resultsTable(results));
  for (const line of comparisonLines(results)) console.log(line);
  await writeSvg(path.join(s.out, 'moments.svg'), momentBands([dataSeries, ...results.map((r) => r.series)], 'Spiral SDE: data vs trained neural SDEs'));
  await writeSvg(
    path.join(s.out, 'nfe.svg'),
    epochChart(
      results.map((r) => ({ name: r.name, values: r.nfeHistory })),
      { title: 'Forward NFE per training iteration', xLabel: 'iteration', yLabel: 'NFE (drift)' },
    ),
  );
  await writeSvg(
    path.join(s.out, 'loss.svg'),
    epochChart(
      results.map((r) => ({ name: r.name, values: r.lossHistory })),
      { title: 'Training loss (MSE mean + variance)', xLabel: 'iteration', yLabel: 'loss', logY: true },
    ),
  );
  writeFileEnsuringDir(
    path.join(s.out, 'results.json'),
    JSON.stringify({ settings: s, backend, data: { seconds: dataSeconds, steps: sol.stats.nAccepted, series: dataSeries }, results }, null, 2),
  );
  console.log(`\nPlots (moments.svg, nfe.svg, loss.svg) and results.json written to ${path.resolve(s.out)}`);
  tf.dispose([mu, v]);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
