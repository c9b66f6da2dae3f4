/** The NeuralSDE layer's gradients (against autodiff through the unrolled steps and finite differences) and training with fit. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { countNFE, errorEstimate, localErrorEstimate, NeuralSDE, nfeLogger, stiffness } from '../../src';
import { derivedSeed } from '../../src/layers/path_seeds';
import { BrownianTree } from '../../src/noise/brownian';
import { sriStep } from '../../src/solvers/sri/step';
import { SRI_TABLEAUS } from '../../src/solvers/sri/tableaus';
import { maxRelErr } from '../support/helpers';
import { sdeLayer, X } from '../support/sde_layer';

/** Autodiff through the layer's accepted steps, replayed with `sriStep` on the same Brownian increments. */
function unrolled(layer: NeuralSDE, x: tf.Tensor, withReg: { e: number; s: number }): tf.Scalar {
  const stats = layer.lastStats!;
  const o = layer.solverOptions;
  const path = new BrownianTree({ seed: layer.lastPathSeed, t0: o.t0, t1: o.t1, shape: x.shape });
  const tab = SRI_TABLEAUS[o.solver as 'sosri' | 'sosri2'];
  let y = x;
  let reg: tf.Tensor = tf.scalar(0);
  stats.dt.forEach((dt, j) => {
    const { dW, H } = path.increment(stats.t[j], Math.min(stats.t[j] + dt, o.t1));
    const dWt = tf.tensor(Float32Array.from(dW), x.shape);
    const dZt = tf.tensor(
      Float32Array.from(H, (h) => 2 * Math.sqrt(3) * h),
      x.shape,
    );
    const active = stats.stiffnessEstimate[j] !== 0;
    const r = sriStep(
      tab,
      (t, s) => layer.drift.call(t, s),
      (t, s) => layer.diffusion.call(t, s),
      stats.t[j],
      y,
      dt,
      dWt,
      dZt,
      o.controller,
      {
        error: true,
        stiffness: tab.stiffnessStages !== undefined,
        stiffnessReliable: tab.stiffnessStages !== undefined ? tf.scalar(active, 'bool') : undefined,
      },
    );
    reg = tf.add(reg, tf.mul(withReg.e * Math.abs(dt), r.error!));
    if (r.stiffness) reg = tf.add(reg, tf.mul(withReg.s * Math.abs(dt), r.stiffness));
    y = r.y1;
  });
  return tf.add(tf.sum(tf.square(y)), reg) as tf.Scalar;
}

describe('gradients', () => {
  test.each([
    ['sosri', 'state loss', 0, 0, 1e-5],
    ['sosri2', 'state + error + stiffness terms', 0.5, 0.01, 3e-4],
  ] as const)('%s: the discrete adjoint equals autodiff through the unrolled steps on the same path (%s)', (solver, _what, e, s, tolerance) => {
    const regs = [];
    // the unrolled reference (above) writes the papers' linear penalty E·|dt|
    if (e > 0) regs.push(errorEstimate({ weight: e, saturation: null }));
    if (s > 0) regs.push(stiffness({ weight: s, aggregation: 'sum' }));
    const layer = sdeLayer({ solver, seed: 21, regularizers: regs, tspan: [0, 0.5], dt0: 0.05, rtol: 1e-2, atol: 1e-2 });
    const x = tf.variable(X());
    tf.dispose(layer.apply(x) as tf.Tensor); // build
    const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
    const custom = tf.variableGrads(() => {
      const y = layer.apply(x, { training: false }) as tf.Tensor;
      const data = tf.sum(tf.square(y));
      return (regs.length ? tf.add(data, layer.regularizationLoss()) : data) as tf.Scalar;
    }, vars);
    const stats = layer.lastStats!;
    expect(stats.nAccepted).toBeGreaterThan(3);
    expect(stats.nfeDiffusion).toBeGreaterThan(0);
    const ref = tf.variableGrads(() => unrolled(layer, x, { e, s }), vars);
    const v = custom.value.dataSync()[0];
    expect(Math.abs(v - ref.value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(v) + 1e-6);
    for (const w of vars) expect(maxRelErr(custom.grads[w.name], ref.grads[w.name])).toBeLessThan(tolerance);
    // the input, the drift and the diffusion weights all receive gradient
    expect(vars.every((w) => tf.tidy(() => tf.max(tf.abs(custom.grads[w.name])).dataSync()[0]) > 0)).toBe(true);
    tf.dispose([x, custom.value, ref.value, ...Object.values(custom.grads), ...Object.values(ref.grads)]);
  });

  test('agrees with central finite differences on a frozen path (input direction)', () => {
    const layer = sdeLayer({ seed: 4, tspan: [0, 0.5], dt0: 0.05, solver: 'sosri', rtol: 1e-2, atol: 1e-2 });
    const x = X();
    const loss = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.square(layer.apply(xx) as tf.Tensor)) as tf.Scalar;
    const [g] = tf.grads(loss)([x]);
    const stats = layer.lastStats!;
    const dir = tf.tensor2d([
      [0.3, -0.2],
      [0.1, 0.4],
      [-0.5, 0.2],
    ]);
    const eps = 1e-2;
    // the unrolled map of the frozen step sequence (same path, same steps)
    const L = (sgn: number): number =>
      tf.tidy(() => {
        const xx = tf.add(x, tf.mul(dir, sgn * eps));
        return tf.sub(unrolled(layer, xx, { e: 0, s: 0 }), 0).dataSync()[0];
      });
    expect(layer.lastStats!.nAccepted).toBe(stats.nAccepted);
    const fd = (L(1) - L(-1)) / (2 * eps);
    const ad = tf.tidy(() => tf.sum(tf.mul(g, dir)).dataSync()[0]);
    expect(Math.abs(fd - ad)).toBeLessThan(2e-3 * Math.max(1, Math.abs(ad)));
    tf.dispose([x, g, dir]);
  });
});

describe('gradients through saveat outputs', () => {
  test.each(['interpolate', 'step'] as const)('saveatMode %s: the discrete adjoint equals autodiff through the unrolled steps', (saveatMode) => {
    const saveat = [0.13, 0.31, 0.5];
    const layer = sdeLayer({ solver: 'sosri', seed: 12, tspan: [0, 0.5], dt0: 0.05, saveat, saveatMode });
    const x = tf.variable(X());
    const R = tf.randomNormal([3, saveat.length, 2], 0, 1, 'float32', 4);
    tf.dispose(layer.apply(x) as tf.Tensor); // build
    const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
    const custom = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, R)) as tf.Scalar, vars);
    const { t, dt } = layer.lastStats!;
    if (saveatMode === 'interpolate') expect(t.filter((tj) => saveat.slice(0, 2).includes(tj))).toEqual([]);
    else expect(t).toEqual(expect.arrayContaining(saveat.slice(0, 2)));
    // the same steps unrolled under autodiff, outputs interpolated linearly inside their step (θ = 1: the step's end)
    const o = layer.solverOptions;
    const path = new BrownianTree({ seed: layer.lastPathSeed, t0: o.t0, t1: o.t1, shape: x.shape });
    const ref = tf.variableGrads(() => {
      let y: tf.Tensor = x;
      const outs: tf.Tensor[] = [];
      dt.forEach((h, j) => {
        const { dW, H } = path.increment(t[j], Math.min(t[j] + h, o.t1));
        const dWt = tf.tensor(Float32Array.from(dW), x.shape);
        const dZt = tf.tensor(
          Float32Array.from(H, (v) => 2 * Math.sqrt(3) * v),
          x.shape,
        );
        const y1 = sriStep(
          SRI_TABLEAUS.sosri,
          (tt, s) => layer.drift.call(tt, s),
          (tt, s) => layer.diffusion.call(tt, s),
          t[j],
          y,
          h,
          dWt,
          dZt,
          o.controller,
          {},
        ).y1;
        for (const s of saveat) {
          if (!(s > t[j] && s <= t[j] + h)) continue;
          const theta = (s - t[j]) / h;
          outs.push(theta >= 1 || s === t[j] + h ? y1 : tf.add(y, tf.mul(tf.sub(y1, y), theta)));
        }
        y = y1;
      });
      expect(outs).toHaveLength(saveat.length);
      return tf.sum(tf.mul(tf.stack(outs, 1), R)) as tf.Scalar;
    }, vars);
    expect(Math.abs(custom.value.dataSync()[0] - ref.value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(ref.value.dataSync()[0]) + 1e-6);
    for (const w of vars) expect(maxRelErr(custom.grads[w.name], ref.grads[w.name])).toBeLessThan(1e-4);
    tf.dispose([x, R, custom.value, ref.value, ...Object.values(custom.grads), ...Object.values(ref.grads)]);
  });
});

describe('training', () => {
  test('fit with regularizers and callbacks: loss falls, NFE logged, memory flat over 20 epochs', async () => {
    const model = tfl.sequential({
      layers: [
        sdeLayer({
          inputShape: [2],
          seed: 9,
          solver: 'sosri2',
          rtol: 0.3,
          atol: 0.3,
          regularizers: [errorEstimate({ weight: 0.1 }), stiffness({ weight: 0.001 }), localErrorEstimate({ weight: 0.1 })],
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
    const x = X();
    const y = tf.zerosLike(x);
    const counts: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 20,
      verbose: 0,
      // fit shuffles rows with Math.random by default, which moves rows between Wiener processes: unseeded noise
      shuffle: false,
      callbacks: [nfeLogger(), new tfl.CustomCallback({ onEpochEnd: async () => void counts.push(tf.memory().numTensors) })],
    });
    const loss = history.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    expect((history.history.nfe as number[]).every((n) => n > 0)).toBe(true);
    expect(new Set(counts.slice(2)).size).toBe(1);
    const { nfePerCall } = countNFE(model, () => tf.dispose(model.predict(x)));
    expect(nfePerCall).toBeGreaterThan(0);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('noise in the reverse pass', () => {
  test('a training call replays its recorded increments: no path query in the reverse pass, the same gradients as re-querying', () => {
    const x = X();
    const spy = jest.spyOn(BrownianTree.prototype, 'incrementInto');
    const run = (layer: NeuralSDE, training: boolean): { forward: number; total: number; grads: number[][] } => {
      spy.mockClear();
      let forward = 0;
      const { value, grads } = tf.variableGrads(() => {
        const out = tf.sum(tf.square(layer.apply(x, { training }) as tf.Tensor)) as tf.Scalar;
        forward = spy.mock.calls.length;
        return out;
      });
      const values = layer.trainableWeights.map((w) => Array.from(grads[w.originalName].dataSync()));
      tf.dispose([value, ...Object.values(grads)]);
      return { forward, total: spy.mock.calls.length, grads: values };
    };
    const trained = sdeLayer({ seed: 4, solver: 'sosri', tspan: [0, 0.5] });
    tf.dispose(trained.apply(x) as tf.Tensor); // build
    const recorded = run(trained, true);
    expect(trained.lastStats!.nAccepted).toBeGreaterThan(1);
    expect(recorded.forward).toBeGreaterThan(0);
    expect(recorded.total).toBe(recorded.forward);
    // the reverse pass replays every accepted step, drift and diffusion both counted
    const st = trained.lastStats!;
    const per = SRI_TABLEAUS.sosri.evaluationsPerStep;
    expect(st.nfeBackward).toBe(per.drift * st.nAccepted);
    expect(st.nfeDiffusionBackward).toBe(per.diffusion * st.nAccepted);
    expect(st.nfeDiffusionBackward).toBeGreaterThan(0);
    // The same weights and path, differentiated through an inference call (no record): the reverse pass
    // queries the path once per accepted step and gets the same gradients, bit for bit.
    const plain = sdeLayer({ seed: derivedSeed(4, 0), solver: 'sosri', tspan: [0, 0.5] });
    tf.dispose(plain.apply(x) as tf.Tensor);
    plain.setWeights(trained.getWeights());
    plain.restartPaths();
    const requeried = run(plain, false);
    expect(plain.lastPathSeed).toBe(trained.lastPathSeed);
    expect(requeried.total - requeried.forward).toBe(plain.lastStats!.nAccepted);
    expect(requeried.grads).toEqual(recorded.grads);
    spy.mockRestore();
    trained.dispose();
    plain.dispose();
    x.dispose();
  });
});
