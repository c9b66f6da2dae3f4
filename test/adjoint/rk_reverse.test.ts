/**
 * The hand reverse of one RK step equals tfjs autodiff through `rkStepTensor` (to 1e-5 relative,
 * float32) for the cotangents of y1, the scaled error estimate E and the stiffness estimate S, with
 * the hand-written Dense pullback and with the autodiff pullback, and inside a custom gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { autodiffFieldVjp, FieldWithVjp } from '../../src/adjoint/field_vjp';
import { denseFieldVjp } from '../../src/adjoint/dense_vjp';
import { rkStepReverse, StepCotangents } from '../../src/adjoint/rk_reverse';
import { LayerStack } from '../../src/layers/vector_field';
import { InvalidArgumentError } from '../../src/solvers/core/errors';
import { getTableau } from '../../src/solvers/registry';
import { rkStepTensor } from '../../src/solvers/rk/stepper';
import { VectorField } from '../../src/solvers/core/stepper';
import { ButcherTableau } from '../../src/solvers/rk/tableau';
import { maxRelErr } from '../support/helpers';

const B = 4;
const D = 3;
const H = 6;
const T0 = 0.3;
// A step large enough that k_q − k_p and g_q − g_p (the stiffness estimate's differences) are far
// above float32 cancellation: at dt = 0.15 they are ~3e-3 of |g|, so S and its gradient carry
// ~1e-4 relative rounding noise in any float32 evaluation (autodiff included); at dt = 0.5 they
// are ~0.15 of |g| (E ≈ 0.05, an accepted step at these tolerances).
const DT = 0.5;
const TOL = { atol: 1e-3, rtol: 1e-2 };
const SOLVERS = ['tsit5', 'dopri5', 'bosh3', 'rk4', 'euler'];

/** A time-dependent tanh MLP with seeded weights. */
function makeStack(): LayerStack {
  const stack = new LayerStack([tfl.layers.dense({ units: H, activation: 'tanh' }), tfl.layers.dense({ units: D })], true, undefined);
  stack.build([D]);
  stack.weights.forEach((w, i) => {
    const v = tf.randomNormal(w.shape as number[], 0, 0.9, 'float32', 5 + i);
    w.write(v);
    v.dispose();
  });
  return stack;
}

interface Cotangents {
  lambda: tf.Tensor;
  error: number;
  stiffness: number;
  stiffnessActive?: boolean;
}

/** tfjs autodiff of ⟨λ, y1⟩ + ε·E + σ·S through `rkStepTensor`, w.r.t. y and `params`. */
function autodiffStep(tab: ButcherTableau, f: VectorField, y: tf.Tensor, params: tf.Tensor[], c: Cotangents): tf.Tensor[] {
  return tf.grads((y0: tf.Tensor) =>
    tf.tidy(() => {
      const want = { error: c.error !== 0, stiffness: c.stiffness !== 0, stiffnessActive: c.stiffnessActive };
      const r = rkStepTensor(tab, f, T0, y0, DT, TOL, want);
      let obj = tf.sum(tf.mul(r.y1, c.lambda));
      if (r.error) obj = tf.add(obj, tf.mul(r.error, c.error));
      if (r.stiffness) obj = tf.add(obj, tf.mul(r.stiffness, c.stiffness));
      return obj;
    }),
  )([y, ...params]);
}

/** rkStepReverse, checking that it returns exactly its outputs. */
function handStep(tab: ButcherTableau, field: FieldWithVjp, y: tf.Tensor, c: Cotangents): { grads: tf.Tensor[]; nfe: number } {
  const before = tf.memory().numTensors;
  const ct: StepCotangents = { y1: c.lambda, error: c.error, stiffness: c.stiffness, stiffnessActive: c.stiffnessActive };
  const { dy, dParams, nfe } = rkStepReverse(tab, field, T0, y, DT, TOL, ct);
  expect(tf.memory().numTensors - before).toBe(1 + dParams.length);
  return { grads: [dy, ...dParams], nfe };
}

function worstGap(a: tf.Tensor[], b: tf.Tensor[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => maxRelErr(x, b[i])));
}

/**
 * The same step, E and S in float64 on the host for the stack's 2-layer tanh MLP (time appended to
 * each layer input), and the gradient of the objective by central differences (h = 1e-6, error
 * ~1e-9 relative): the ground truth that float32 results are judged against.
 */
function float64Gradient(tab: ButcherTableau, stack: LayerStack, y: tf.Tensor, c: Cotangents): Float64Array[] {
  const xs = [y, ...stack.trainableWeights.map((w) => w.read())].map((x) => Float64Array.from(x.dataSync()));
  const lam = c.lambda.dataSync();
  const n = B * D;
  const objective = (): number => {
    const [yv, W1, b1, W2, b2] = xs;
    const f = (t: number, z: Float64Array): Float64Array => {
      const out = new Float64Array(n);
      for (let r = 0; r < B; r++) {
        const h = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          let acc = b1[j] + t * W1[D * H + j];
          for (let i = 0; i < D; i++) acc += z[r * D + i] * W1[i * H + j];
          h[j] = Math.tanh(acc);
        }
        for (let j = 0; j < D; j++) {
          let acc = b2[j] + t * W2[H * D + j];
          for (let i = 0; i < H; i++) acc += h[i] * W2[i * D + j];
          out[r * D + j] = acc;
        }
      }
      return out;
    };
    const combo = (row: readonly number[], k: Float64Array[]): Float64Array => yv.map((v, e) => v + row.reduce((a, w, j) => a + DT * w * k[j][e], 0));
    const g: Float64Array[] = [];
    const k: Float64Array[] = [];
    for (let i = 0; i < tab.stages; i++) {
      g.push(i === 0 ? yv : combo(tab.a[i], k));
      k.push(f(T0 + tab.c[i] * DT, g[i]));
    }
    const y1 = tab.fsal ? g[tab.stages - 1] : combo(tab.b, k);
    const rms = (x: ArrayLike<number>): number => Math.sqrt(Math.max(Array.from(x).reduce((a, v) => a + v * v, 0) / x.length, 1e-30));
    let obj = y1.reduce((a, v, e) => a + v * lam[e], 0);
    if (c.error !== 0 && tab.bError) {
      const err = yv.map((_, e) => (tab.bError ?? []).reduce((a, w, j) => a + DT * w * k[j][e], 0));
      obj += c.error * rms(err.map((v, e) => v / (TOL.atol + Math.max(Math.abs(yv[e]), Math.abs(y1[e])) * TOL.rtol)));
    }
    if (c.stiffness !== 0 && c.stiffnessActive !== false && tab.stiffnessStages) {
      const [p, q] = tab.stiffnessStages;
      obj += (c.stiffness * rms(k[q].map((v, e) => v - k[p][e]))) / rms(g[q].map((v, e) => v - g[p][e]));
    }
    return obj;
  };
  return xs.map((x) =>
    x.map((v, i) => {
      const h = 1e-6 * Math.max(1, Math.abs(v));
      x[i] = v + h;
      const up = objective();
      x[i] = v - h;
      const down = objective();
      x[i] = v;
      return (up - down) / (2 * h);
    }),
  );
}

/** max |a − truth| / max |truth| over all gradients (0 when both vanish). */
function gapToTruth(a: tf.Tensor[], truth: Float64Array[]): number {
  let num = 0;
  let den = 0;
  a.forEach((x, i) => {
    const v = x.dataSync();
    truth[i].forEach((t, j) => {
      num = Math.max(num, Math.abs(v[j] - t));
      den = Math.max(den, Math.abs(t));
    });
  });
  return num / Math.max(den, 1e-30);
}

describe('rkStepReverse equals autodiff through rkStepTensor', () => {
  let stack: LayerStack;
  let y: tf.Tensor;
  let lambda: tf.Tensor;
  beforeAll(() => {
    stack = makeStack();
    y = tf.randomNormal([B, D], 0, 1, 'float32', 1);
    lambda = tf.randomNormal([B, D], 0, 1, 'float32', 2);
  });
  afterAll(() => tf.dispose([y, lambda]));

  for (const name of SOLVERS) {
    test(`${name}: cotangents of y1, E and S; dense and autodiff pullbacks`, () => {
      const tab = getTableau(name);
      const params = stack.trainableWeights.map((w) => w.read());
      const f: VectorField = (t, z) => stack.call(t, z);
      const dense = denseFieldVjp(stack) as FieldWithVjp;
      const auto = autodiffFieldVjp(f, params);
      const cases: Cotangents[] = [
        { lambda, error: 0, stiffness: 0 },
        { lambda, error: tab.bError ? 0.7 : 0, stiffness: 0 },
        { lambda, error: tab.bError ? 0.7 : 0, stiffness: tab.stiffnessStages ? -0.4 : 0 },
        { lambda: tf.zerosLike(lambda), error: tab.bError ? 1.3 : 0, stiffness: tab.stiffnessStages ? 0.9 : 0 },
        { lambda, error: 0, stiffness: tab.stiffnessStages ? 0.5 : 0, stiffnessActive: false },
      ];
      const before = tf.memory().numTensors;
      for (const c of cases) {
        const want = autodiffStep(tab, f, y, params, c);
        const truth = float64Gradient(tab, stack, y, c);
        const autodiffMiss = gapToTruth(want, truth);
        for (const field of [dense, auto]) {
          const { grads, nfe } = handStep(tab, field, y, c);
          // As close to the float64 truth as tfjs autodiff is (within 3× or 1e-5).
          expect(gapToTruth(grads, truth)).toBeLessThan(Math.max(1e-5, 3 * autodiffMiss));
          // Equal to autodiff: with the autodiff pullback always (same kernels); with the dense
          // pullback on cpu. On wasm the dense pullback's products run without transpose flags
          // (matmul.ts) and round differently (~4e-7 per call); the E and S gradients, norms of
          // differences of nearly equal stage values, amplify that by up to ~300 for tsit5, as the
          // float64 check above shows autodiff's own float32 error is amplified.
          if (field === auto || tf.getBackend() !== 'wasm') expect(worstGap(grads, want)).toBeLessThan(1e-5);
          else expect(worstGap(grads, want)).toBeLessThan(Math.max(1e-5, 3 * autodiffMiss));
          // Stages nothing depends on are skipped: the FSAL stage unless E or S needs it.
          const usesLast =
            (c.error !== 0 && tab.bError !== undefined) || (c.stiffness !== 0 && c.stiffnessActive !== false && tab.stiffnessStages !== undefined);
          expect(nfe).toBe(tab.fsal && !usesLast ? tab.stages - 1 : tab.stages);
          tf.dispose(grads);
        }
        tf.dispose(want);
      }
      // The stiffness estimate is really differentiated where it is active (S ≠ 0 here).
      if (tab.stiffnessStages) {
        const r = tf.tidy(() => rkStepTensor(tab, f, T0, y, DT, TOL, { stiffness: true }).stiffness as tf.Scalar);
        expect(r.dataSync()[0]).toBeGreaterThan(0);
        r.dispose();
      }
      tf.dispose(cases[3].lambda);
      expect(tf.memory().numTensors).toBe(before - 1);
    });
  }

  test('ties of max(|y|, |y1|) and zero states follow autodiff (gradient to |y|, d|x|/dx = −1 at 0)', () => {
    // bosh3 with column 0 of f = v_j + p·u_j at stage j (p = 0): v is chosen so that the stage
    // terms cancel exactly in float32 (c1·c2 − c2·c1), so y1[:, 0] = y[:, 0] (ties; zero where y is
    // 0) while err[:, 0] ≠ 0 and ∂y1[:, 0]/∂p = dt·Σ b_j u_j ≠ 0: the tie rule decides whether p
    // gets a gradient from E, and the sign rule at 0 whether y does.
    const tab = getTableau('bosh3');
    const c1 = Math.fround(DT * tab.b[1]);
    const c2 = Math.fround(DT * tab.b[2]);
    const v = [0, c2, -c1, 1];
    const p = tf.variable(tf.scalar(0));
    const M = tf.variable(tf.randomNormal([D, D - 1], 0, 1, 'float32', 9));
    const f: VectorField = (t, z) =>
      tf.tidy(() => {
        const j = tab.c.indexOf(Math.round(((t - T0) / DT) * 4) / 4);
        const col0 = tf.add(tf.fill([B, 1], v[j]), p);
        return tf.concat([col0, tf.tanh(tf.matMul(z as tf.Tensor2D, M))], 1);
      });
    const y0 = tf.tidy(() =>
      tf.mul(
        tf.randomNormal([B, D], 0, 1, 'float32', 4),
        tf.tensor2d([
          [0, 1, 1],
          [1, 1, 1],
          [0, 1, 1],
          [1, 1, 1],
        ]),
      ),
    );
    const before = tf.memory().numTensors;
    const y1 = tf.tidy(() => rkStepTensor(tab, f, T0, y0, DT, TOL).y1);
    const column0 = (x: tf.Tensor): number[] =>
      Array.from(x.dataSync())
        .filter((_, e) => e % D === 0)
        .map((u) => u + 0); // −0 → 0
    expect(column0(y1)).toEqual(column0(y0));
    y1.dispose();
    const c = { lambda, error: 2.5, stiffness: 0 };
    const want = autodiffStep(tab, f, y0, [p, M], c);
    const { grads } = handStep(tab, autodiffFieldVjp(f, [p, M]), y0, c);
    expect(worstGap(grads, want)).toBeLessThan(1e-5);
    tf.dispose([...grads, ...want]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([p, M, y0]);
  });

  test('inside a custom gradient (the discrete adjoint setting), both pullbacks', () => {
    const tab = getTableau('tsit5');
    const vars = stack.trainableWeights.map((v) => v.read());
    const f: VectorField = (t, z) => stack.call(t, z);
    for (const make of [() => denseFieldVjp(stack) as FieldWithVjp, () => autodiffFieldVjp(f, vars)]) {
      const op = tf.customGrad(((y0: tf.Tensor, ...rest: unknown[]) => {
        const save = rest.pop() as tf.GradSaveFunc;
        save([y0]);
        return {
          value: rkStepTensor(tab, f, T0, y0, DT, TOL).y1,
          gradFunc: (dy: tf.Tensor, [ys]: tf.Tensor[]) => {
            const r = rkStepReverse(tab, make(), T0, ys, DT, TOL, { y1: dy });
            return [r.dy, ...r.dParams];
          },
        };
      }) as never) as (y0: tf.Tensor, ...p: tf.Tensor[]) => tf.Tensor;
      const before = tf.memory().numTensors;
      const got = tf.grads((y0: tf.Tensor, ...p: tf.Tensor[]) => tf.sum(tf.mul(op(y0, ...p), lambda)))([y, ...vars]);
      expect(tf.memory().numTensors - before).toBe(got.length);
      const want = autodiffStep(tab, f, y, vars, { lambda, error: 0, stiffness: 0 });
      expect(worstGap(got, want)).toBeLessThan(1e-5);
      tf.dispose([...got, ...want]);
    }
  });

  test('a cotangent of the wrong shape is named', () => {
    const tab = getTableau('rk4');
    const field = denseFieldVjp(stack) as FieldWithVjp;
    const bad = tf.zeros([B, D + 1]);
    const before = tf.memory().numTensors;
    expect(() => rkStepReverse(tab, field, T0, y, DT, TOL, { y1: bad })).toThrow(InvalidArgumentError);
    expect(() => rkStepReverse(tab, field, T0, y, DT, TOL, { y1: bad })).toThrow(/cotangent of y1 has shape \[4,4\], the state \[4,3\]/);
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
  });
});
