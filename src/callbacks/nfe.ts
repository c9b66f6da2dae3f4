/**
 * Solver-cost logging: adds the NeuralODE layers' mean forward NFE per call to the epoch logs as
 * `nfe` (so `history.history.nfe` exists after `fit`), and a helper to measure the NFE of any
 * block of work (e.g. `model.predict`), which tfjs gives no callbacks for.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { NeuralODE } from '../layers/neural_ode';

/** Every NeuralODE layer in a model, including nested models. */
export function findNeuralODELayers(model: tfl.LayersModel | tfl.layers.Layer): NeuralODE[] {
  if (model instanceof NeuralODE) return [model];
  const layers = (model as tfl.LayersModel).layers;
  return Array.isArray(layers) ? layers.flatMap((l) => findNeuralODELayers(l)) : [];
}

function totals(layers: NeuralODE[]): { nfe: number; calls: number } {
  return layers.reduce((s, l) => ({ nfe: s.nfe + l.nfeForwardTotal, calls: s.calls + l.forwardCalls }), { nfe: 0, calls: 0 });
}

/**
 * Runs `fn` and reports the forward NFE the model's NeuralODE layers spent in it: the total, and
 * the mean per layer call (e.g. per predicted batch).
 */
export function countNFE<T>(model: tfl.LayersModel, fn: () => T): { result: T; nfe: number; calls: number; nfePerCall: number } {
  const layers = findNeuralODELayers(model);
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
  private layers: NeuralODE[] = [];
  /** Mean forward NFE per call, one entry per epoch (also in `history.history.nfe`). */
  readonly history: number[] = [];

  override async onTrainBegin(): Promise<void> {
    this.layers = this.model ? findNeuralODELayers(this.model) : [];
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
