/**
 * Observation times given as data: the second input of a DE layer applied to `[state, times]`.
 * The times are read on the host at call time and checked here; the layer then solves with them as
 * that call's output times (like the `saveat` option, but per call).
 *
 * A grid is a 1-D tensor `[T]`, or `[batch, T]` with the same grid on every row (what a model's
 * second input holds: `model.fit` and `predict` split every input along its first axis). Samples not
 * observed at some of the times are handled by masks in the loss, not by the layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '../errors';

const FLOAT32_EPS = 2 ** -23;

/** Checks the symbolic shape of a times input (build time): rank 1 `[T]` or rank 2 `[batch, T]`. */
export function checkTimesShape(who: string, shape: tfl.Shape): void {
  if (shape.length !== 1 && shape.length !== 2) {
    throw new InvalidArgumentError(
      `${who}: the times input must be 1-D [T] or [batch, T] (one grid repeated on every row), got shape [${shape.map((d) => (d == null ? 'null' : d))}]. ` +
        'In a model use tf.input({shape: [T]}) or tf.input({shape: [null]}).',
    );
  }
}

/**
 * The output times a times tensor holds, checked: rank 1 or 2 with equal rows, non-empty, finite,
 * strictly increasing in the direction of [t0, t1] and inside it.
 */
export function readTimes(who: string, times: tf.Tensor, t0: number, t1: number): number[] {
  if (times.rank !== 1 && times.rank !== 2) {
    throw new InvalidArgumentError(`${who}: times must be a 1-D tensor [T] (or [batch, T] with one grid on every row), got shape [${times.shape}].`);
  }
  const T = times.shape[times.rank - 1];
  const rows = times.rank === 2 ? times.shape[0] : 1;
  if (T === 0 || rows === 0) throw new InvalidArgumentError(`${who}: times is empty (shape [${times.shape}]); give at least one output time.`);
  const v = times.dataSync();
  const grid = Array.from(v.subarray(0, T));
  for (let r = 1; r < rows; r++) {
    for (let i = 0; i < T; i++) {
      const x = v[r * T + i];
      if (x !== grid[i] && !(Number.isNaN(x) && Number.isNaN(grid[i]))) {
        throw new InvalidArgumentError(
          `${who}: every row of a [batch, T] times input must hold the same grid; row ${r} differs from row 0 at index ${i} (${x} vs ${grid[i]}). ` +
            'Use the union of the samples’ times as one grid and mark unobserved entries with a mask.',
        );
      }
    }
  }
  const direction = t1 > t0 ? 1 : -1;
  // float32 times that round an end of tspan (e.g. 0.3 → 0.30000001) count as that end
  const snap = (s: number, end: number): number => (Math.abs(s - end) <= FLOAT32_EPS * Math.max(1, Math.abs(end)) ? end : s);
  for (let i = 0; i < grid.length; i++) grid[i] = snap(snap(grid[i], t0), t1);
  grid.forEach((s, i) => {
    if (!Number.isFinite(s))
      throw new InvalidArgumentError(`${who}: times must be finite; entry ${i} is ${s}. Drop or fill missing times (masks mark missing values).`);
    if ((s - t0) * direction < 0 || (s - t1) * direction > 0) {
      throw new InvalidArgumentError(`${who}: time entry ${i} (${s}) lies outside tspan [${t0}, ${t1}]; rescale the times or widen the layer's tspan.`);
    }
    if (i > 0 && (s - grid[i - 1]) * direction <= 0) {
      throw new InvalidArgumentError(
        `${who}: times must be strictly ${direction > 0 ? 'increasing' : 'decreasing'} (the direction of tspan); entries ${i - 1} and ${i} are ${grid[i - 1]} and ${s}. Sort them and merge duplicates.`,
      );
    }
  });
  return grid;
}
