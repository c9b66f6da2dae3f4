/**
 * The latent ODE demo: its data generator, masked loss, a tiny end-to-end latent ODE (loss falls, memory
 * flat over epochs), the arguments, and the `--quick` preset end to end (results.json with `runs`).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { gaussianSample, neuralODE } from '../../src';
import { DEFAULTS, QUICK, runLatentDemo, settingsFromArgs } from '../../demos/latent';
import { encoderInput, generateLatentData, sliceSeries } from '../../demos/lib/latent_data';
import { buildLatentODE, klAnnealing, klWeightAt, maskedGaussianNLL, maskedMSE } from '../../demos/lib/latent_model';

describe('latent data', () => {
  const d = generateLatentData({ nSeries: 40, channels: 37, nTimes: 49, missing: 0.85, noise: 0.03, seed: 2 });

  test('Physionet shape: 37 channels × 49 increasing times in [0, 1], about 85% missing, values near [0, 1]; deterministic', () => {
    expect(d.times).toHaveLength(49);
    expect(d.times[0]).toBe(0);
    d.times.forEach((t, i) => i > 0 && expect(t).toBeGreaterThan(d.times[i - 1]));
    expect(d.times[48]).toBeLessThanOrEqual(1);
    expect(d.values).toHaveLength(40 * 49 * 37);
    const observed = d.mask.reduce((a, b) => a + b, 0) / d.mask.length;
    expect(Math.abs(observed - 0.15)).toBeLessThan(0.01);
    for (let i = 0; i < d.values.length; i++) {
      expect(Number.isNaN(d.values[i])).toBe(d.mask[i] === 0);
      expect(d.clean[i]).toBeGreaterThan(0);
      expect(d.clean[i]).toBeLessThan(1);
    }
    const again = generateLatentData({ nSeries: 40, channels: 37, nTimes: 49, missing: 0.85, noise: 0.03, seed: 2 });
    expect(Array.from(again.mask)).toEqual(Array.from(d.mask));
  });

  test('encoder input: [values (0 if missing), mask, Δt] per time; series slices', () => {
    const part = sliceSeries(d, 3, 5);
    const enc = encoderInput(part);
    const W = 2 * 37 + 1;
    expect(enc).toHaveLength(2 * 49 * W);
    for (let i = 0; i < 49; i++) {
      for (let c = 0; c < 37; c++) {
        const v = part.values[i * 37 + c];
        expect(enc[i * W + c]).toBe(Number.isNaN(v) ? 0 : Math.fround(v));
        expect(enc[i * W + 37 + c]).toBe(part.mask[i * 37 + c]);
      }
      expect(enc[i * W + 74]).toBeCloseTo(i === 0 ? 0 : d.times[i] - d.times[i - 1], 6);
    }
    expect(part.values[0]).toBe(d.values[3 * 49 * 37]);
  });
});

describe('masked Gaussian likelihood', () => {
  test('value: NLL of the observed entries only; gradient zero at unobserved ones and finite', () => {
    const yTrue = tf.tensor2d([
      [0.5, NaN],
      [NaN, 0.2],
    ]);
    const yPred = tf.tensor2d([
      [0.4, 9],
      [7, 0.5],
    ]);
    const sigma = 0.1;
    const loss = maskedGaussianNLL(sigma);
    const expected = (0.1 * 0.1 + 0.3 * 0.3) / 2 / (2 * sigma * sigma) + Math.log(sigma) + 0.5 * Math.log(2 * Math.PI);
    expect(loss(yTrue, yPred).dataSync()[0]).toBeCloseTo(expected, 4);
    const g = tf
      .grad((p: tf.Tensor) => loss(yTrue, p))(yPred)
      .dataSync();
    // d/dp (p − y)²/(2σ²·n), n = 2 observed
    expect(g[0]).toBeCloseTo(-0.1 / (sigma * sigma * 2), 3);
    expect(g[1]).toBe(0);
    expect(g[2]).toBe(0);
    expect(g[3]).toBeCloseTo(0.3 / (sigma * sigma * 2), 3);
    expect(maskedMSE([0.4, 9, 7, 0.5], new Float32Array([0.5, NaN, NaN, 0.2]))).toBeCloseTo(0.05, 6);
    tf.dispose([yTrue, yPred]);
  });

  test("KL annealing: the authors' max(0, 1 − 0.99^(epoch − wait))", () => {
    expect(klWeightAt(5, 10)).toBe(0);
    expect(klWeightAt(10, 10)).toBe(0);
    expect(klWeightAt(110, 10)).toBeCloseTo(1 - Math.pow(0.99, 100), 12);
  });
});

describe('a tiny latent ODE', () => {
  test('trains with model.fit (the loss falls), memory flat over epochs, KL weight annealed', async () => {
    const d = generateLatentData({ nSeries: 24, channels: 5, nTimes: 10, missing: 0.5, noise: 0.02, seed: 4 });
    const T = 10;
    const C = 5;
    const enc = tf.tensor3d(encoderInput(d), [24, T, 2 * C + 1]);
    const times = tf.tile(tf.tensor2d([d.times]), [24, 1]);
    const y = tf.tensor3d(d.values, [24, T, C]);
    const settings = { channels: C, latent: 4, gruUnits: 8, hidden: 16, rtol: 1e-3, atol: 1e-4, initialLogVar: -5, seed: 3 };
    const { model, ode, sampler } = buildLatentODE({ neuralODE, gaussianSample }, settings, []);
    expect(model.outputs[0].shape).toEqual([null, null, C]);
    model.compile({ optimizer: tf.train.adam(0.02), loss: maskedGaussianNLL(0.1) });
    const counts: number[] = [];
    const h = await model.fit([enc, times], y, {
      epochs: 6,
      batchSize: 12,
      verbose: 0,
      callbacks: [klAnnealing(sampler, 2), new tfl.CustomCallback({ onEpochEnd: async () => void counts.push(tf.memory().numTensors) })],
    });
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0] - 1);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(h.history.lambda_kl).toEqual([0, 0, 0, 1 - 0.99, 1 - 0.99 ** 2, 1 - 0.99 ** 3].map((x) => expect.closeTo(x, 12)));
    expect(ode.lastStats!.nfe).toBeGreaterThan(0);
    tf.dispose([enc, times, y]);
    model.dispose();
  });
});

describe('demo arguments and the --quick preset', () => {
  test('defaults, --quick, overrides and refusals', () => {
    expect(settingsFromArgs([]).settings).toEqual(DEFAULTS);
    const q = settingsFromArgs(['--quick']).settings;
    expect(q).toEqual({ ...DEFAULTS, ...QUICK, quick: true });
    const s = settingsFromArgs(['--runs', 'vanilla,error', '--epochs', '3', '--saturation', '0.001', '--out', 'x']).settings;
    expect([s.runs, s.epochs, s.saturation, s.out]).toEqual([['vanilla', 'error'], 3, 0.001, 'x']);
    expect(() => settingsFromArgs(['--runs', 'both'])).toThrow("Unknown run 'both'; choose from vanilla, error, stiffness.");
    expect(() => settingsFromArgs(['--missing', '1'])).toThrow(/--missing must be in \[0, 1\)/);
    expect(() => settingsFromArgs(['--epoch', '3'])).toThrow(/epoch/);
  });

  test('--quick runs all three and writes results.json with the issue’s fields', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'latent-'));
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await runLatentDemo({ ...settingsFromArgs(['--quick']).settings, out }, tf.getBackend());
    } finally {
      log.mockRestore();
    }
    const json = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.runs.map((r: { run: string }) => r.run)).toEqual(['vanilla', 'error', 'stiffness']);
    for (const r of json.runs) {
      for (const k of ['trainMSE', 'testMSE', 'predictionNFE', 'trainSeconds', 'predictSecondsPerBatch']) {
        expect(Number.isFinite(r[k])).toBe(true);
        expect(r[k]).toBeGreaterThan(0);
      }
      expect(r.testMSE).toBeLessThan(0.5);
    }
    for (const f of ['interpolation.svg', 'nfe.svg', 'loss.svg']) expect(fs.statSync(path.join(out, f)).size).toBeGreaterThan(1000);
    fs.rmSync(out, { recursive: true });
  }, 300000); // about 15 s on wasm, 85 s on the cpu backend of a busy 2-core machine
});
