/**
 * The states a solve returns at its output times, and where each one came from: the initial
 * state, the end of an accepted step, or the dense output of an accepted step at a fraction θ of
 * it. The integration loop asks which output times fall strictly inside a step before attempting
 * it (so the step evaluates its dense output there) and hands over what an accepted step produced.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Where an output comes from: accepted step `step` (−1: the initial state) at fraction `theta` (1: its end state). */
export interface OutputSource {
  readonly step: number;
  readonly theta: number;
}

export class OutputRecorder {
  /** The states recorded so far, in time order (owned by the recorder until handed out). */
  readonly ys: tf.Tensor[] = [];
  readonly ts: number[] = [];
  readonly sources: OutputSource[] = [];
  private next = 0;

  /** `times` in integration order (the saveat times, or [t1]). */
  constructor(
    private readonly times: readonly number[],
    private readonly direction: 1 | -1,
  ) {}

  /** True when every output time has its state. */
  get complete(): boolean {
    return this.next === this.times.length;
  }

  /** The last output time. */
  get lastTime(): number {
    return this.times[this.times.length - 1];
  }

  /** Records (a copy of) the initial state for the output times equal to t0. */
  start(t0: number, y0: tf.Tensor): void {
    while (this.next < this.times.length && this.times[this.next] === t0) this.record(tf.clone(y0), { step: -1, theta: 1 });
  }

  /**
   * The fractions θ = (s − t)/h of the pending output times s strictly inside a step from t to
   * `tEnd` (= t + h, or the target the step was clipped to).
   */
  thetasInside(t: number, h: number, tEnd: number): number[] {
    const out: number[] = [];
    for (let i = this.next; i < this.times.length && (this.times[i] - tEnd) * this.direction < 0; i++) {
      out.push((this.times[i] - t) / h);
    }
    return out;
  }

  /**
   * Records what accepted step `step` (ending at `tEnd` with state `y1`) gives: the dense values
   * at `thetas` (from `thetasInside`; ownership passes to the recorder) and, when `tEnd` is an
   * output time, a copy of `y1`.
   */
  accept(step: number, tEnd: number, y1: tf.Tensor, thetas: readonly number[], dense: readonly tf.Tensor[]): void {
    if (dense.length !== thetas.length) {
      tf.dispose(dense as tf.Tensor[]);
      throw new Error(`internal: the step returned ${dense.length} dense output(s) for ${thetas.length} requested output time(s)`);
    }
    dense.forEach((d, i) => this.record(d, { step, theta: thetas[i] }));
    if (this.next < this.times.length && this.times[this.next] === tEnd) this.record(tf.clone(y1), { step, theta: 1 });
  }

  /** Frees every recorded state (on failure). */
  dispose(): void {
    tf.dispose(this.ys);
    this.ys.length = 0;
  }

  private record(y: tf.Tensor, source: OutputSource): void {
    this.ys.push(y);
    this.ts.push(this.times[this.next++]);
    this.sources.push(source);
  }
}
