/**
 * One SRI step definition: `sriStages` in host arrays (`hostOps`, float32-rounded like tfjs's kernels) gives the
 * same bits as the tensor step the discrete adjoint replays, for every SRI method in the registry; the estimates
 * agree to float32 rounding; and the host ops round each operation as the tfjs ops do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VectorField } from '../../../src/solvers/core/stepper';
import { sdeMethod, SDE_SOLVER_NAMES } from '../../../src/solvers/registry';
import { sriStepHost } from '../../../src/solvers/sri/host_step';
import { hostOps, tensorOps } from '../../../src/solvers/sri/ops';
import { sriStep } from '../../../src/solvers/sri/step';

const bits = (x: tf.Tensor | Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(x instanceof tf.Tensor ? x.dataSync() : x).buffer));
const SRI = SDE_SOLVER_NAMES.filter((n) => sdeMethod(n).tableau !== null);

describe.each(SRI)('%s', (name) => {
  test('host step and tensor step: y1 bit for bit, EEst and the stiffness estimate to float32 rounding', () => {
    const tab = sdeMethod(name).tableau!;
    const n = 5;
    const W = tf.randomUniform([n, n], -1, 1, 'float32', 4);
    const f: VectorField = (t, y) => tf.tidy(() => tf.sub(tf.tanh(tf.matMul(y, W)), tf.mul(y, t)));
    const g: VectorField = (_t, y) => tf.tidy(() => tf.add(tf.mul(tf.sin(y), 0.3), 0.2));
    const y = tf.randomUniform([3, n], -1, 1, 'float32', 5);
    const dW = tf.randomNormal([3, n], 0, Math.sqrt(0.05), 'float32', 6);
    const dZ = tf.randomNormal([3, n], 0, Math.sqrt(0.05), 'float32', 7);
    const tol = { rtol: 1e-2, atol: 1e-3 };
    const before = tf.memory().numTensors;
    const host = sriStepHost(tab, f, g, 0.2, y, 0.05, dW.dataSync() as Float32Array, dZ.dataSync() as Float32Array, tol, { error: true, stiffness: true });
    const tensor = sriStep(tab, f, g, 0.2, y, 0.05, dW, dZ, tol, { error: true, stiffness: true });
    expect(bits(host.y1)).toEqual(bits(tensor.y1));
    expect(host.finite).toBe(true);
    expect(Math.abs(host.error! / tensor.error!.dataSync()[0] - 1)).toBeLessThan(1e-5);
    if (tab.stiffnessStages) {
      expect(host.stiffness! > 0).toBe(true);
      expect(Math.abs(host.stiffness! / tensor.stiffness!.dataSync()[0] - 1)).toBeLessThan(1e-4);
    } else {
      expect(host.stiffness).toBeUndefined();
    }
    tf.dispose([host.y1, tensor.y1, tensor.error, tensor.stiffness, tensor.stiffnessReliable]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([W, y, dW, dZ]);
  });
});

test('host ops round each operation as tfjs does (products, sums, scalar operands as float32 scalars)', () => {
  const a = Float32Array.from([1, 1e-8, -3.5, 0.1, 2 ** 30]);
  const b = Float32Array.from([2 ** -24, 1, 1e-7, 0.2, 1.5]);
  const ta = tf.tensor1d(a);
  const tb = tf.tensor1d(b);
  const pairs: [Float32Array, tf.Tensor][] = [
    [hostOps.add(a, b), tensorOps.add(ta, tb)],
    [hostOps.subScalar(a, 0.1), tensorOps.subScalar(ta, 0.1)],
    [hostOps.scale(a, 1 / 3), tensorOps.scale(ta, 1 / 3)],
    [hostOps.mul(a, b), tensorOps.mul(ta, tb)],
    [hostOps.square(b), tensorOps.square(tb)],
    [hostOps.addN([a, b, a]), tensorOps.addN([ta, tb, ta])],
  ];
  for (const [h, t] of pairs) expect(bits(h)).toEqual(bits(t));
  tf.dispose([ta, tb, ...pairs.map(([, t]) => t)]);
});
