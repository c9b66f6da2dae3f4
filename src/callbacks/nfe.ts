/**
 * Solver-cost logging: adds the NeuralODE layers' mean forward NFE per call to the epoch logs as
 * `nfe` (so `history.history.nfe` exists after `fit`), and a helper to measure the NFE of any
 * block of work (e.g. `model.predict`), which tfjs gives no callbacks for.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { DELayer, isDELayer } from '../layers/de_layer';

/**
 * Every NeuralODE and NeuralSDE layer in a model, including nested models. Recognised by a
 * brand, not `instanceof`, so layers built with another copy of this package count too.
 */
export function findDELayers(model: tfl.LayersModel | tfl.layers.Layer): DELayer[] {
  if (isDELayer(model)) return [model];
  const layers = (model as tfl.LayersModel).layers;
  return Array.isArray(layers) ? layers.flatMap((l) => findDELayers(l)) : [];
}

/** @deprecated Same as `findDELayers` (which also finds NeuralSDE layers). */
export const findNeuralODELayers = findDELayers;

function totals(layers: DELayer[]): { nfe: number; calls: number } {
  return layers.reduce((s, l) => ({ nfe: s.nfe + l.nfeForwardTotal, calls: s.calls + l.forwardCalls }), { nfe: 0, calls: 0 });
}

/**
 * Runs `fn` and reports the forward NFE the model's NeuralODE layers spent in it: the total, and
 * the mean per layer call (e.g. per predicted batch).
 */
export function countNFE<T>(model: tfl.LayersModel, fn: () => T): { result: T; nfe: number; calls: number; nfePerCall: number } {
  const layers = findDELayers(model);
  const before = totals(layers);
  const result = fn();
  const after = totals(layers);
  const nfe = after.nfe - before.nfe;
  const calls = after.calls - before.calls;
  return { result, nfe, calls, nfePerCall: calls > 0 ? nfe / calls : 0 };
}

/** A callback that writes `logs.nfe`: the mean forward NFE per NeuralODE call during the epoch's training batches. */
export class NFELogger extends tfl.Callback {
  private start = { nfe: 0, calls: 0 };
  private layers: DELayer[] = [];
  /** Mean forward NFE per call, one entry per epoch (also in `history.history.nfe`). */
  readonly history: number[] = [];

  override async onTrainBegin(): Promise<void> {
    this.layers = this.model ? findDELayers(this.model) : [];
  }

  override async onEpochBegin(): Promise<void> {
    this.start = totals(this.layers);
  }

  override async onEpochEnd(_epoch: number, logs?: tfl.Logs): Promise<void> {
    const now = totals(this.layers);
    const calls = now.calls - this.start.calls;
    const nfe = calls > 0 ? (now.nfe - this.start.nfe) / calls : 0;
    this.history.push(nfe);
    if (logs) logs.nfe = nfe;
  }
}

/** Factory: `model.fit(x, y, {callbacks: [nfeLogger()]})`. */
export function nfeLogger(): NFELogger {
  return new NFELogger();
}
