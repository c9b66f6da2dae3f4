/**
 * The discrete adjoint as a tfjs custom gradient.
 *
 * Forward (tape off): an ordinary adaptive solve that keeps the state at the start of every
 * accepted step, and returns one packed tensor:
 *   [ states at the output times (flattened) | E_1..E_N | S_1..S_N ]
 * where E_j and S_j are the scaled error and stiffness estimates of accepted step j.
 *
 * Backward: the exact reverse pass of that discrete solve with the accepted step sizes held
 * constant. For j = N..1 it recomputes step j from its stored start state with tfjs ops and takes
 * one vector–Jacobian product of (y_{j+1}, E_j, S_j) against their cotangents, which gives the
 * cotangent of y_j and adds to the parameter gradients. Memory: one state per accepted step plus
 * one step's activations at a time. Rejected steps and controller arithmetic cost nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ResolvedOptions } from '../solvers/options';
import { getTableau } from '../solvers/registry';
import { rkStepTensor } from '../solvers/rk_stepper';
import { solveResolved } from '../solvers/solve';
import { SolveStats } from '../solvers/stats';
import { vjp } from './vjp';

/** A vector field with explicit parameters: gradients are taken with respect to `params`. */
export type ParametricField = (t: number, y: tf.Tensor, params: readonly tf.Tensor[]) => tf.Tensor;

/** What the last forward and backward passes of an op measured. */
export interface AdjointRecord {
  /** Statistics of the last forward solve. */
  forward: SolveStats | null;
  /** Vector-field evaluations of the last backward pass. */
  nfeBackward: number;
}

/** Layout of the packed output of one call. */
export interface PackedLayout {
  /** Number of output times. */
  nOut: number;
  /** Elements in one state. */
  stateSize: number;
  /** Accepted steps. */
  nSteps: number;
}

export function unpack(
  packed: tf.Tensor,
  layout: PackedLayout,
  stateShape: number[],
): { states: tf.Tensor[]; error: tf.Tensor1D; stiffness: tf.Tensor1D } {
  const { nOut, stateSize, nSteps } = layout;
  const states: tf.Tensor[] = [];
  for (let i = 0; i < nOut; i++) states.push(tf.reshape(tf.slice(packed, i * stateSize, stateSize), stateShape));
  const error = tf.slice(packed, nOut * stateSize, nSteps) as tf.Tensor1D;
  const stiffness = tf.slice(packed, nOut * stateSize + nSteps, nSteps) as tf.Tensor1D;
  return { states, error, stiffness };
}

/**
 * Builds `op(x, ...params) -> packed` with the discrete-adjoint gradient. `record` receives the
 * statistics of each pass; `layout` of the last forward pass is returned by `lastLayout()`.
 */
export function discreteAdjoint(
  field: ParametricField,
  opts: ResolvedOptions,
  record: AdjointRecord = { forward: null, nfeBackward: 0 },
): {
  op: (x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;
  lastLayout: () => PackedLayout;
  record: AdjointRecord;
  /** Times the next forward solve must step exactly onto (used once, then cleared). */
  setNextStops: (stops: number[]) => void;
} {
  const tab = getTableau(opts.solver);
  const tol = { atol: opts.atol, rtol: opts.rtol };
  let layout: PackedLayout = { nOut: 0, stateSize: 0, nSteps: 0 };
  let nextStops: number[] = [];

  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x, ...params] = args as tf.Tensor[];
    const f = (t: number, y: tf.Tensor): tf.Tensor => field(t, y, params);
    const stops = nextStops;
    nextStops = [];
    const { ys, stats, stepStates, outputStep } = solveResolved(f, x, stops.length ? { ...opts, tstops: stops } : opts, true);
    record.forward = stats;
    const n = stats.nAccepted;
    layout = { nOut: ys.length, stateSize: x.size, nSteps: n };
    const packed = tf.concat([
      ...ys.map((y) => tf.reshape(y, [-1])),
      tf.tensor1d(n > 0 && stats.errorEstimate.length === n ? stats.errorEstimate : new Array<number>(n).fill(0)),
      tf.tensor1d(n > 0 && stats.stiffnessEstimate.length === n ? stats.stiffnessEstimate : new Array<number>(n).fill(0)),
    ]);
    tf.dispose(ys);
    // save() keeps clones (sharing data) when the tape is on and nothing otherwise.
    save(stepStates);
    tf.dispose(stepStates);

    // Plain numbers for the reverse sweep.
    const t = stats.t.slice();
    const dt = stats.dt.slice();
    const outLayout = { ...layout };

    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const { nOut, stateSize, nSteps } = outLayout;
      const dyStates = tf.split(tf.slice(dy, 0, nOut * stateSize), nOut).map((d) => tf.reshape(d, x.shape));
      const dyRest = tf.slice(dy, nOut * stateSize, 2 * nSteps).dataSync();
      const dE = Array.from(dyRest.subarray(0, nSteps));
      const dS = Array.from(dyRest.subarray(nSteps));
      let lambda: tf.Tensor = tf.zerosLike(x);
      let pGrads: tf.Tensor[] = params.map((p) => tf.zerosLike(p));
      const addOutputs = (j: number): void => {
        // Output i is the state at the end of accepted step outputStep[i] (−1: the initial state).
        outputStep.forEach((e, i) => {
          if (e !== j) return;
          const next = tf.add(lambda, dyStates[i]);
          lambda.dispose();
          lambda = next;
        });
      };
      let nfe = 0;
      const counted = (tt: number, y: tf.Tensor): tf.Tensor => {
        nfe++;
        return field(tt, y, params);
      };
      for (let j = nSteps - 1; j >= 0; j--) {
        addOutputs(j);
        const yj = saved[j];
        const lam = lambda;
        const want = { error: dE[j] !== 0, stiffness: dS[j] !== 0 };
        const [gy, ...gp] = vjp(() => {
          const r = rkStepTensor(tab, counted, t[j], yj, dt[j], tol, want);
          let obj = tf.sum(tf.mul(r.y1, lam));
          if (r.error) obj = tf.add(obj, tf.mul(r.error, dE[j]));
          if (r.stiffness) obj = tf.add(obj, tf.mul(r.stiffness, dS[j]));
          return obj as tf.Scalar;
        }, [yj, ...params]);
        lambda.dispose();
        lambda = gy;
        const summed = pGrads.map((g, i) => tf.add(g, gp[i]));
        tf.dispose([...pGrads, ...gp]);
        pGrads = summed;
      }
      addOutputs(-1);
      record.nfeBackward = nfe;
      return [lambda, ...pGrads];
    };
    return { value: packed, gradFunc };
  }) as (x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;

  return { op, lastLayout: () => layout, record, setNextStops: (stops) => void (nextStops = stops.slice()) };
}
