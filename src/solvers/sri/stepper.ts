/**
 * SDE methods as `Stepper`s over a term that bundles the drift, the diagonal diffusion and a Brownian
 * path. A step from t with step h queries W and the space-time Lévy area over [t, t + h] from the
 * path; a rejected step retried with a smaller h queries a sub-interval of the same path, so rejection
 * never redraws the noise (no bias; Rackauckas & Nie 2017). Only forward time (h > 0) is supported.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BrownianPath } from '../../noise/path';
import { chooseArithmetic, StateArithmetic, tensorArithmetic } from '../core/arithmetic';
import { sriStepHost } from './host_step';
import { InvalidArgumentError } from '../../errors';
import { StepAttempt, Stepper, VectorField } from '../core/stepper';
import { eulerMaruyamaStep } from './euler_maruyama';
import { sdeInitialStep } from './initial_step';
import { sriStep } from './step';
import { SriTableau } from './tableau';

/**
 * What an SDE stepper integrates: dy = drift(t, y) dt + diffusion(t, y) ⊙ dW(t), with W the Brownian
 * path `brownian` (shaped like y, covering the integration interval). The fields count their own
 * evaluations and check what they return.
 */
export interface SdeTerm {
  readonly drift: VectorField;
  readonly diffusion: VectorField;
  readonly brownian: BrownianPath;
  /**
   * Keeps each step's increments as the forward solve used them, so that the discrete adjoint's replay
   * reads them instead of querying the path again (optional; without it every replay re-queries).
   */
  readonly noise?: StepNoiseRecord;
}

/** One step's increments in float32, as the stepper uses them. */
export interface RecordedNoise {
  readonly u: number;
  readonly dW: Float32Array;
  readonly dZ: Float32Array | undefined;
}

/**
 * The increments of the last attempt from each start time t. A rejected attempt is retried from the same
 * t with a smaller step and replaces the record, so after a solve the records are those of the accepted
 * steps: two state-sized float32 arrays per step, which the reverse pass reads back.
 */
export class StepNoiseRecord {
  private readonly byStart = new Map<number, RecordedNoise>();

  /** The recorded increments over [t, u] (null when that interval was not the last attempt from t). */
  get(t: number, u: number, withDZ: boolean): RecordedNoise | null {
    const r = this.byStart.get(t);
    return r !== undefined && r.u === u && (!withDZ || r.dZ !== undefined) ? r : null;
  }

  set(t: number, noise: RecordedNoise): void {
    this.byStart.set(t, noise);
  }

  /** Steps recorded. */
  get size(): number {
    return this.byStart.size;
  }
}

/** SDE steppers carry nothing from one step to the next. */
export type SriState = null;

/** 2√3: dZ = 2√3·H has variance h when the space-time Lévy area H has variance h/12. */
const LEVY_TO_DZ = 2 * Math.sqrt(3);

/** The Brownian noise of one step as float32 tensors shaped like the state. */
export interface StepNoise {
  /** W(t + h) − W(t). */
  readonly dW: tf.Tensor;
  /** 2√3·H, independent of dW with variance h (present when requested). */
  readonly dZ?: tf.Tensor;
}

/**
 * The increments of `brownian` over [t, t + h] as float32 arrays (dZ = 2√3·H when asked for). The end is clamped
 * to the path's end, which a step clipped onto t1 may overshoot by a rounding error. With a `record`, an interval
 * recorded earlier is read from it (no path query) and a new one is recorded; the arrays are then the record's
 * (do not modify them). Throws `InvalidArgumentError` for h ≤ 0 (SDE solves run forward in time) or a path of the
 * wrong size.
 */
export function stepNoiseArrays(brownian: BrownianPath, t: number, h: number, size: number, withDZ: boolean, record?: StepNoiseRecord): RecordedNoise {
  if (!(h > 0)) {
    throw new InvalidArgumentError(`SDE steps run forward in time only, got a step dt=${h} from t=${t}: give tspan as [t0, t1] with t0 < t1.`);
  }
  if (brownian.size !== size) {
    throw new InvalidArgumentError(
      `The Brownian path has ${brownian.size} elements (shape [${brownian.shape}]) but the state has ${size}: build it with the state's shape.`,
    );
  }
  const u = Math.min(t + h, brownian.t1);
  let noise = record?.get(t, u, withDZ) ?? null;
  if (noise === null) {
    const { dW, H } = brownian.increment(t, u);
    let dZ: Float32Array | undefined;
    if (withDZ) {
      dZ = new Float32Array(size);
      for (let i = 0; i < size; i++) dZ[i] = LEVY_TO_DZ * H[i];
    }
    noise = { u, dW: Float32Array.from(dW), dZ };
    record?.set(t, noise);
  }
  return noise;
}

/** The increments of `stepNoiseArrays` as tensors of `shape` (the caller disposes them). */
export function stepNoise(brownian: BrownianPath, t: number, h: number, shape: number[], withDZ: boolean, record?: StepNoiseRecord): StepNoise {
  const noise = stepNoiseArrays(
    brownian,
    t,
    h,
    shape.reduce((a, b) => a * b, 1),
    withDZ,
    record,
  );
  // recorded arrays are copied into the tensors: a backend may keep the array it is given
  const own = (a: Float32Array): Float32Array => (record ? a.slice() : a);
  const w = tf.tensor(own(noise.dW), shape, 'float32');
  if (!withDZ) return { dW: w };
  return { dW: w, dZ: tf.tensor(own(noise.dZ!), shape, 'float32') };
}

/**
 * The dense output of an SDE step: y + θ·(y1 − y), linear between the accepted states (StochasticDiffEq's
 * interpolation of SDE solutions), differentiable in y and y1.
 */
export function linearDense(y: tf.Tensor, y1: tf.Tensor, thetas: readonly number[] | undefined): tf.Tensor[] | undefined {
  if (!thetas || thetas.length === 0) return undefined;
  return tf.tidy(() => {
    const dy = tf.sub(y1, y);
    return thetas.map((theta) => tf.add(y, tf.mul(dy, theta)));
  });
}

/** True when no element is NaN or ±Infinity (host loops on cpu/wasm, tensor ops elsewhere). */
function allFinite(x: tf.Tensor): boolean {
  return chooseArithmetic('auto', x.size).allFinite(x);
}

/**
 * An adaptive SRI method (SOSRI, SOSRI2, SRIW1) as a `Stepper`. Each attempt makes `tab.evaluationsPerStep`
 * drift and diffusion evaluations. With host arithmetic (cpu, and wasm for small states) the step's arithmetic
 * runs on host arrays (`sriStepHost`, the same bits as the tensor step); otherwise it runs as tfjs ops with one
 * read-back of a small packed tensor (the error estimate, the stiffness estimate when the tableau has one, and
 * whether y1 is finite). The replay for the discrete adjoint is always the tensor step.
 */
export function sriStepper(tab: SriTableau, adaptive = true, arithmetic: Pick<StateArithmetic, 'kind'> = tensorArithmetic): Stepper<SdeTerm, SriState> {
  const hasStiffness = tab.stiffnessStages !== undefined;
  return {
    name: tab.name,
    order: tab.order,
    adaptive,
    hasStiffness,
    stabilitySize: tab.stabilitySize,
    denseOutput: true,

    init: () => ({ state: null }),

    initialStep(term, t0, y0, f0, direction, tol, dtmin, dtmax) {
      return sdeInitialStep(term.drift, term.diffusion, t0, y0, f0, direction, tab.order, tol, dtmin, dtmax);
    },

    step(term, t, y, dt, _state, tol, request): StepAttempt<SriState> {
      if (arithmetic.kind === 'host') {
        const { dW, dZ } = stepNoiseArrays(term.brownian, t, dt, y.size, true, term.noise);
        const r = sriStepHost(tab, term.drift, term.diffusion, t, y, dt, dW, dZ!, tol, { error: true, stiffness: hasStiffness });
        // A y1 that overflowed to ±Infinity can still give a finite scaled error (x/∞ = 0): reject it.
        return { y1: r.y1, dense: linearDense(y, r.y1, request?.thetas), state: null, error: r.finite ? r.error! : NaN, stiffness: r.stiffness };
      }
      const { dW, dZ } = stepNoise(term.brownian, t, dt, y.shape, true, term.noise);
      let y1: tf.Tensor | undefined;
      try {
        const r = sriStep(tab, term.drift, term.diffusion, t, y, dt, dW, dZ as tf.Tensor, tol, { error: true, stiffness: hasStiffness });
        y1 = r.y1;
        const packed = tf.tidy(() => tf.stack([r.error as tf.Scalar, r.stiffness ?? tf.scalar(0), tf.cast(tf.all(tf.isFinite(r.y1)), 'float32')]));
        tf.dispose([r.error, r.stiffness, r.stiffnessReliable]);
        const v = packed.dataSync();
        packed.dispose();
        const error = v[2] === 1 ? v[0] : NaN;
        const attempt: StepAttempt<SriState> = {
          y1,
          dense: linearDense(y, y1, request?.thetas),
          state: null,
          error,
          stiffness: hasStiffness ? v[1] : undefined,
        };
        y1 = undefined;
        return attempt;
      } finally {
        y1?.dispose();
        dW.dispose();
        dZ?.dispose();
      }
    },

    // The discrete adjoint's differentiable replay: the same step, re-querying the same increments
    // (the path returns identical values for the same interval), reusing the forward stiffness decision.
    replay(term, t, y, dt, tol, want) {
      const { dW, dZ } = stepNoise(term.brownian, t, dt, y.shape, true, term.noise);
      const reliable = want.stiffness && want.stiffnessActive !== undefined ? tf.scalar(want.stiffnessActive, 'bool') : undefined;
      const r = sriStep(tab, term.drift, term.diffusion, t, y, dt, dW, dZ as tf.Tensor, tol, {
        error: want.error,
        stiffness: want.stiffness,
        stiffnessReliable: reliable,
      });
      return { y1: r.y1, dense: linearDense(y, r.y1, want.thetas), error: r.error, stiffness: r.stiffness };
    },

    disposeState: () => undefined,
    allFinite,
  };
}

/**
 * Euler–Maruyama (strong order 1/2) as a fixed-step `Stepper`: no error estimate, so the solve needs
 * `dt0`; an attempt reports error 0 for a finite new state and NaN otherwise. One drift and one
 * diffusion evaluation per step.
 */
export function eulerMaruyamaStepper(): Stepper<SdeTerm, SriState> {
  const order = 0.5;
  return {
    name: 'euler_maruyama',
    order,
    adaptive: false,
    hasStiffness: false,
    denseOutput: true,

    init: () => ({ state: null }),

    initialStep(term, t0, y0, f0, direction, tol, dtmin, dtmax) {
      return sdeInitialStep(term.drift, term.diffusion, t0, y0, f0, direction, order, tol, dtmin, dtmax);
    },

    step(term, t, y, dt, _state, _tol, request): StepAttempt<SriState> {
      const { dW } = stepNoise(term.brownian, t, dt, y.shape, false, term.noise);
      try {
        const { y1 } = eulerMaruyamaStep(term.drift, term.diffusion, t, y, dt, dW);
        return { y1, dense: linearDense(y, y1, request?.thetas), state: null, error: allFinite(y1) ? 0 : NaN };
      } finally {
        dW.dispose();
      }
    },

    replay(term, t, y, dt, _tol, want) {
      const { y1 } = eulerMaruyamaStep(term.drift, term.diffusion, t, y, dt, stepNoise(term.brownian, t, dt, y.shape, false, term.noise).dW);
      return { y1, dense: linearDense(y, y1, want.thetas) };
    },

    disposeState: () => undefined,
    allFinite,
  };
}
