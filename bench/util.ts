/** Shared helpers for the benchmarks: CLI options, backend setup, timing, medians and tables. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

export const ALL_BACKENDS = ['cpu', 'wasm'] as const;
export type BackendName = (typeof ALL_BACKENDS)[number];

export interface BenchOptions {
  /** Backends to run, in order. */
  backends: BackendName[];
  /** Only the headline configuration of each section. */
  quick: boolean;
  /** Section names to run; empty = all. */
  sections: string[];
}

const usage = (sections: readonly string[]): string => `usage: npm run bench -- [--backend cpu|wasm[,..]] [--quick] [--section NAME[,..]]
  --backend   backends to run (repeatable or comma-separated; default: cpu,wasm)
  --quick     only the headline configuration (batch 64, width 32)
  --section   sections to run (default: all)${sections.length > 0 ? `: ${sections.join(', ')}` : ''}
Peer sides (torchdiffeq, torchsde) run when their scripts and packages are found: PEER_DIR (default
../shared/peers), PEER_TORCHDIFFEQ / PEER_TORCHSDE (default PEER_DIR/vendor), PYTHON (default /usr/bin/python3).`;

/** Parses `--backend wasm`, `--backend=cpu,wasm`, `--quick`, `--section solver`. Exits on bad input. */
export function parseArgs(argv: readonly string[], sectionNames: readonly string[] = []): BenchOptions {
  const USAGE = usage(sectionNames);
  const backends: BackendName[] = [];
  const sections: string[] = [];
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string[] => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) usageError(`${flag} needs a value`, USAGE);
      return v.split(',').filter((s) => s.length > 0);
    };
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--backend':
        for (const b of value()) {
          if (!(ALL_BACKENDS as readonly string[]).includes(b)) usageError(`unknown backend '${b}' (expected ${ALL_BACKENDS.join(', ')})`, USAGE);
          if (!backends.includes(b as BackendName)) backends.push(b as BackendName);
        }
        break;
      case '--section':
        sections.push(...value());
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        usageError(`unknown argument '${arg}'`, USAGE);
    }
  }
  return { backends: backends.length > 0 ? backends : [...ALL_BACKENDS], quick, sections };
}

function usageError(msg: string, usageText: string): never {
  console.error(`bench: ${msg}\n${usageText}`);
  process.exit(2);
}

/**
 * Switches tfjs to `name` and waits for it. The first tensor write on the `cpu` backend prints an
 * advertisement for tfjs-node; it is swallowed here (only that message) so the tables stay readable.
 */
export async function useBackend(name: BackendName): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`Could not initialise the tfjs backend '${name}'.`);
  await tf.ready();
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!args.some((a) => typeof a === 'string' && a.includes('tfjs-node'))) warn(...args);
  };
  try {
    tf.tidy(() => tf.scalar(0).dataSync());
  } finally {
    console.warn = warn;
  }
}

export function now(): number {
  return performance.now();
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface MeasureOptions {
  /** Untimed calls before measuring (at least). Default 1. */
  warmup?: number;
  /** Keep warming up until this much time (ms) has passed, so the JIT has settled. Default 100. */
  warmupMs?: number;
  /** Keep sampling until this much time (ms) has been measured... Default 300. */
  minTimeMs?: number;
  /** ...and at least this many samples. Default 5. */
  minSamples?: number;
  /** Never more than this many samples. Default 1000. */
  maxSamples?: number;
  /** Each sample runs `fn` enough times in a row to last at least this long (ms). Default 0 (one call per sample). */
  minSampleMs?: number;
}

/**
 * Exactly `n` timed samples of one call each, after `warmup` untimed calls (and `warmupMs` of untimed calls): what
 * the peer scripts' `time_call(fn, repeats=n)` takes, so that minima and medians compare like with like.
 */
export function exactSamples(n: number, warmupMs = 0, warmup = 1): MeasureOptions {
  return { warmup, warmupMs, minTimeMs: 0, minSamples: n, maxSamples: n };
}

export interface Measurement {
  /** Median time of one call, ms. */
  medianMs: number;
  /** Time of one call in each sample, ms. */
  samplesMs: number[];
  /** Calls per sample. */
  callsPerSample: number;
}

interface Timer {
  fn: () => void;
  calls: number;
  samplesMs: number[];
  totalMs: number;
}

function prepare(fn: () => void, opts: MeasureOptions): Timer {
  const { warmup = 1, warmupMs = 100, minSampleMs = 0 } = opts;
  const w0 = now();
  for (let i = 0; i < warmup || now() - w0 < warmupMs; i++) fn();
  let calls = 1;
  if (minSampleMs > 0) {
    // Calibrate the group size from a single timed call.
    const t0 = now();
    fn();
    const one = Math.max(now() - t0, 1e-3);
    calls = Math.max(1, Math.ceil(minSampleMs / one));
  }
  return { fn, calls, samplesMs: [], totalMs: 0 };
}

function sample(t: Timer): void {
  const t0 = now();
  for (let i = 0; i < t.calls; i++) t.fn();
  const dt = now() - t0;
  t.totalMs += dt;
  t.samplesMs.push(dt / t.calls);
}

function done(t: Timer, opts: MeasureOptions): boolean {
  const { minTimeMs = 300, minSamples = 5, maxSamples = 1000 } = opts;
  return t.samplesMs.length >= maxSamples || (t.totalMs >= minTimeMs && t.samplesMs.length >= minSamples);
}

function result(t: Timer): Measurement {
  return { medianMs: median(t.samplesMs), samplesMs: t.samplesMs, callsPerSample: t.calls };
}

/**
 * Times `fn` adaptively: after a warm-up (`warmup` calls and `warmupMs`), samples until `minTimeMs`
 * has been measured and at least `minSamples` samples were taken. Short calls are grouped so that
 * one sample lasts `minSampleMs`.
 */
export function measure(fn: () => void, opts: MeasureOptions = {}): Measurement {
  const t = prepare(fn, opts);
  while (!done(t, opts)) sample(t);
  return result(t);
}

/**
 * Times several functions with their samples interleaved round-robin, so that all of them see the
 * same machine load (on a shared machine this keeps ratios between them far steadier than timing
 * one after the other). Each function keeps sampling until its own options are satisfied.
 */
export function measureInterleaved(jobs: readonly { fn: () => void; opts?: MeasureOptions }[]): Measurement[] {
  const timers = jobs.map((j) => prepare(j.fn, j.opts ?? {}));
  for (;;) {
    const pending = timers.filter((t, i) => !done(t, jobs[i].opts ?? {}));
    if (pending.length === 0) break;
    for (const t of pending) sample(t);
  }
  return timers.map(result);
}

export type Align = 'left' | 'right';

/** Prints a plain-text table; numbers should already be formatted as strings. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): void {
  const widths = headers.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const pad = (s: string, j: number): string => ((align?.[j] ?? 'right') === 'left' ? s.padEnd(widths[j]) : s.padStart(widths[j]));
  console.log(headers.map(pad).join('  '));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(r.map(pad).join('  '));
}

/** Formats a number with `digits` significant decimals after the point, for tables. */
export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** Log-log interpolation of `y` at error `err` along a curve of (err, y) points; NaN outside its range. */
export function atError(curve: readonly { err: number; y: number }[], err: number): number {
  const pts = curve.filter((c) => c.err > 0 && Number.isFinite(c.err)).sort((a, b) => a.err - b.err);
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i];
    const b = pts[i + 1];
    if (err >= a.err && err <= b.err) {
      if (a.err === b.err) return Math.min(a.y, b.y);
      const w = Math.log(err / a.err) / Math.log(b.err / a.err);
      return Math.exp(Math.log(a.y) + w * Math.log(b.y / a.y));
    }
  }
  return pts.length === 1 && pts[0].err === err ? pts[0].y : NaN;
}
