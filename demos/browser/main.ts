/**
 * The spiral demo as a web page: trains the spiral Neural ODE live on cpu, wasm or webgl, vanilla
 * and error-regularized side by side, plots the learned trajectories and the loss and NFE per
 * epoch (vega-embed, the same chart specs the Node demo writes as SVG), shows the Node demo's
 * results table, and saves both trained models to IndexedDB and reloads them.
 *
 * It imports `tfjs-neural-de` by its package name, as an app would: the bundler (vite) picks the
 * package's browser ES-module build through the `browser` export condition.
 *
 * For the browser tests, the page publishes its state as `window.spiralDemo` (see `DemoState`)
 * and as `data-state` on #status.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import embed, { type Result as EmbedResult } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { countNFE, errorEstimate, neuralODE, nfeLogger, power, solve } from 'tfjs-neural-de';
import {
  buildSpiralModel,
  comparisonLines,
  lossChart,
  nfeChart,
  observationTimes,
  RESULT_HEADER,
  resultCells,
  SPIRAL_A,
  SPIRAL_DEFAULTS,
  spiralInitialConditions,
  type SpiralRunResult,
  type SpiralSettings,
  trajectoryPanels,
} from '../lib/spiral_shared';

// The wasm binaries are files of the build (vite copies them and hands back their URLs); no CDN.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/** A solver-heuristic regularizer (the one this page uses). */
type Regularizer = ReturnType<typeof errorEstimate>;

export const BACKENDS = ['cpu', 'wasm', 'webgl'] as const;
type BackendName = (typeof BACKENDS)[number];

/** A run's result plus what the tests check: the data loss (MSE) on the training set before training. */
export interface PageRunResult extends Omit<SpiralRunResult, 'predicted'> {
  initialTrainLoss: number;
}

export interface ReloadCheck {
  name: string;
  url: string;
  /** Element-wise equal predictions of the trained and the reloaded model on the test set. */
  identical: boolean;
  maxAbsDiff: number;
  nfeTrained: number;
  nfeReloaded: number;
}

export interface DemoState {
  state: 'idle' | 'training' | 'done' | 'saving' | 'saved' | 'error';
  /** The backend tfjs runs on (tf.getBackend()). */
  backend: string | null;
  epochsDone: number;
  results: PageRunResult[];
  reload: ReloadCheck[];
  errors: string[];
}

declare global {
  interface Window {
    spiralDemo: DemoState;
  }
}

const demo: DemoState = { state: 'idle', backend: null, epochsDone: 0, results: [], reload: [], errors: [] };
window.spiralDemo = demo;

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`The page has no #${id} element.`);
  return e as T;
}

const form = el<HTMLFormElement>('controls');
const status = el<HTMLParagraphElement>('status');
const progress = el<HTMLProgressElement>('progress');
const errorBox = el<HTMLDivElement>('errors');
const trainButton = el<HTMLButtonElement>('start');
const stopButton = el<HTMLButtonElement>('stop');
const saveButton = el<HTMLButtonElement>('save');

function setState(state: DemoState['state'], message: string): void {
  demo.state = state;
  status.dataset.state = state;
  status.textContent = message;
}

function showError(e: unknown): void {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  demo.errors.push(message);
  errorBox.hidden = false;
  errorBox.textContent = demo.errors.join('\n');
  setState('error', 'Failed: see the error above.');
}

window.addEventListener('error', (ev) => showError(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => showError(ev.reason));

// Form fields may be preset from the URL: ?backend=wasm&epochs=20&train=8&test=4&rtol=1e-5&lambda=1
for (const [key, value] of new URLSearchParams(location.search)) {
  const field = form.elements.namedItem(key);
  if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = value;
}

interface PageSettings extends SpiralSettings {
  backend: BackendName;
}

function readSettings(): PageSettings {
  const data = new FormData(form);
  const num = (key: string, min: number, integer: boolean): number => {
    const v = Number(data.get(key));
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new Error(`'${key}' must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${String(data.get(key))}'.`);
    }
    return v;
  };
  const backend = String(data.get('backend')) as BackendName;
  if (!BACKENDS.includes(backend)) throw new Error(`Unknown backend '${backend}': ${BACKENDS.join(', ')}.`);
  return {
    ...SPIRAL_DEFAULTS,
    backend,
    epochs: num('epochs', 1, true),
    nTrain: num('train', 1, true),
    nTest: num('test', 1, true),
    rtol: num('rtol', 1e-10, false),
    lambdaError: num('lambda', 0, false),
  };
}

/** True trajectories from the rows of `y0` at times `ts`: [batch, ts.length, 2], from a tight-tolerance solve. */
function spiralTruth(y0: number[][], ts: number[]): tf.Tensor3D {
  return tf.tidy(() => {
    const A = tf.tensor2d(SPIRAL_A);
    const { ys } = solve((_t: number, y: tf.Tensor) => tf.matMul(tf.pow(y, 3) as tf.Tensor2D, A, false, true), tf.tensor2d(y0), {
      tspan: [0, ts[ts.length - 1]],
      saveat: ts,
      rtol: 1e-7,
      atol: 1e-9,
    });
    return tf.stack(ys, 1) as tf.Tensor3D;
  });
}

async function mse(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const m = tf.tidy(() => tf.mean(tf.square(tf.sub(model.predict(x) as tf.Tensor, y))));
  const v = (await m.data())[0];
  m.dispose();
  return v;
}

async function predictArray(model: tfl.LayersModel, x: tf.Tensor): Promise<{ values: Float32Array; nfe: number; nested: number[][][] }> {
  const { result, nfePerCall } = countNFE(model, () => model.predict(x) as tf.Tensor);
  const values = (await result.data()) as Float32Array;
  const nested = (await result.array()) as number[][][];
  result.dispose();
  return { values, nfe: nfePerCall, nested };
}

interface Run {
  name: string;
  model: tfl.Sequential;
  optimizer: tf.Optimizer;
  lossHistory: number[];
  nfeHistory: number[];
  trainSeconds: number;
  initialTrainLoss: number;
  predicted: number[][][];
}

interface Session {
  settings: PageSettings;
  runs: Run[];
  xTr: tf.Tensor2D;
  yTr: tf.Tensor3D;
  xTe: tf.Tensor2D;
  yTe: tf.Tensor3D;
  y0Test: number[][];
  /** True test trajectories on a fine grid, for the plots. */
  truth: number[][][];
}

let session: Session | null = null;
let stopRequested = false;
const views = new Map<string, EmbedResult>();

async function draw(id: string, spec: TopLevelSpec): Promise<void> {
  views.get(id)?.finalize();
  views.set(id, await embed(`#${id}`, spec, { actions: false, renderer: 'svg' }));
}

function asResults(runs: Run[]): SpiralRunResult[] {
  return runs.map((r) => ({
    name: r.name,
    trainLoss: NaN,
    testLoss: NaN,
    predictionNFE: r.nfeHistory[r.nfeHistory.length - 1] ?? NaN,
    trainSeconds: r.trainSeconds,
    predictSeconds: NaN,
    nfeHistory: r.nfeHistory,
    lossHistory: r.lossHistory,
    predicted: r.predicted,
  }));
}

async function drawCharts(s: Session, rows: SpiralRunResult[], withTrajectories: boolean): Promise<void> {
  const size = { width: 470, height: 260 };
  if (withTrajectories) await draw('trajectories', trajectoryPanels(rows, s.y0Test, s.truth, { nShow: 3, columns: 2, width: 440, height: 340 }));
  await draw('loss', lossChart(rows, size));
  await draw('nfe', nfeChart(rows, size));
}

function showTable(rows: SpiralRunResult[]): void {
  const table = el<HTMLTableElement>('results');
  table.tHead!.innerHTML = '';
  table.tBodies[0].innerHTML = '';
  const head = table.tHead!.insertRow();
  for (const h of RESULT_HEADER) {
    const th = document.createElement('th');
    th.textContent = h;
    head.appendChild(th);
  }
  for (const r of rows) {
    const tr = table.tBodies[0].insertRow();
    tr.dataset.run = r.name;
    for (const c of resultCells(r)) tr.insertCell().textContent = c;
  }
  const list = el<HTMLUListElement>('comparison');
  list.innerHTML = '';
  for (const line of comparisonLines(rows)) list.appendChild(Object.assign(document.createElement('li'), { textContent: line }));
}

function disposeSession(): void {
  if (!session) return;
  for (const r of session.runs) {
    r.model.dispose();
    r.optimizer.dispose();
  }
  tf.dispose([session.xTr, session.yTr, session.xTe, session.yTe]);
  session = null;
}

/** Yields to the browser so the page repaints and buttons respond between epochs. */
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function train(): Promise<void> {
  const settings = readSettings();
  disposeSession();
  demo.results = [];
  demo.reload = [];
  demo.epochsDone = 0;
  el('reload').innerHTML = '';
  showTable([]);
  setState('training', `Starting the ${settings.backend} backend…`);
  if (!(await tf.setBackend(settings.backend))) {
    throw new Error(`The ${settings.backend} backend could not be initialised in this browser.`);
  }
  await tf.ready();
  demo.backend = tf.getBackend();

  const s = settings;
  const ts = observationTimes(s.T, s.nTimes);
  const { y0Train, y0Test } = spiralInitialConditions(s);
  const fine = observationTimes(s.T, 150);
  const truthFine = spiralTruth(y0Test.slice(0, 3), fine);
  const truth = (await truthFine.array()) as number[][][];
  truthFine.dispose();
  const specs: { name: string; regularizers: () => Regularizer[] }[] = [
    { name: 'vanilla', regularizers: () => [] },
    { name: 'error', regularizers: () => [errorEstimate({ weight: s.lambdaError })] },
  ];
  const sess: Session = {
    settings,
    runs: [],
    xTr: tf.tensor2d(y0Train),
    yTr: spiralTruth(y0Train, ts),
    xTe: tf.tensor2d(y0Test),
    yTe: spiralTruth(y0Test, ts),
    y0Test,
    truth,
  };
  session = sess;
  for (const spec of specs) {
    const model = buildSpiralModel({ neuralODE, power }, s, ts, spec.regularizers());
    const optimizer = tf.train.adam(s.lr);
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const initialTrainLoss = await mse(model, sess.xTr, sess.yTr);
    const { nested } = await predictArray(model, sess.xTe);
    sess.runs.push({ name: spec.name, model, optimizer, lossHistory: [], nfeHistory: [], trainSeconds: 0, initialTrainLoss, predicted: nested });
  }

  progress.max = s.epochs;
  for (let epoch = 0; epoch < s.epochs && !stopRequested; epoch++) {
    for (const run of sess.runs) {
      const t0 = performance.now();
      const h = await run.model.fit(sess.xTr, sess.yTr, {
        epochs: epoch + 1,
        initialEpoch: epoch,
        batchSize: s.nTrain,
        shuffle: false,
        verbose: 0,
        callbacks: [nfeLogger()],
      });
      run.trainSeconds += (performance.now() - t0) / 1000;
      run.lossHistory.push(h.history.loss[0] as number);
      run.nfeHistory.push(h.history.nfe[0] as number);
    }
    demo.epochsDone = epoch + 1;
    progress.value = epoch + 1;
    const last = sess.runs.map((r) => `${r.name}: loss ${r.lossHistory[epoch].toPrecision(4)}, NFE ${r.nfeHistory[epoch].toFixed(0)}`);
    setState('training', `Epoch ${epoch + 1}/${s.epochs} on ${demo.backend}. ${last.join('; ')}.`);
    const trajectoriesNow = epoch === 0 || (epoch + 1) % 5 === 0;
    if (trajectoriesNow) {
      for (const run of sess.runs) run.predicted = (await predictArray(run.model, sess.xTe)).nested;
    }
    await drawCharts(sess, asResults(sess.runs), trajectoriesNow);
    await nextTask();
  }

  // The final figures, measured as the Node demo does.
  const rows: SpiralRunResult[] = [];
  for (const run of sess.runs) {
    const { nested, nfe } = await predictArray(run.model, sess.xTe);
    run.predicted = nested;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p0 = performance.now();
      const p = run.model.predict(sess.xTe) as tf.Tensor;
      await p.data();
      times.push((performance.now() - p0) / 1000);
      p.dispose();
    }
    times.sort((a, b) => a - b);
    rows.push({
      name: run.name,
      trainLoss: await mse(run.model, sess.xTr, sess.yTr),
      testLoss: await mse(run.model, sess.xTe, sess.yTe),
      predictionNFE: nfe,
      trainSeconds: run.trainSeconds,
      predictSeconds: times[2],
      nfeHistory: run.nfeHistory.slice(),
      lossHistory: run.lossHistory.slice(),
      predicted: nested,
    });
  }
  await drawCharts(sess, rows, true);
  showTable(rows);
  demo.results = rows.map(({ predicted: _predicted, ...r }, i) => ({ ...r, initialTrainLoss: sess.runs[i].initialTrainLoss }));
  setState('done', `Trained ${demo.epochsDone} epochs on ${demo.backend}${stopRequested ? ' (stopped)' : ''}.`);
}

async function saveAndReload(): Promise<void> {
  const sess = session;
  if (!sess) throw new Error('Train the models first.');
  setState('saving', 'Saving to IndexedDB and reloading…');
  const list = el<HTMLUListElement>('reload');
  list.innerHTML = '';
  demo.reload = [];
  for (const run of sess.runs) {
    const url = `indexeddb://tfjs-neural-de-spiral-${run.name}`;
    await run.model.save(url);
    const reloaded = await tfl.loadLayersModel(url);
    try {
      const a = await predictArray(run.model, sess.xTe);
      const b = await predictArray(reloaded, sess.xTe);
      let maxAbsDiff = 0;
      let identical = a.values.length === b.values.length;
      for (let i = 0; i < a.values.length; i++) {
        const d = Math.abs(a.values[i] - b.values[i]);
        if (!(d <= maxAbsDiff)) maxAbsDiff = d;
        if (a.values[i] !== b.values[i]) identical = false;
      }
      const check: ReloadCheck = { name: run.name, url, identical, maxAbsDiff, nfeTrained: a.nfe, nfeReloaded: b.nfe };
      demo.reload.push(check);
      const li = document.createElement('li');
      li.dataset.run = run.name;
      li.textContent =
        `${run.name}: saved to ${url} and reloaded; test predictions ${identical ? 'identical' : 'DIFFERENT'} ` +
        `(max |Δ| = ${maxAbsDiff}), prediction NFE ${a.nfe.toFixed(0)} → ${b.nfe.toFixed(0)}.`;
      list.appendChild(li);
    } finally {
      reloaded.dispose();
    }
  }
  setState('saved', `Saved and reloaded ${demo.reload.length} models on ${demo.backend}.`);
}

function busy(on: boolean): void {
  trainButton.disabled = on;
  saveButton.disabled = on || session === null;
  stopButton.disabled = !on;
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  stopRequested = false;
  busy(true);
  train()
    .catch(showError)
    .finally(() => busy(false));
});
stopButton.addEventListener('click', () => {
  stopRequested = true;
});
saveButton.addEventListener('click', () => {
  busy(true);
  stopButton.disabled = true;
  saveAndReload()
    .catch(showError)
    .finally(() => busy(false));
});
