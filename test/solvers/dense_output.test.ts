/**
 * Dense output for `saveat`: interpolated states (values, NFE, step sequence), 'step' mode, the
 * discrete adjoint through interpolated outputs (both reverse paths, all methods with an
 * interpolant, with E/S cotangents), stopping at the last output, read-backs per step, the
 * stiffness estimate only when asked, serialization and memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { discreteAdjoint, errorEstimate, neuralODE, NeuralODE, SolverRegularizer, solve, solveSDE, SolverName, stiffness } from '../../src';
import { getTableau } from '../../src/solvers/registry';
import { expectNoLeak, expectThrowNoLeak, maxRelErr, rotationExact, rotationField } from '../support/helpers';
import { FrozenSteps, stepEnd, thetasInside, unrolledSolve } from '../support/unrolled';

const DENSE: SolverName[] = ['tsit5', 'dopri5', 'bosh3'];

/** Step ends of a solve's accepted steps (each step ends where the next starts; the last at `end`). */
const stepEnds = (stats: { t: number[] }, end: number): number[] => [...stats.t.slice(1), end];

describe('interpolated saveat values (solve)', () => {
  // Measured max errors at rtol 1e-6, atol 1e-8 on [0, 3]: tsit5 1.4e-6, dopri5 1.0e-6, bosh3 1.5e-6
  // (cpu); 'step' mode has the same order of error.
  test.each(DENSE)('%s: values match the exact damped rotation; same steps and NFE as without saveat', (solver) => {
    const saveat = Array.from({ length: 31 }, (_, i) => 0.1 * i); // 0 .. 3, many inside steps
    const y0 = tf.tensor2d([[1, 0]]);
    const plain = solve(rotationField, y0, { solver, tspan: [0, 3], rtol: 1e-6, atol: 1e-8 });
    const dense = expectNoLeak(() => solve(rotationField, y0, { solver, tspan: [0, 3], rtol: 1e-6, atol: 1e-8, saveat }), saveat.length);
    expect(dense.ts).toEqual(saveat);
    let worst = 0;
    dense.ys.forEach((y, i) => {
      const [a, b] = y.dataSync();
      const [ea, eb] = rotationExact([1, 0], saveat[i]);
      worst = Math.max(worst, Math.abs(a - ea), Math.abs(b - eb));
    });
    expect(worst).toBeLessThan(1e-5);
    // the same step sequence and cost as the solve without saveat
    expect(dense.stats.nfe).toBe(plain.stats.nfe);
    expect(dense.stats.t).toEqual(plain.stats.t);
    expect(dense.stats.dt).toEqual(plain.stats.dt);
    // most output times lie inside steps (they were interpolated, not stepped onto)
    const ends = stepEnds(dense.stats, 3);
    const inside = saveat.slice(1).filter((s) => !ends.includes(s));
    expect(inside.length).toBeGreaterThan(saveat.length / 2);
    // the output at t1 is the end state itself, bit for bit
    expect(Array.from(dense.ys[saveat.length - 1].dataSync())).toEqual(Array.from(plain.ys[0].dataSync()));
    tf.dispose([y0, ...plain.ys, ...dense.ys]);
  });

  test('backwards in time, tensor arithmetic, two outputs in one step', () => {
    const y2 = rotationExact([1, 0], 2);
    const saveat = [1.9, 1.895, 1.89, 1.2, 1.195, 0.5];
    const { ys, stats } = solve(rotationField, tf.tensor2d([y2]), { tspan: [2, 0.5], saveat, rtol: 1e-6, atol: 1e-8, arithmetic: 'tensor' });
    ys.forEach((y, i) => {
      const [ea, eb] = rotationExact([1, 0], saveat[i]);
      const [a, b] = y.dataSync();
      expect(Math.abs(a - ea)).toBeLessThan(1e-5);
      expect(Math.abs(b - eb)).toBeLessThan(1e-5);
    });
    stats.dt.forEach((d) => expect(d).toBeLessThan(0));
    // some step holds two or more output times
    const steps: FrozenSteps = { t: stats.t, dt: stats.dt, end: 0.5 };
    expect(Math.max(...stats.t.map((_, j) => thetasInside(steps, j, saveat).length))).toBeGreaterThanOrEqual(2);
    tf.dispose(ys);
  });

  test('equals the interpolant of the step, evaluated by hand from that step (dopri5)', () => {
    // A single step [0, 1] (dt0 = dtmax = 1, loose tolerances): y(0.37) must equal y + dt·Σ b_i(θ)k_i.
    const { ys, stats } = solve(rotationField, tf.tensor2d([[1, 0]]), { solver: 'dopri5', tspan: [0, 1], dt0: 1, rtol: 1, atol: 1, saveat: [0.37, 1] });
    expect(stats.nAccepted).toBe(1);
    const ref = tf.tidy(
      () => unrolledSolve(getTableau('dopri5'), rotationField, { t: [0], dt: [1], end: 1 }, tf.tensor2d([[1, 0]]), 0, [0.37, 1], { rtol: 1, atol: 1 }).outs[0],
    );
    expect(maxRelErr(ys[0], ref)).toBeLessThan(1e-6);
    tf.dispose([ref, ...ys]);
  });
});

describe("saveatMode: 'step' and option checks", () => {
  test("'step' steps onto every saveat time (today's behaviour) and costs more NFE than 'interpolate'", () => {
    const saveat = [0, 0.25, 0.5, 1.7, 3];
    const o = { tspan: [0, 3] as [number, number], saveat, rtol: 1e-6, atol: 1e-8 };
    const stepped = solve(rotationField, tf.tensor2d([[1, 0]]), { ...o, saveatMode: 'step' });
    const interp = solve(rotationField, tf.tensor2d([[1, 0]]), o);
    const ends = stepEnds(stepped.stats, 3);
    for (const s of saveat.slice(1)) expect(ends).toContain(s);
    stepped.ys.forEach((y, i) => {
      const [ea, eb] = rotationExact([1, 0], saveat[i]);
      const [a, b] = y.dataSync();
      expect(Math.abs(a - ea)).toBeLessThan(1e-5);
      expect(Math.abs(b - eb)).toBeLessThan(1e-5);
    });
    expect(stepped.stats.nfe).toBeGreaterThan(interp.stats.nfe);
    tf.dispose([...stepped.ys, ...interp.ys]);
  });

  test('fixed-step methods step by default; interpolate is refused for them with a clear error', () => {
    const { ys, stats } = solve(rotationField, tf.tensor2d([[1, 0]]), { solver: 'rk4', dt0: 0.1, tspan: [0, 1], saveat: [0.25, 1] });
    expect(stepEnds(stats, 1)).toContain(0.25);
    tf.dispose(ys);
    expect(() => solve(rotationField, tf.tensor2d([[1, 0]]), { solver: 'rk4', dt0: 0.1, saveatMode: 'interpolate' })).toThrow(
      /saveatMode: 'interpolate' needs a method with a dense output; 'rk4' has none\. Use saveatMode: 'step'/,
    );
    expect(() => solve(rotationField, tf.tensor2d([[1, 0]]), { saveatMode: 'dense' as never })).toThrow(
      /'saveatMode' must be 'interpolate' or 'step', got "dense"/,
    );
    expect(() => solve(rotationField, tf.tensor2d([[1, 0]]), { saveatMod: 'step' } as never)).toThrow(/did you mean 'saveatMode'/);
    expect(() => solve(rotationField, tf.tensor2d([[1, 0]]), { solver: 'bosh3', estimateStiffness: true })).toThrow(/solver 'bosh3' has no stiffness estimate/);
    expect(() => neuralODE({ vectorField: [tfl.layers.dense({ units: 2 })], solver: 'euler', dt0: 0.1, saveatMode: 'interpolate' })).toThrow(
      /'euler' has none/,
    );
  });

  test("SDE solves step onto the saveat times with saveatMode 'step', and interpolate between steps by default", () => {
    const saveat = [0.25, 0.5, 1];
    const solveWith = (mode?: 'step'): ReturnType<typeof solveSDE> =>
      solveSDE(
        (_t, y) => tf.neg(y),
        (_t, y) => tf.mul(y, 0.1),
        tf.ones([3, 2]),
        { saveat, seed: 3, ...(mode ? { saveatMode: mode } : {}) },
      );
    const stepped = solveWith('step');
    const ends = stepEnds(stepped.stats, 1);
    for (const s of saveat) expect(ends).toContain(s);
    tf.dispose(stepped.ys);
    const { ys, stats } = solveWith();
    const interpolatedEnds = stepEnds(stats, 1);
    expect(saveat.slice(0, 2).filter((s) => interpolatedEnds.includes(s))).toEqual([]);
    expect(stats.nAccepted).toBeLessThan(stepped.stats.nAccepted);
    tf.dispose(ys);
  });
});

function mlpField(seed = 3): tfl.layers.Layer[] {
  return [
    tfl.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
    tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  ];
}

/**
 * Gradients of ⟨R, outputs⟩ (+ the layer's regularization loss) for the input and every weight,
 * from the layer and from the unrolled reference over the same accepted steps.
 */
function layerGradients(
  layer: NeuralODE,
  regs: SolverRegularizer[],
  saveat: number[],
  end: number,
): { worst: number; stats: NonNullable<NeuralODE['lastStats']>; steps: FrozenSteps; penaltyShare: number } {
  const model = tfl.sequential({ layers: [layer] });
  const x = tf.randomNormal([4, 2], 0, 1, 'float32', 2);
  const R = tf.randomNormal([4, saveat.length, 2], 0, 1, 'float32', 3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const training = regs.length > 0;
  const loss = (z: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const data = tf.sum(tf.mul(model.apply(z, { training }) as tf.Tensor, R));
      return (training ? tf.add(data, layer.regularizationLoss()) : data) as tf.Scalar;
    });
  const before = tf.memory().numTensors;
  const gx = tf.grad(loss)(x);
  const { value, grads } = tf.variableGrads(() => loss(x), vars);
  value.dispose();
  // the gradients, and (only with regularizers) the last call's E and S, which the layer keeps for its loss closure
  expect(tf.memory().numTensors).toBe(before + 1 + vars.length + (training ? 2 : 0));
  const stats = layer.lastStats!;
  const steps: FrozenSteps = { t: stats.t, dt: stats.dt, end };
  const o = layer.solverOptions;
  const tab = getTableau(o.solver);
  const unrolledWith =
    (penalties: boolean) =>
    (z: tf.Tensor): tf.Scalar => {
      const want = { error: training, stiffness: training && tab.stiffnessStages !== undefined };
      const { outs, results } = unrolledSolve(tab, (t, s) => layer.evaluateField(t, s), steps, z, o.t0, saveat, o.controller, want);
      let total = tf.sum(tf.mul(tf.stack(outs, 1), R));
      if (training && penalties) {
        const E = tf.stack(results.map((r) => r.error!)) as tf.Tensor1D;
        const S = want.stiffness ? (tf.stack(results.map((r) => r.stiffness!)) as tf.Tensor1D) : (tf.zeros([results.length]) as tf.Tensor1D);
        const inputs = { error: E, stiffness: S, dt: stats.dt, t: stats.t, stabilitySize: tab.stabilitySize, hasStiffness: want.stiffness, stops: [] };
        total = tf.add(total, tf.addN(regs.map((r) => r.apply(inputs))));
      }
      return total as tf.Scalar;
    };
  const unrolled = unrolledWith(true);
  const gxRef = tf.grad(unrolled)(x);
  const { value: v1, grads: gRef } = tf.variableGrads(() => unrolled(x), vars);
  const worst = Math.max(maxRelErr(gx, gxRef), ...vars.map((v) => maxRelErr(grads[v.name], gRef[v.name])));
  let penaltyShare = 0;
  if (training) {
    const { value: v0, grads: gData } = tf.variableGrads(() => unrolledWith(false)(x), vars);
    penaltyShare = Math.max(...vars.map((v) => maxRelErr(gData[v.name], gRef[v.name])));
    tf.dispose([v0, ...Object.values(gData)]);
  }
  tf.dispose([x, R, gx, gxRef, v1, ...Object.values(grads), ...Object.values(gRef)]);
  model.dispose();
  return { worst, stats, steps, penaltyShare };
}

describe('gradients through interpolated outputs equal autodiff through the unrolled steps and interpolant', () => {
  const saveat = [0.15, 0.4, 0.75];
  const cases: [SolverName, boolean, boolean][] = [];
  for (const solver of DENSE) for (const timeDependent of [false, true]) for (const hand of [true, false]) cases.push([solver, timeDependent, hand]);
  test.each(cases)('%s timeDependent=%s hand-written reverse=%s', (solver, timeDependent, hand) => {
    const layer = neuralODE({ inputShape: [2], solver, timeDependent, saveat, vectorField: mlpField(), rtol: 1e-4, atol: 1e-6 });
    layer.useHandVjp = hand;
    // no regularizers: the solve stops at the last output time (0.75)
    const { worst, stats, steps } = layerGradients(layer, [], saveat, 0.75);
    expect(layer.handVjp).toBe(hand);
    expect(worst).toBeLessThan(1e-5);
    expect(stats.t[stats.nAccepted - 1] + stats.dt[stats.nAccepted - 1]).toBeCloseTo(0.75, 12);
    const withDense = stats.dt.map((_, j) => thetasInside(steps, j, saveat).length > 0);
    expect(withDense.filter(Boolean).length).toBeGreaterThan(0);
    // reverse NFE: every stage, except the FSAL stage on the hand path for steps without a dense output
    const tab = getTableau(solver);
    const perStep = withDense.map((d) => (hand && tab.fsal && !d ? tab.stages - 1 : tab.stages));
    expect(stats.nfeBackward).toBe(perStep.reduce((a, b) => a + b, 0));
  });

  // With regularizers the span is solved to t1 and the steps after the last output carry E/S
  // cotangents. Tensor arithmetic (bit-identical stored states) as in regularizers.test.ts. The
  // penalties' gradients are sums of large cancelling float32 terms (see there): at weights 5 and
  // 0.2 both reverse paths differ from the tape by 1e-5..1e-4 relative in 'step' and
  // 'interpolate' mode alike (measured); at 0.5 and 0.02 by at most 3.4e-6 (cpu).
  test.each([
    ['tsit5', true],
    ['tsit5', false],
    ['dopri5', true],
    ['dopri5', false],
    ['bosh3', true],
    ['bosh3', false],
  ] as [SolverName, boolean][])('%s with regularizers (E/S cotangents), hand-written reverse=%s', (solver, hand) => {
    // the papers' linear penalty (saturation null): the largest E cotangents, the strictest check of their plumbing
    const lin = { weight: 0.5, saturation: null };
    const regs: SolverRegularizer[] = solver === 'bosh3' ? [errorEstimate(lin)] : [errorEstimate(lin), stiffness({ weight: 0.02 })];
    const layer = neuralODE({
      inputShape: [2],
      solver,
      saveat,
      regularizers: regs,
      vectorField: mlpField(5),
      rtol: 1e-3,
      atol: 1e-4,
      arithmetic: 'tensor',
      tspan: [0, 1.5],
    });
    layer.useHandVjp = hand;
    const { worst, stats, penaltyShare } = layerGradients(layer, regs, saveat, 1.5);
    expect(stats.dt.reduce((a, b) => a + b, 0)).toBeCloseTo(1.5, 10); // solved to t1
    expect(stats.t[stats.nAccepted - 1]).toBeGreaterThan(0.75);
    expect(worst).toBeLessThan(1e-5);
    // the penalties' share of the gradient is far above the tolerance: a lost E/S cotangent would show
    expect(penaltyShare).toBeGreaterThan(1e-3);
  });
});

describe('stopping at the last output', () => {
  const rotation = (_t: number, y: tf.Tensor, [W]: readonly tf.Tensor[]): tf.Tensor => tf.matMul(y as tf.Tensor2D, W as tf.Tensor2D);

  test('a layer without regularizers stops at the last saveat time; with one it solves to t1', () => {
    const plain = neuralODE({ inputShape: [2], saveat: [0.2, 0.5], tspan: [0, 2], vectorField: mlpField() });
    const short = neuralODE({ inputShape: [2], tspan: [0, 0.5], vectorField: mlpField() });
    const regularized = neuralODE({ inputShape: [2], saveat: [0.2, 0.5], tspan: [0, 2], vectorField: mlpField(), regularizers: [errorEstimate()] });
    const x = tf.randomNormal([3, 2], 0, 1, 'float32', 1);
    const models = [plain, short, regularized].map((l) => tfl.sequential({ layers: [l] }));
    const outs = models.map((m) => m.predict(x) as tf.Tensor);
    const [a, b, c] = [plain, short, regularized].map((l) => l.lastStats!);
    expect(a.dt.reduce((s, d) => s + d, 0)).toBeCloseTo(0.5, 12);
    expect(a.nfe).toBe(b.nfe);
    expect(a.dt).toEqual(b.dt);
    // the output at 0.5 equals the end state of the solve over [0, 0.5]
    expect(Array.from(tf.tidy(() => tf.slice(outs[0], [0, 1, 0], [3, 1, 2]).dataSync()))).toEqual(Array.from(outs[1].dataSync()));
    expect(c.dt.reduce((s, d) => s + d, 0)).toBeCloseTo(2, 12);
    expect(c.nfe).toBeGreaterThan(a.nfe);
    tf.dispose([x, ...outs]);
    models.forEach((m) => m.dispose());
  });

  test('the reverse pass skips the steps after the last output when nothing flows through them', () => {
    // discreteAdjoint solves the whole span (its estimates may be penalized); with a state loss only,
    // the steps after the last output have zero cotangents and are not replayed.
    const W = tf.tensor2d([
      [-0.3, 1.2],
      [-1.2, -0.3],
    ]);
    const x = tf.tensor2d([
      [1, 0],
      [0.3, -0.5],
    ]);
    const saveat = [0.2, 0.5];
    const { op, opWithEstimates, record } = discreteAdjoint(rotation, { tspan: [0, 3], saveat, rtol: 1e-5, atol: 1e-7 });
    const R = tf.randomNormal([2, 2, 2], 0, 1, 'float32', 4);
    const [gx, gW] = tf.grads((a: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(op(a, w), R)))([x, W]);
    const stats = record.forward!;
    const steps: FrozenSteps = { t: stats.t, dt: stats.dt, end: 3 };
    const last = stats.t.findIndex((_, j) => stepEnd(steps, j) >= 0.5); // the step that gives the output at 0.5
    expect(stats.nAccepted).toBeGreaterThan(last + 2);
    expect(record.nfeBackward).toBe(7 * (last + 1));
    const tab = getTableau('tsit5');
    const unrolled = (a: tf.Tensor, w: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(tf.stack(unrolledSolve(tab, (t, y) => rotation(t, y, [w]), steps, a, 0, saveat, { rtol: 1e-5, atol: 1e-7 }).outs), R));
    const [rx, rW] = tf.grads(unrolled)([x, W]);
    expect(maxRelErr(gx, rx)).toBeLessThan(1e-5);
    expect(maxRelErr(gW, rW)).toBeLessThan(1e-5);
    // a penalty on the error estimates reaches every step again
    const [, gE] = tf.grads((a: tf.Tensor, w: tf.Tensor) =>
      tf.tidy(() => {
        const { states, error, stiffness: S } = opWithEstimates(a, w);
        return tf.add(tf.sum(tf.mul(states, R)), tf.add(tf.sum(error), tf.mul(0, tf.sum(S))));
      }),
    )([x, W]);
    expect(record.nfeBackward).toBe(7 * stats.nAccepted);
    tf.dispose([W, x, R, gx, gW, rx, rW, gE]);
  });
});

describe('read-backs per attempted step; the stiffness estimate only when asked', () => {
  const vdp = (_t: number, y: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const [a, v] = tf.split(y, 2, 1);
      return tf.concat([v, tf.sub(tf.mul(tf.sub(1, tf.square(a)), v), a)], 1);
    });
  const count = (fn: () => { stats: { nSteps: number } }): { reads: number; steps: number } => {
    const spy = jest.spyOn(tf.Tensor.prototype, 'dataSync');
    try {
      const steps = fn().stats.nSteps;
      return { reads: spy.mock.calls.length, steps };
    } finally {
      spy.mockRestore();
    }
  };
  const run = (extra: object) => (): { stats: { nSteps: number } } => {
    const y0 = tf.tensor2d([[2, 0]]);
    const r = solve(vdp, y0, { tspan: [0, 4], rtol: 1e-5, atol: 1e-7, ...extra });
    tf.dispose([y0, ...r.ys]);
    return r;
  };
  // Outside the steps: the finiteness checks of y0 and f(t0, y0) and the initial-step heuristic's
  // three norms (measured: 5).
  const SETUP = 5;

  test('tensor arithmetic: one read-back per attempted step (the error norm), dense output included', () => {
    const plain = count(run({ arithmetic: 'tensor' }));
    expect(plain.steps).toBeGreaterThan(20);
    expect(plain.reads).toBe(plain.steps + SETUP);
    const dense = count(run({ arithmetic: 'tensor', saveat: Array.from({ length: 40 }, (_, i) => 0.1 * (i + 1)) }));
    expect(dense.steps).toBe(plain.steps);
    expect(dense.reads).toBe(plain.reads);
    // asked for, the stiffness estimate costs three more (its two norms and the reliability scale)
    const stiff = count(run({ arithmetic: 'tensor', estimateStiffness: true }));
    expect(stiff.reads).toBe(4 * stiff.steps + SETUP);
  });

  test('host arithmetic: each new stage value is read once (tsit5: k2..k7, 6 per step), the stiffness estimate costs none', () => {
    const plain = count(run({ arithmetic: 'host' }));
    expect(plain.steps).toBeGreaterThan(20);
    // k7 of an accepted step is the next one's k1 (already read); new states are written, not read
    expect(plain.reads).toBeLessThanOrEqual(6 * plain.steps + SETUP);
    expect(plain.reads).toBeGreaterThanOrEqual(6 * plain.steps - SETUP);
    const stiff = count(run({ arithmetic: 'host', estimateStiffness: true }));
    expect(stiff.reads).toBe(plain.reads);
  });

  test('stats.stiffnessEstimate is empty unless asked; the layer computes it for a stiffness regularizer only', () => {
    const y0 = tf.tensor2d([[1, 2, 3]]);
    const L = 7;
    const off = solve((_t, y) => tf.mul(y, -L), y0, { tspan: [0, 1] });
    const on = solve((_t, y) => tf.mul(y, -L), y0, { tspan: [0, 1], estimateStiffness: true });
    expect(off.stats.stiffnessEstimate).toEqual([]);
    expect(on.stats.stiffnessEstimate).toHaveLength(on.stats.nAccepted);
    for (const s of on.stats.stiffnessEstimate) expect(s).toBeCloseTo(L, 2);
    tf.dispose([y0, ...off.ys, ...on.ys]);

    const x = tf.randomNormal([3, 2], 0, 1, 'float32', 1);
    const layers = [
      neuralODE({ inputShape: [2], vectorField: mlpField(), regularizers: [errorEstimate()] }),
      neuralODE({ inputShape: [2], vectorField: mlpField(), regularizers: [stiffness()] }),
      neuralODE({ inputShape: [2], vectorField: mlpField(), estimateStiffness: true }),
    ];
    const S = layers.map((l) => {
      const m = tfl.sequential({ layers: [l] });
      tf.dispose(m.apply(x, { training: true }) as tf.Tensor);
      const v = Array.from(l.lastStiffnessEstimates!.dataSync());
      expect(v).toHaveLength(l.lastStats!.nAccepted);
      return { v, stats: l.lastStats!.stiffnessEstimate, m };
    });
    expect(S[0].v.every((s) => s === 0)).toBe(true);
    expect(S[0].stats).toEqual([]);
    for (const k of [1, 2]) {
      expect(S[k].v.some((s) => s > 0)).toBe(true);
      expect(S[k].stats).toHaveLength(S[k].v.length);
    }
    x.dispose();
    S.forEach((s) => s.m.dispose());
  });
});

test('discreteAdjoint: S_j and its gradient are zero unless estimateStiffness is set', () => {
  const field = (_t: number, y: tf.Tensor, [W]: readonly tf.Tensor[]): tf.Tensor => tf.tanh(tf.matMul(y as tf.Tensor2D, W as tf.Tensor2D));
  const W = tf.tensor2d([
    [-0.5, 2],
    [-2, -0.5],
  ]);
  const x = tf.tensor2d([[1, 0.5]]);
  const run = (estimateStiffness: boolean): { S: number[]; g: number[] } => {
    const { opWithEstimates } = discreteAdjoint(field, { tspan: [0, 2], estimateStiffness });
    const S = tf.tidy(() => Array.from(opWithEstimates(x, W).stiffness.dataSync()));
    const [g] = tf.grads((w: tf.Tensor) => tf.tidy(() => tf.sum(opWithEstimates(x, w).stiffness)))([W]);
    const gv = Array.from(g.dataSync());
    g.dispose();
    return { S, g: gv };
  };
  const off = run(false);
  const on = run(true);
  expect(off.S.length).toBeGreaterThan(2);
  expect(off.S.every((s) => s === 0)).toBe(true);
  expect(off.g.every((v) => v === 0)).toBe(true);
  expect(on.S.some((s) => s > 0.5)).toBe(true);
  expect(on.g.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  tf.dispose([W, x]);
});

describe('serialization and memory', () => {
  test('saveatMode and estimateStiffness round-trip; configs written before them load with the defaults', () => {
    const layer = neuralODE({ inputShape: [2], vectorField: mlpField(), saveat: [0.5, 1], saveatMode: 'step', estimateStiffness: true });
    const config = layer.getConfig();
    expect(config).toMatchObject({ saveatMode: 'step', estimateStiffness: true });
    const copy = NeuralODE.fromConfig(NeuralODE, config) as NeuralODE;
    expect(copy.getConfig()).toEqual(config);
    expect(copy.solverOptions.saveatMode).toBe('step');
    expect(copy.solverOptions.estimates.stiffness).toBe(true);
    // an older config has neither key
    const { saveatMode: _m, estimateStiffness: _s, ...old } = config;
    const loaded = NeuralODE.fromConfig(NeuralODE, old) as NeuralODE;
    expect(loaded.solverOptions.saveatMode).toBe('interpolate');
    expect(loaded.solverOptions.estimates.stiffness).toBe(false);
    expect(loaded.getConfig()).toMatchObject({ saveatMode: 'interpolate', estimateStiffness: null });
  });

  test('a solve that fails with interpolated outputs pending leaks nothing', () => {
    const y0 = tf.tensor2d([[2, 0]]);
    const err = expectThrowNoLeak(() => solve(rotationField, y0, { tspan: [0, 3], saveat: [0.01, 0.02, 0.5, 2.9], maxSteps: 4, rtol: 1e-8, atol: 1e-10 }));
    expect(err.message).toMatch(/Reached maxSteps=4/);
    y0.dispose();
  });

  test('training a layer with interpolated saveat keeps memory flat', async () => {
    const layer = neuralODE({ inputShape: [2], vectorField: mlpField(), saveat: [0.3, 0.6, 0.9], tspan: [0, 1] });
    const model = tfl.sequential({ layers: [layer, tfl.layers.flatten()] });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const x = tf.randomNormal([8, 2], 0, 1, 'float32', 6);
    const y = tf.randomNormal([8, 6], 0, 1, 'float32', 7);
    const mem: number[] = [];
    const h = await model.fit(x, y, {
      epochs: 6,
      verbose: 0,
      callbacks: new tfl.CustomCallback({ onEpochEnd: async () => void mem.push(tf.memory().numTensors) }),
    });
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    expect(new Set(mem).size).toBe(1);
    tf.dispose([x, y]);
    model.dispose();
  });
});
