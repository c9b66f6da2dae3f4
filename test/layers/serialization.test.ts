/** getConfig/fromConfig and model.save/tf.loadLayersModel round trips of NeuralODE models. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystem, neuralODE, NeuralODE, NeuralODEOptions, power } from '../../src';
import { maxAbsDiff } from '../support/helpers';

const OPTIONS: NeuralODEOptions = {
  tspan: [0, 0.8],
  solver: 'dopri5',
  rtol: 1e-4,
  atol: 1e-7,
  dtmin: 1e-9,
  dtmax: 0.5,
  maxSteps: 500,
  timeDependent: true,
  saveat: [0.4, 0.8],
};

function buildModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [3], units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }),
      neuralODE({
        vectorField: [
          power({ exponent: 3 }),
          tfl.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
          tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        ],
        ...OPTIONS,
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

describe('NeuralODE serialization', () => {
  test('getConfig/fromConfig round-trips every option and the vector field', () => {
    const model = buildModel();
    const layer = model.layers[1] as NeuralODE;
    const config = layer.getConfig();
    expect(config).toMatchObject({ ...OPTIONS, dt0: null });
    const vf = config.vectorField as unknown as { className: string }[];
    expect(vf.map((l) => l.className)).toEqual(['Power', 'Dense', 'Dense']);
    const copy = NeuralODE.fromConfig(NeuralODE, config) as NeuralODE;
    expect(copy.getConfig()).toEqual(config);
    model.dispose();
  });

  test('model.save -> tf.loadLayersModel through memory: identical predictions, training continues', async () => {
    const model = buildModel();
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
    const y = tf.randomNormal([5, 1], 0, 1, 'float32', 2);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    await model.fit(x, y, { epochs: 2, verbose: 0 });
    const loaded = await roundTrip(model);
    expect(loaded.layers[1]).toBeInstanceOf(NeuralODE);
    expect((loaded.layers[1] as NeuralODE).getConfig()).toEqual((model.layers[1] as NeuralODE).getConfig());
    expect(loaded.countParams()).toBe(model.countParams());
    const p0 = model.predict(x) as tf.Tensor;
    const p1 = loaded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(p0, p1)).toBe(0);
    // the loaded model trains on
    loaded.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const h = await loaded.fit(x, y, { epochs: 5, verbose: 0 });
    const loss = h.history.loss as number[];
    expect(loss[4]).toBeLessThan(loss[0]);
    tf.dispose([x, y, p0, p1]);
    model.dispose();
    loaded.dispose();
  });

  test('a model saved and loaded twice in one process keeps matching weight names', async () => {
    const model = buildModel();
    const a = await roundTrip(model);
    const b = await roundTrip(a);
    const x = tf.ones([2, 3]);
    const [p, q] = [model.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor];
    expect(maxAbsDiff(p, q)).toBe(0);
    tf.dispose([x, p, q]);
    [model, a, b].forEach((m) => m.dispose());
  });

  test('through files with the package fileSystem handler (tfjs-node file:// layout)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nde-'));
    try {
      const model = buildModel();
      await model.save(fileSystem(dir));
      expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'weights.bin'))).toBe(true);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const names = (json.weightsManifest[0].weights as { name: string }[]).map((w) => w.name);
      expect(names.some((n) => /neural_ode.*\/dense.*\/kernel/.test(n))).toBe(true);
      const loaded = await tfl.loadLayersModel(fileSystem(dir));
      const x = tf.randomNormal([4, 3], 0, 1, 'float32', 7);
      const [p, q] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
      expect(maxAbsDiff(p, q)).toBe(0);
      tf.dispose([x, p, q]);
      model.dispose();
      loaded.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
