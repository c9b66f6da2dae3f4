/**
 * Regularization-weight schedules applied by a tfjs callback: constant, or exponential annealing
 * λ(e) = λ0·(λ1/λ0)^(min(e, N)/N) for 0-based epoch e (the papers' schedule, evaluated once per
 * epoch; the last of N epochs uses λ0·(λ1/λ0)^((N−1)/N), and λ1 holds after N). The weight in
 * force appears in the epoch logs as `lambda_<name>` (e.g. `lambda_errorEstimate`).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { SolverRegularizer } from '../regularizers/base';
import { InvalidArgumentError } from '../errors';
import { rejectUnknownKeys } from '../solvers/options';

export type WeightSchedule = { type: 'constant'; value: number } | { type: 'exponential'; from: number; to: number; epochs: number };

function checkSchedule(s: WeightSchedule): WeightSchedule {
  const finitePositive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (s?.type === 'constant') {
    rejectUnknownKeys(s, ['type', 'value'], 'constant schedule: ');
    if (typeof s.value !== 'number' || !Number.isFinite(s.value) || s.value < 0) {
      throw new InvalidArgumentError(`A constant schedule needs a finite 'value' ≥ 0, got ${String(s.value)}.`);
    }
    return s;
  }
  if (s?.type === 'exponential') {
    rejectUnknownKeys(s, ['type', 'from', 'to', 'epochs'], 'exponential schedule: ');
    if (!finitePositive(s.from) || !finitePositive(s.to)) {
      throw new InvalidArgumentError(`An exponential schedule needs finite positive 'from' and 'to', got ${String(s.from)} and ${String(s.to)}.`);
    }
    if (!Number.isInteger(s.epochs) || s.epochs < 1) {
      throw new InvalidArgumentError(`An exponential schedule needs 'epochs' ≥ 1 (an integer), got ${String(s.epochs)}.`);
    }
    return s;
  }
  throw new InvalidArgumentError(`Unknown schedule ${JSON.stringify(s)}: use {type: 'constant', value} or {type: 'exponential', from, to, epochs}.`);
}

/** The weight a schedule gives at 0-based epoch `epoch`. */
export function scheduledWeight(s: WeightSchedule, epoch: number): number {
  if (s.type === 'constant') return s.value;
  const frac = Math.min(epoch, s.epochs) / s.epochs;
  return s.from * Math.pow(s.to / s.from, frac);
}

export class RegularizationSchedule extends tfl.Callback {
  readonly regularizer: SolverRegularizer;
  readonly schedule: WeightSchedule;
  readonly logKey: string;

  constructor(regularizer: SolverRegularizer, schedule: WeightSchedule, logKey?: string) {
    super();
    if (!(regularizer instanceof SolverRegularizer)) {
      throw new InvalidArgumentError('RegularizationSchedule needs a regularizer instance (the one passed to the layer).');
    }
    this.regularizer = regularizer;
    this.schedule = checkSchedule(schedule);
    this.logKey = logKey ?? `lambda_${regularizer.shortName}`;
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.regularizer.weight = scheduledWeight(this.schedule, epoch);
  }

  override async onEpochEnd(_epoch: number, logs?: tfl.Logs): Promise<void> {
    if (logs) logs[this.logKey] = this.regularizer.weight;
  }
}

/** `model.fit(x, y, {callbacks: [anneal(reg, {type: 'exponential', from: 100, to: 10, epochs: 75})]})`. */
export function anneal(regularizer: SolverRegularizer, schedule: WeightSchedule, logKey?: string): RegularizationSchedule {
  return new RegularizationSchedule(regularizer, schedule, logKey);
}
