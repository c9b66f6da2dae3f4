/**
 * The spiral demo: fit the spiral ODE dy/dt = A·y³ (A = [[-0.1, 2], [-2, -0.1]]) with a NeuralODE
 * four ways on the same data and seed (vanilla, error-regularized, stiffness-regularized, both) and
 * compare loss, prediction NFE and wall time. Writes plots and results.json to the output folder.
 *
 *   npm run demo                       # default settings (about 1.5 minutes on an idle 2-core machine, wasm)
 *   npm run demo -- --epochs 400       # longer training
 *   npm run demo -- --backend cpu --out my-output --runs vanilla,error
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { anneal, countNFE, errorEstimate, neuralODE, nfeLogger, power, SolverRegularizer, stiffness } from '../src';
import { TrainingProgress } from './lib/progress_bar';
import { writeFileEnsuringDir, writeSvg } from './lib/render_svg';
import {
  comparisonLines,
  lossChart,
  nfeChart,
  observationTimes,
  resultsTable,
  buildSpiralModel,
  SPIRAL_DEFAULTS,
  spiralInitialConditions,
  SpiralRunResult,
  SpiralSettings,
  trajectoryPanels,
} from './lib/spiral_shared';
import { spiralTrajectories } from './lib/spiral_system';
import { num, startDemo, parseRuns } from './lib/cli';

/** This demo's λ_E was tuned, and its README table measured, with the paper's linear penalty E·|dt| (no saturation). */
const LINEAR = null;

export const RUN_NAMES = ['vanilla', 'error', 'stiffness', 'both'] as const;

export interface Settings extends SpiralSettings {
  runs: string[];
  out: string;
}

type RunResult = SpiralRunResult;

function mse(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(model.predict(x) as tf.Tensor, y))).dataSync()[0]);
}

async function run(
  name: string,
  regularizers: SolverRegularizer[],
  s: Settings,
  data: { xTr: tf.Tensor; yTr: tf.Tensor; xTe: tf.Tensor; yTe: tf.Tensor; ts: number[] },
): Promise<RunResult> {
  const model = buildSpiralModel({ neuralODE, power }, s, data.ts, regularizers);
  model.compile({ optimizer: tf.train.adam(s.lr), loss: 'meanSquaredError' });
  const bar = new TrainingProgress(name.padEnd(10), s.epochs);
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

async function plots(results: RunResult[], y0Test: number[][], s: Settings): Promise<void> {
  const nShow = Math.min(3, y0Test.length);
  // The true trajectories on a fine grid; the learned ones at the observation times.
  const fine = observationTimes(s.T, 150);
  const truth = tf.tidy(() => spiralTrajectories(y0Test.slice(0, nShow), fine).arraySync() as number[][][]);
  await writeSvg(path.join(s.out, 'trajectories.svg'), trajectoryPanels(results, y0Test, truth, { nShow, columns: 2 }));
  await writeSvg(path.join(s.out, 'nfe.svg'), nfeChart(results));
  await writeSvg(path.join(s.out, 'loss.svg'), lossChart(results));
}

const HELP = `Usage: npm run demo -- [options]
  --epochs N --lr X --seed N
  --lambda-error X [--lambda-error-final Y]   λ_E (annealed exponentially X→Y over the epochs when Y is given)
  --lambda-stiffness X --rtol X --atol X --hidden N
  --train N --test N --times N --T X           trajectories, observation times per trajectory, horizon
  --rmin X --rmax X --theta X                  initial conditions: radius range, angle range ±theta
  --runs vanilla,error,stiffness,both
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
      runs: str,
      backend: str,
      out: str,
      epochs: str,
      lr: str,
      train: str,
      test: str,
      times: str,
      T: str,
      rtol: str,
      atol: str,
      hidden: str,
      seed: str,
      'lambda-error': str,
      'lambda-error-final': str,
      'lambda-stiffness': str,
      rmin: str,
      rmax: str,
      theta: str,
    },
  });
  type Key = Exclude<keyof typeof values, 'help' | 'runs' | 'backend' | 'out'>;
  const opt = (key: Key, fallback: number): number => {
    const v = values[key];
    return v === undefined ? fallback : num(v, key);
  };
  const d = SPIRAL_DEFAULTS;
  const runs = parseRuns(values.runs, RUN_NAMES);
  const settings: Settings = {
    epochs: opt('epochs', d.epochs),
    lr: opt('lr', d.lr),
    nTrain: opt('train', d.nTrain),
    nTest: opt('test', d.nTest),
    nTimes: opt('times', d.nTimes),
    T: opt('T', d.T),
    rtol: opt('rtol', d.rtol),
    atol: opt('atol', d.atol),
    hidden: opt('hidden', d.hidden),
    seed: opt('seed', d.seed),
    lambdaError: opt('lambda-error', d.lambdaError),
    lambdaErrorFinal: values['lambda-error-final'] === undefined ? undefined : num(values['lambda-error-final'], 'lambda-error-final'),
    lambdaStiffness: opt('lambda-stiffness', d.lambdaStiffness),
    rmin: opt('rmin', d.rmin),
    rmax: opt('rmax', d.rmax),
    thetaMax: opt('theta', d.thetaMax),
    runs,
    out: values.out ?? 'demo-output',
  };
  return { settings, backend: values.backend, help: !!values.help };
}

async function main(): Promise<void> {
  const started = await startDemo(settingsFromArgs, HELP);
  if (!started) return;
  const { settings: s, backend } = started;
  console.log(
    `tfjs-neural-de spiral demo: backend ${backend}, ${s.epochs} epochs, ${s.nTrain} train / ${s.nTest} test trajectories, tsit5 rtol=${s.rtol} atol=${s.atol}`,
  );
  const ts = observationTimes(s.T, s.nTimes);
  const { y0Train, y0Test } = spiralInitialConditions(s);
  const data = { xTr: tf.tensor2d(y0Train), yTr: spiralTrajectories(y0Train, ts), xTe: tf.tensor2d(y0Test), yTe: spiralTrajectories(y0Test, ts), ts };
  const all: Record<string, () => SolverRegularizer[]> = {
    vanilla: () => [],
    error: () => [errorEstimate({ weight: s.lambdaError, saturation: LINEAR })],
    stiffness: () => [stiffness({ weight: s.lambdaStiffness })],
    both: () => [errorEstimate({ weight: s.lambdaError, saturation: LINEAR }), stiffness({ weight: s.lambdaStiffness })],
  };
  const results: RunResult[] = [];
  for (const name of s.runs) results.push(await run(name, all[name](), s, data));
  console.log('\n' + resultsTable(results));
  for (const line of comparisonLines(results)) console.log(line);
  await plots(results, y0Test, s);
  writeFileEnsuringDir(path.join(s.out, 'results.json'), JSON.stringify({ settings: s, backend, results: results.map(({ predicted, ...r }) => r) }, null, 2));
  console.log(`\nPlots and results.json written to ${path.resolve(s.out)}`);
  tf.dispose([data.xTr, data.yTr, data.xTe, data.yTe]);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
