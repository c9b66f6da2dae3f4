/**
 * One definition of an RK step: the stage loop (`rkStages`) is shared, and the host arithmetic rounds every
 * operation as tfjs's float32 kernels do, so the fast host forward step and the differentiable tensor replay
 * that the discrete adjoint differentiates give the same bits, for every registered ODE method (on the backend
 * the suite runs on: cpu, or wasm with TFJS_BACKEND=wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostArithmetic, tensorArithmetic } from '../../../src/solvers/core/arithmetic';
import { linearCombinationF32 } from '../../../src/solvers/core/host_kernels';
import { VectorField } from '../../../src/solvers/core/stepper';
import { odeMethod, SOLVER_NAMES } from '../../../src/solvers/registry';

const bits = (x: tf.Tensor): number[] => Array.from(new Uint32Array(new Float32Array(x.dataSync()).buffer));

describe.each(SOLVER_NAMES)('%s', (name) => {
  test('host forward step and tensor replay: y1 and dense outputs equal bit for bit, E the same with tensor arithmetic', () => {
    const n = 6;
    const W = tf.randomUniform([n, n], -0.75, 0.75, 'float32', 1);
    const b = tf.randomUniform([n], -0.5, 0.5, 'float32', 2);
    const f: VectorField = (t, y) => tf.tidy(() => tf.tanh(tf.add(tf.matMul(y, W), tf.mul(b, t))));
    const y = tf.randomUniform([4, n], -1, 1, 'float32', 3);
    const method = odeMethod(name);
    const tol = { rtol: 1e-4, atol: 1e-6 };
    const t = 0.3;
    const dt = 0.137;
    const thetas = method.estimates.dense ? [0.25, 0.6] : [];
    const before = tf.memory().numTensors;
    for (const arithmetic of [hostArithmetic, tensorArithmetic]) {
      // one scope per arithmetic: the replay's stage values are the scope's to free
      tf.tidy(() => {
        const stepper = method.stepper({ arithmetic });
        const { state } = stepper.init(f, t, y);
        const attempt = stepper.step(f, t, y, dt, state, tol, { thetas });
        const replay = stepper.replay!(f, t, y, dt, tol, { error: true, thetas });
        expect(bits(attempt.y1)).toEqual(bits(replay.y1));
        thetas.forEach((_, i) => expect(bits(attempt.dense![i])).toEqual(bits(replay.dense![i])));
        // E sums stage values with weights that cancel: the tensor step computes it with the replay's ops (same
        // value); the host norm accumulates in float64, more accurately than float32 (measured: 0.07% for tsit5,
        // 1.1% for dopri5 on this step), which moves the controller's decisions, not the states.
        if (method.adaptive && arithmetic.kind === 'tensor') expect(replay.error!.dataSync()[0]).toBe(attempt.error);
        if (method.adaptive && arithmetic.kind === 'host') expect(Math.abs(replay.error!.dataSync()[0] / attempt.error - 1)).toBeLessThan(0.03);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([W, b, y]);
  });
});

test('the float32 combination rounds each product, sums left to right, then adds the base (as tf.mul, tf.addN, tf.add)', () => {
  // 1 + 2^-24 is not a float32: a float64 accumulation would keep it, float32 ops round it away at each step
  const base = new Float32Array([1]);
  const ds = [new Float32Array([2 ** -24]), new Float32Array([2 ** -24]), new Float32Array([1])];
  const out = new Float32Array(1);
  linearCombinationF32(out, base, [1, 1, 1], ds);
  const viaTf = tf.tidy(() => tf.add(tf.tensor1d(base), tf.addN(ds.map((d) => tf.mul(tf.tensor1d(d), tf.scalar(1))))).dataSync()[0]);
  expect(out[0]).toBe(viaTf);
  expect(out[0]).toBe(Math.fround(1 + Math.fround(Math.fround(2 ** -23) + 1)));
  // coefficients are float32 scalars on both sides: 0.1 is rounded before it multiplies
  linearCombinationF32(out, new Float32Array([0]), [0.1], [new Float32Array([3])]);
  expect(out[0]).toBe(Math.fround(Math.fround(0.1) * 3));
});
