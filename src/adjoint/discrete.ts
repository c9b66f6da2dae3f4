/**
 * The discrete adjoint as a tfjs custom gradient, for any stepper (ODE Runge–Kutta, SDE SRI).
 *
 * Forward (tape off): an ordinary adaptive solve that keeps the state at the start of every
 * accepted step, and returns one packed tensor:
 *   [ states at the output times (flattened) | E_1..E_N | S_1..S_N ]
 * where E_j and S_j are the scaled error and stiffness estimates of accepted step j.
 *
 * Backward: the exact reverse pass of that discrete solve with the accepted step sizes held
 * constant. For j = N..1 it recomputes step j from its stored start state with tfjs ops and takes
 * one vector–Jacobian product of (y_{j+1}, E_j, S_j, and the dense outputs y(θ_i) of the output
 * times inside step j) against their cotangents, which gives the cotangent of y_j and adds to the
 * parameter gradients. A dense output is a fixed combination y + dt·Σ b_i(θ)·k_i of the step's
 * stages, so it is differentiated inside the same VJP. Steps after the last output whose E and S
 * carry no cotangent are skipped (nothing flows back through them). Memory: one state per
 * accepted step plus one step's activations at a time. Rejected steps and controller arithmetic
 * cost nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors';
import { gradientDepth } from '../tfjs_internals';
import { integrate, LoopOptions } from '../solvers/core/integrate';
import { resolveOptions, ResolvedOptions, SolveOptions } from '../solvers/options';
import { countedField } from '../solvers/core/fields';
import { checkState, stepperFor } from '../solvers/solve';
import { emptyStats, SolveStats } from '../solvers/core/stats';
import { Stepper, Tolerances, VectorField } from '../solvers/core/stepper';
import { FieldWithVjp } from './field_vjp';
import { rkStepReverse, StepCotangents } from './rk_reverse';
import { vjp } from './vjp';

/** A vector field with explicit parameters: gradients are taken with respect to `params`. */
export type ParametricField = (t: number, y: tf.Tensor, params: readonly tf.Tensor[]) => tf.Tensor;

/** What the last forward and backward passes of an op measured. */
export interface AdjointRecord {
  /** Statistics of the last forward solve. */
  forward: SolveStats | null;
  /** Vector-field evaluations of the last backward pass. */
  nfeBackward: number;
  /** Statistics of the last backward pass's evaluations (e.g. an SDE's diffusion count); absent before one. */
  backward?: SolveStats;
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

export function unpack(packed: tf.Tensor, layout: PackedLayout, stateShape: number[]): { states: tf.Tensor[]; error: tf.Tensor1D; stiffness: tf.Tensor1D } {
  const { nOut, stateSize, nSteps } = layout;
  const states: tf.Tensor[] = [];
  for (let i = 0; i < nOut; i++) states.push(tf.reshape(tf.slice(packed, i * stateSize, stateSize), stateShape));
  const error = tf.slice(packed, nOut * stateSize, nSteps) as tf.Tensor1D;
  const stiffness = tf.slice(packed, nOut * stateSize + nSteps, nSteps) as tf.Tensor1D;
  return { states, error, stiffness };
}

const HIGHER_ORDER =
  'Higher-order gradients (a gradient of a gradient) through the discrete adjoint are not supported: its reverse pass is not itself differentiable. Take first-order gradients only (model.fit, tf.grads, optimizer.minimize).';

/**
 * What the adjoint needs to know about a differential equation: how to step it and how to bind
 * parameters. `Arg` is what a caller passes with each call (for an SDE layer: the path seed and whether
 * the call trains); `Ctx` is per-call state made from it, shared by a forward solve and its reverse pass
 * (for an SDE, the Brownian path and the record of the increments the steps used).
 */
export interface AdjointSystem<Term, Ctx, Arg = undefined> {
  /** The stepper for a state like `x` (its arithmetic may depend on the state's size). */
  stepper(x: tf.Tensor): Stepper<Term, unknown>;
  /** Starts a call with the caller's argument for it. */
  begin(x: tf.Tensor, arg: Arg): Ctx;
  /** The term with `params` bound; its evaluations are counted into `stats` (drift into `nfe`). */
  term(ctx: Ctx, params: readonly tf.Tensor[], stats: SolveStats): Term;
  /** A fresh statistics record (default `emptyStats()`; SDEs add a diffusion count). */
  newStats?(): SolveStats;
  /**
   * A hand-written reverse of one accepted step (cotangents of y1, E, S → of y and of the
   * parameters), used instead of tfjs autodiff through `replay` when it returns a result (null:
   * it cannot serve these parameters).
   */
  reverse?(
    params: readonly tf.Tensor[],
    t: number,
    y: tf.Tensor,
    dt: number,
    tol: Tolerances,
    ct: StepCotangents,
  ): { dy: tf.Tensor; dParams: tf.Tensor[]; nfe: number } | null;
}

/**
 * The ODE y' = field(t, y, params) solved with an explicit Runge–Kutta method. When `fieldVjp()`
 * gives the same field with a hand-written pullback whose parameter cotangents follow `params`
 * (checked by count), the reverse pass uses the hand-written reverse of each step instead of tfjs
 * autodiff.
 */
export function odeSystem(
  field: ParametricField,
  opts: ResolvedOptions,
  fieldVjp?: () => { field: FieldWithVjp; paramCount: number } | null,
): AdjointSystem<VectorField, undefined> {
  const tab = opts.method.tableau;
  return {
    stepper: (x) => stepperFor(opts.method, opts, x.size),
    begin: () => undefined,
    term: (_ctx, params, stats) => countedField((t, y) => field(t, y, params), 'field', stats),
    reverse: fieldVjp
      ? (params, t, y, dt, tol, ct) => {
          const hand = fieldVjp();
          if (!hand || hand.paramCount !== params.length) return null;
          let nfe = 0;
          const out = tf.tidy(() => {
            const r = rkStepReverse(tab, hand.field, t, y, dt, tol, ct);
            nfe = r.nfe;
            return { dy: r.dy, dParams: r.dParams };
          });
          return { ...out, nfe };
        }
      : undefined,
  };
}

/** What one call of the op is given besides the state and the parameters. */
export interface CallContext<Arg> {
  /** Times this call's forward solve must step exactly onto (e.g. a sampled regularization time). */
  readonly stops?: readonly number[];
  /** The system's per-call argument (see `AdjointSystem.begin`). */
  readonly arg: Arg;
  /** The first step size of this call's solve, instead of the options' `dt0` or the initial-step heuristic. */
  readonly dt0?: number;
}

/** The packed op and what it exposes to the layer (internal: takes resolved options). */
export interface PackedAdjointOp<Arg = undefined> {
  op: (call: CallContext<Arg>, x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;
  lastLayout: () => PackedLayout;
  record: AdjointRecord;
}

/**
 * Builds `op(call, x, ...params) -> packed` with the discrete-adjoint gradient; everything a call
 * needs besides tensors comes in `call`. `record` receives the statistics of each pass; `layout` of
 * the last forward pass is returned by `lastLayout()`.
 *
 * Parameters that are `tf.Variable`s are read live in the reverse pass; any other parameter
 * tensor is saved with the op (it may be an intermediate that the forward scope disposes).
 */
export function discreteAdjointOp<Term, Ctx, Arg = undefined>(
  system: AdjointSystem<Term, Ctx, Arg>,
  opts: LoopOptions,
  record: AdjointRecord = { forward: null, nfeBackward: 0 },
): PackedAdjointOp<Arg> {
  // the reverse pass scales the error estimates with the controller's tolerances, as the forward steps did
  const tol: Tolerances = opts.controller;
  let layout: PackedLayout = { nOut: 0, stateSize: 0, nSteps: 0 };
  // The context of the call in progress: tf.customGrad passes only tensors, so `op` hands it to the
  // gradient function for the duration of one synchronous call.
  let current: CallContext<Arg> | null = null;

  const withGradient = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x, ...params] = args as tf.Tensor[];
    if (gradientDepth() > 1) throw new InvalidArgumentError(HIGHER_ORDER);
    if (current === null) throw new Error('internal: the discrete adjoint op was called without its call context');
    const stops = current.stops ?? [];
    const arg = current.arg;
    const loopOptions: LoopOptions = { ...opts, dt0: current.dt0 ?? opts.dt0, ...(stops.length ? { tstops: stops } : {}) };
    const stepper = system.stepper(x);
    const replay = stepper.replay;
    if (!replay) throw new Error(`internal: stepper '${stepper.name}' cannot replay steps for the discrete adjoint`);
    const ctx = system.begin(x, arg);
    const stats = system.newStats?.() ?? emptyStats();
    const forwardTerm = system.term(ctx, params, stats);
    const { ys, stepStates, outputStep, outputTheta } = integrate(stepper, forwardTerm, x, loopOptions, stats, true);
    record.forward = stats;
    const n = stats.nAccepted;
    layout = { nOut: ys.length, stateSize: x.size, nSteps: n };
    const packed = tf.concat([
      ...ys.map((y) => tf.reshape(y, [-1])),
      tf.tensor1d(n > 0 && stats.errorEstimate.length === n ? stats.errorEstimate : new Array<number>(n).fill(0)),
      tf.tensor1d(n > 0 && stats.stiffnessEstimate.length === n ? stats.stiffnessEstimate : new Array<number>(n).fill(0)),
    ]);
    tf.dispose(ys);
    // save() keeps clones (sharing data) when the tape is on and nothing otherwise. Variables stay
    // alive with their layer; other parameters may be intermediates of the caller's forward scope.
    const plainParams = params.filter((p) => !(p instanceof tf.Variable));
    save([...stepStates, ...plainParams]);
    tf.dispose(stepStates);

    // Plain numbers for the reverse sweep.
    const t = stats.t.slice();
    const dt = stats.dt.slice();
    // S_j not computed in the forward solve (not asked for) is packed as 0: its gradient is 0 too.
    const stiffnessActive = stats.stiffnessEstimate.length === n ? stats.stiffnessEstimate.map((s) => s !== 0) : new Array<boolean>(n).fill(false);
    const outLayout = { ...layout };
    const xShape = x.shape.slice();

    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      if (gradientDepth() > 0) throw new InvalidArgumentError(HIGHER_ORDER);
      const { nOut, stateSize, nSteps } = outLayout;
      let plainIndex = nSteps;
      const ps = params.map((p) => (p instanceof tf.Variable ? p : saved[plainIndex++]));
      const dyStates = tf.split(tf.slice(dy, 0, nOut * stateSize), nOut).map((d) => tf.reshape(d, xShape));
      const dyRest = tf.slice(dy, nOut * stateSize, 2 * nSteps).dataSync();
      const dE = Array.from(dyRest.subarray(0, nSteps));
      const dS = Array.from(dyRest.subarray(nSteps));
      let lambda: tf.Tensor = tf.zeros(xShape);
      // Whether λ may be nonzero: false until the last output's step (skips the steps after it).
      let lambdaLive = false;
      let pGrads: tf.Tensor[] = ps.map((p) => tf.zerosLike(p));
      const addOutputs = (j: number): void => {
        // Outputs that are the end state of accepted step j (−1: the initial state) add to λ.
        outputStep.forEach((e, i) => {
          if (e !== j || outputTheta[i] !== 1) return;
          const next = tf.add(lambda, dyStates[i]);
          lambda.dispose();
          lambda = next;
          lambdaLive = true;
        });
      };
      const backwardStats = system.newStats?.() ?? emptyStats();
      const term = system.term(ctx, ps, backwardStats);
      for (let j = nSteps - 1; j >= 0; j--) {
        addOutputs(j);
        // Outputs interpolated inside step j: their cotangents enter step j's VJP.
        const dense = outputStep.flatMap((e, i) => (e === j && outputTheta[i] !== 1 ? [{ theta: outputTheta[i], dy: dyStates[i] }] : []));
        if (!lambdaLive && dense.length === 0 && dE[j] === 0 && dS[j] === 0) continue;
        const yj = saved[j];
        const lam = lambda;
        const ct = { y1: lam, error: dE[j], stiffness: dS[j], stiffnessActive: stiffnessActive[j], dense };
        let gy: tf.Tensor;
        let gp: tf.Tensor[];
        const hand = system.reverse?.(ps, t[j], yj, dt[j], tol, ct);
        if (hand) {
          backwardStats.nfe += hand.nfe;
          gy = hand.dy;
          gp = hand.dParams;
        } else {
          const want = { error: dE[j] !== 0, stiffness: dS[j] !== 0, stiffnessActive: stiffnessActive[j], thetas: dense.map((d) => d.theta) };
          [gy, ...gp] = vjp(() => {
            const r = replay.call(stepper, term, t[j], yj, dt[j], tol, want);
            const values = r.dense ?? [];
            if (values.length !== dense.length)
              throw new Error(`internal: stepper '${stepper.name}' replayed ${values.length} of ${dense.length} dense outputs`);
            const terms: tf.Tensor[] = [tf.sum(tf.mul(r.y1, lam))];
            dense.forEach((d, i) => terms.push(tf.sum(tf.mul(values[i], d.dy))));
            if (r.error) terms.push(tf.mul(r.error, dE[j]));
            if (r.stiffness) terms.push(tf.mul(r.stiffness, dS[j]));
            return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
          }, [yj, ...ps]);
        }
        lambda.dispose();
        lambda = gy;
        lambdaLive = true;
        const summed = pGrads.map((g, i) => tf.add(g, gp[i]));
        tf.dispose([...pGrads, ...gp]);
        pGrads = summed;
      }
      addOutputs(-1);
      tf.dispose(dyStates);
      record.nfeBackward = backwardStats.nfe;
      record.backward = backwardStats;
      return [lambda, ...pGrads];
    };
    return { value: packed, gradFunc };
  }) as (x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;

  const op = (call: CallContext<Arg>, x: tf.Tensor, ...params: tf.Tensor[]): tf.Tensor => {
    current = call;
    try {
      return withGradient(x, ...params);
    } finally {
      current = null;
    }
  };
  return { op, lastLayout: () => layout, record };
}

/** The op built by `discreteAdjoint`. */
export interface DiscreteAdjoint {
  /**
   * Solves from `x` with the given parameters; returns the state at t1 (shaped like `x`) or, with
   * `saveat`, the states stacked on a new first axis (`[saveat.length, ...x.shape]`). Gradients
   * with respect to `x` and every parameter come from the discrete adjoint.
   */
  op: (x: tf.Tensor, ...params: tf.Tensor[]) => tf.Tensor;
  /**
   * Like `op`, but also returns the per-step error and stiffness estimates E_j and S_j as
   * differentiable 1-D tensors (for penalties such as Σ E_j·|dt_j|). S_j is computed only with
   * the option `estimateStiffness: true` (zeros otherwise).
   */
  opWithEstimates: (x: tf.Tensor, ...params: tf.Tensor[]) => { states: tf.Tensor; error: tf.Tensor1D; stiffness: tf.Tensor1D };
  /** Statistics of the last forward solve and the NFE of the last backward pass. */
  record: AdjointRecord;
}

/**
 * The discrete adjoint as an op for a vector field written with tf ops:
 * `field(t, y, params)` must use `params` (not tensors captured by closure) for its gradients to
 * reach them. Takes the options of `solve` (tspan, solver, rtol, atol, dt0, saveat, ...).
 *
 * ```ts
 * const { op } = discreteAdjoint((t, y, [W]) => tf.tanh(tf.matMul(y, W)), { tspan: [0, 1], solver: 'dopri5' });
 * const [dx, dW] = tf.grads((x, W) => tf.sum(op(x, W)))([x, W]);
 * ```
 */
export function discreteAdjoint(field: ParametricField, options: SolveOptions = {}): DiscreteAdjoint {
  if (typeof field !== 'function') {
    throw new InvalidArgumentError(`discreteAdjoint(field, options): field must be a function (t, y, params) => tf.Tensor, got ${typeof field}.`);
  }
  const resolved = resolveOptions(options);
  const packedOp = discreteAdjointOp(odeSystem(field, resolved), resolved);
  const opWithEstimates = (x: tf.Tensor, ...params: tf.Tensor[]) => {
    checkState(x, 'x');
    return tf.tidy(() => {
      const packed = packedOp.op({ arg: undefined }, x, ...params);
      const { states, error, stiffness } = unpack(packed, packedOp.lastLayout(), x.shape);
      return { states: resolved.saveat ? tf.stack(states) : states[0], error, stiffness };
    });
  };
  const op = (x: tf.Tensor, ...params: tf.Tensor[]): tf.Tensor => {
    const { states, error, stiffness } = opWithEstimates(x, ...params);
    tf.dispose([error, stiffness]);
    return states;
  };
  return { op, opWithEstimates, record: packedOp.record };
}
