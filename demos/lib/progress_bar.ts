/**
 * The demos' progress bars: cli-progress, set up for training loops.
 *
 *     vanilla    [#########---------------------] 60/200 30% eta 41s loss=0.1234 nfe=98
 *
 * On a terminal the line is redrawn in place; elsewhere (CI logs, pipes) cli-progress prints a line
 * every few seconds and a final one, so logs stay short.
 */
import { Format, SingleBar } from 'cli-progress';

export interface ProgressBarOptions {
  /** Default `process.stderr`. */
  stream?: NodeJS.WritableStream;
  /** Characters inside the brackets; default 30. */
  width?: number;
  /** Seconds between lines when the stream is not a terminal; default 5. */
  nonTtySeconds?: number;
}

/** 4 significant digits for non-integers; integers, non-finite numbers and strings as they are. */
export function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** `loss=0.1234 nfe=98` from the values shown after the bar. */
export function formatInfo(info: Record<string, number | string>): string {
  return Object.entries(info)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

/**
 * A training progress bar: `tick(info)` counts one step and merges `info` (loss, nfe, ...) into
 * the values shown; `done(message)` draws the final line with `message` after it.
 */
export class TrainingProgress {
  private readonly bar: SingleBar;
  private readonly info: Record<string, number | string> = {};
  private count = 0;

  constructor(label: string, total: number, opts: ProgressBarOptions = {}) {
    this.bar = new SingleBar({
      format: (options, params, payload: { label: string; info: string }) =>
        `${payload.label} [${Format.BarFormat(params.progress, options)}] ${params.value}/${params.total} ` +
        `${Math.round(params.progress * 100)}% eta ${Format.TimeFormat(params.eta, options, 1)} ${payload.info}`.trimEnd(),
      barsize: opts.width ?? 30,
      barCompleteChar: '#',
      barIncompleteChar: '-',
      stream: opts.stream ?? process.stderr,
      noTTYOutput: true,
      notTTYSchedule: (opts.nonTtySeconds ?? 5) * 1000,
      etaBuffer: 20,
      hideCursor: false,
    });
    this.bar.start(total, 0, { label, info: '' });
  }

  tick(info?: Record<string, number | string>): void {
    if (info) Object.assign(this.info, info);
    this.count++;
    this.bar.update(this.count, { info: formatInfo(this.info) });
  }

  /** Draws the final state (with `message` appended) and releases the stream. */
  done(message?: string): void {
    if (message) this.bar.update(this.count, { info: `${formatInfo(this.info)} ${message}`.trim() });
    this.bar.stop();
  }
}
