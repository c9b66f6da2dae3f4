/**
 * A one-line terminal progress bar for the demos:
 *
 *     label [#####-----] 12/50 24% eta 31s loss=0.123 nfe=98
 *
 * On a TTY the line is redrawn in place with `\r`; elsewhere (CI logs, pipes) a line is printed
 * only each time another 10% is completed, plus the final line, so logs stay short.
 */

export interface ProgressBarOptions {
  /** Characters inside the brackets; default 30. */
  width?: number;
  /** Default `process.stderr`. */
  stream?: NodeJS.WriteStream;
}

/** 4 significant digits for non-integers; integers and strings as they are. */
export function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** 7s, 2m05s, 1h02m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Minimal redraw interval on a TTY, so fast loops don't flood the terminal. */
const TTY_INTERVAL_MS = 80;

export class ProgressBar {
  private readonly width: number;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly start = Date.now();
  private count = 0;
  private info: Record<string, number | string> = {};
  private lastDraw = 0;
  private lastBucket = 0;
  private printedCount = -1;
  private finished = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    opts: ProgressBarOptions = {},
  ) {
    this.width = Math.max(1, Math.floor(opts.width ?? 30));
    this.stream = opts.stream ?? process.stderr;
    this.tty = !!this.stream.isTTY;
  }

  /** Counts one step; `info` values (e.g. loss, nfe) are merged into those shown. */
  tick(info?: Record<string, number | string>): void {
    if (this.finished) return;
    this.count++;
    if (info) Object.assign(this.info, info);
    const complete = this.count >= this.total;
    if (this.tty) {
      const now = Date.now();
      if (complete || now - this.lastDraw >= TTY_INTERVAL_MS) {
        this.lastDraw = now;
        this.draw();
      }
    } else {
      const bucket = this.total > 0 ? Math.floor((10 * Math.min(this.count, this.total)) / this.total) : 10;
      if (bucket > this.lastBucket) {
        this.lastBucket = bucket;
        this.print(this.line());
      }
    }
  }

  /** Prints the final line (with `summary` appended) and ends it with a newline. */
  done(summary?: string): void {
    if (this.finished) return;
    this.finished = true;
    const text = this.line(true) + (summary ? ` ${summary}` : '');
    if (this.tty) {
      this.stream.write(`\r${this.fit(text)}\x1b[K\n`);
    } else if (this.printedCount !== this.count || summary) {
      this.print(text);
    }
  }

  /** The current line, e.g. `label [#####-----] 12/50 24% eta 31s loss=0.123`. */
  line(final = false): string {
    const frac = this.total > 0 ? Math.min(1, Math.max(0, this.count / this.total)) : 1;
    const filled = Math.round(frac * this.width);
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    const elapsed = (Date.now() - this.start) / 1000;
    let time: string;
    if (final) time = `in ${formatDuration(elapsed)}`;
    else if (this.count === 0) time = 'eta ?';
    else time = `eta ${formatDuration((elapsed / this.count) * Math.max(0, this.total - this.count))}`;
    const parts = [
      `${this.label} [${bar}] ${this.count}/${this.total} ${Math.floor(frac * 100)}% ${time}`,
      ...Object.entries(this.info).map(([k, v]) => `${k}=${formatValue(v)}`),
    ];
    return parts.join(' ');
  }

  private draw(): void {
    this.stream.write(`\r${this.fit(this.line())}\x1b[K`);
  }

  private print(text: string): void {
    this.printedCount = this.count;
    this.stream.write(`${text}\n`);
  }

  /** Truncates to the terminal width so an in-place redraw never wraps. */
  private fit(text: string): string {
    const cols = this.stream.columns;
    return cols && text.length >= cols ? text.slice(0, cols - 1) : text;
  }
}
